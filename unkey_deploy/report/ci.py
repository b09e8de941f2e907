"""CI integration: where a command's result goes besides the log.

- GitHub Actions (GITHUB_ACTIONS=true): step outputs in $GITHUB_OUTPUT (deployment-id, status, url,
  hostnames as a JSON array, image), a job summary in $GITHUB_STEP_SUMMARY and an `::error::`
  annotation on failure (see report.github).
- GitLab CI (GITLAB_CI=true): the same values as a dotenv report, written to $UNKEY_DOTENV
  (default `deploy.env`) for `artifacts: reports: dotenv:`; later jobs and `environment:url` read them.

Both are no-ops anywhere else. Branch and commit come from the CI's variables (see source.py).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import APIError, ExitCode, UnkeyError

if TYPE_CHECKING:
    from unkey_deploy.api.deployments import DeploymentState

DOTENV_DEFAULT = "deploy.env"

FAILED_STEP = {
    ExitCode.USAGE: "configuration",
    ExitCode.AUTH: "authentication",
    ExitCode.BUILD: "build",
    ExitCode.PUSH: "push",
    ExitCode.TIMEOUT: "waiting for ready",
    ExitCode.INTERRUPTED: "interrupted",
    ExitCode.FAILED: "deploy",
}

_published = False  # a full summary was written by this process; a later failure only annotates


def on_github(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def on_gitlab(env: Mapping[str, str]) -> bool:
    return env.get("GITLAB_CI") == "true"


def environment_url(result: Mapping[str, Any]) -> str:
    """The URL of the environment domain (the sticky one that follows the environment's latest deployment).

    Unkey names it `<project>-<app>-<environment>-<workspace>`; commit and deployment domains carry
    `-git-` or `-dep-`. Falls back to the first domain that is not one of those, then to the first domain.
    """
    from unkey_deploy.pipeline import url_for

    hostnames = [str(h) for h in result.get("hostnames") or []]
    sticky = [h for h in hostnames if "-git-" not in h and "-dep-" not in h]
    marker = f"-{result.get('environment')}"
    for hostname in sticky:
        label = hostname.split(".", 1)[0]
        if f"{marker}-" in label or label.endswith(marker):
            return url_for(hostname)
    chosen = (sticky or hostnames or [""])[0]
    return url_for(chosen) if chosen else ""


def failing_step(state: DeploymentState) -> str | None:
    """Where a deployment failed: the API's failed step, else the last step it reached before failing."""
    if state.failed_step:
        return state.failed_step
    reached = [step for step in state.steps if not step.error_message and step.status.upper() != "FAILED"]
    return reached[-1].message if reached else None


def publish_result(
    result: Mapping[str, Any], state: DeploymentState | None = None, env: Mapping[str, str] | None = None
) -> None:
    """Hand a deploy's result (pipeline.summary) to the CI the command runs in, success or failure."""
    global _published
    env = os.environ if env is None else env
    failed_step = failing_step(state) if state is not None and state.status != "READY" else None
    if on_github(env):
        from unkey_deploy.report import github

        if env.get("GITHUB_OUTPUT"):
            github.append_outputs(Path(env["GITHUB_OUTPUT"]), github.outputs_for(result, environment_url(result)))
        if env.get("GITHUB_STEP_SUMMARY"):
            github.append_summary(Path(env["GITHUB_STEP_SUMMARY"]), github.summary_markdown(result, env, failed_step))
            _published = True
    if on_gitlab(env):
        write_dotenv(Path(env.get("UNKEY_DOTENV") or DOTENV_DEFAULT), result)


def failed_step(exc: UnkeyError) -> str:
    if isinstance(exc, APIError) and exc.exit_code is ExitCode.FAILED:
        return "API request"
    return FAILED_STEP.get(exc.exit_code, "deploy")


def report_failure(exc: UnkeyError, command: str, env: Mapping[str, str] | None = None) -> None:
    """On GitHub Actions: an `::error::` annotation with the reason, and a summary if none was written."""
    env = os.environ if env is None else env
    if not on_github(env):
        return
    from unkey_deploy.report import github

    step = failed_step(exc)
    print(github.error_annotation(exc.message, f"{command} failed ({step})"), file=sys.stderr, flush=True)
    if not _published and env.get("GITHUB_STEP_SUMMARY"):
        github.append_summary(Path(env["GITHUB_STEP_SUMMARY"]), github.failure_markdown(command, step, exc.message))


def write_dotenv(path: Path, result: Mapping[str, Any]) -> None:
    """GitLab's dotenv report: KEY=value lines, one line per value, no quoting."""
    values = {
        "UNKEY_DEPLOYMENT_ID": result.get("deploymentId") or "",
        "UNKEY_DEPLOYMENT_STATUS": result.get("status") or "",
        "UNKEY_DEPLOYMENT_URL": environment_url(result),
        "UNKEY_DEPLOYMENT_HOSTNAMES": json.dumps(list(result.get("hostnames") or []), separators=(",", ":")),
        "UNKEY_DEPLOYMENT_IMAGE": result.get("image") or "",
    }
    lines = [f"{key}={' '.join(str(value).split())}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
