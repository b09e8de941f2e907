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
from typing import TYPE_CHECKING

from unkey_deploy.errors import APIError, ExitCode, UnkeyError
from unkey_deploy.report import shown_status
from unkey_deploy.report.urls import environment_url

if TYPE_CHECKING:
    from unkey_deploy.pipeline import DeployResult
    from unkey_deploy.recovery import Recovery
    from unkey_deploy.verify import Verification

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


def publish_result(result: DeployResult, env: Mapping[str, str] | None = None) -> None:
    """Hand a deploy's result to the CI the command runs in, success or failure."""
    global _published
    env = os.environ if env is None else env
    if on_github(env):
        from unkey_deploy.report import github

        url = environment_url(result.hostnames, result.environment)
        if env.get("GITHUB_OUTPUT"):
            github.append_outputs(Path(env["GITHUB_OUTPUT"]), github.outputs_for(result, url))
        if env.get("GITHUB_STEP_SUMMARY"):
            github.append_summary(Path(env["GITHUB_STEP_SUMMARY"]),
                                  github.summary_markdown(result, env, result.failed_step))  # fmt: skip
            _published = True
    if on_gitlab(env):
        write_dotenv(Path(env.get("UNKEY_DOTENV") or DOTENV_DEFAULT), result)


def publish_checks(verification: Verification | None, recovery: Recovery | None,
                   env: Mapping[str, str] | None = None) -> None:  # fmt: skip
    """On GitHub Actions: the verification results and the rollback in the job summary."""
    from unkey_deploy.verify import summary_markdown

    env = os.environ if env is None else env
    target = env.get("GITHUB_STEP_SUMMARY")
    if not on_github(env) or not target:
        return
    text = summary_markdown(verification, recovery)
    if text:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)


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


def write_dotenv(path: Path, result: DeployResult) -> None:
    """GitLab's dotenv report: KEY=value lines, one line per value, no quoting."""
    values = {
        "UNKEY_DEPLOYMENT_ID": result.deployment_id or "",
        "UNKEY_DEPLOYMENT_STATUS": shown_status(result.status) if result.status else "",
        "UNKEY_DEPLOYMENT_URL": environment_url(result.hostnames, result.environment),
        "UNKEY_DEPLOYMENT_HOSTNAMES": json.dumps(list(result.hostnames), separators=(",", ":")),
        "UNKEY_DEPLOYMENT_IMAGE": result.image or "",
    }
    lines = [f"{key}={' '.join(str(value).split())}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
