"""`unkey deploy --git`: a deployment the platform builds from the app's connected repository
(`deployments.createDeployment` with the `git` source), followed to READY like any other.

The branch and commit default to the local git state; a commit that is not on the remote's branch is refused
before anything is sent, since the platform could not fetch it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from unkey_deploy.cli.options import Output
from unkey_deploy.errors import APIError, UnkeyError, UsageError
from unkey_deploy.source import Source

if TYPE_CHECKING:
    from unkey_deploy.config import ProjectConfig

NO_REPOSITORY_FIX = ("connect a repository with `unkey apps create --repository OWNER/NAME` (for a new app) or "
                     "the dashboard's GitHub app, then deploy again")


def git_body(project: str, app: str, environment: str, branch: str | None, commit: str | None) -> dict[str, Any]:
    from unkey_deploy.api.schemas import require_valid

    git: dict[str, Any] = {}
    if branch:
        git["branch"] = branch
    if commit:
        git["commitSha"] = commit
    return require_valid("deployments.createDeployment",
                         {"project": project, "app": app, "environment": environment, "git": git})


def check_pushed(source: Source, *, explicit_commit: bool, warn: Any) -> None:
    """Refuse a local commit the remote's branch does not contain (the platform builds from the remote)."""
    if not source.in_git or source.commit is None or explicit_commit:
        return
    if source.dirty:
        warn("the work tree has uncommitted changes; they are not part of a --git deployment")
    sha, branch = source.commit.commit_sha, source.branch
    remote = _git(source.path, "config", f"branch.{branch}.remote") or "origin"
    if not _git(source.path, "remote"):
        raise UsageError("this repository has no remote, so the platform cannot fetch it: push it to GitHub and "
                         "connect it to the app, or deploy an image instead")
    ref = f"refs/remotes/{remote}/{branch}"
    if _git(source.path, "rev-parse", "--verify", "--quiet", ref) is None:
        raise UsageError(f"branch {branch} is not on {remote} (no {remote}/{branch}): push it first "
                         f"(`git push -u {remote} {branch}`)")
    if _git(source.path, "merge-base", "--is-ancestor", sha, ref) is None:
        raise UsageError(f"commit {sha[:7]} is not pushed to {remote}/{branch}, so the platform cannot build it: "
                         f"`git push {remote} {branch}` first (or pass --commit with a pushed commit)")


def _git(path: Path, *args: str) -> str | None:
    """`git args` output, None when it fails."""
    try:
        result = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def create_git_deployment(client: Any, body: dict[str, Any]) -> str:
    """Create it; a 412 (no connected repository) says how to connect one."""
    try:
        resp = client.call("deployments.createDeployment", body, idempotent=False)
    except APIError as exc:
        if exc.status == 412:
            error = UnkeyError(f"app {body['app']} cannot be deployed from git ({exc.message}): {NO_REPOSITORY_FIX}",
                               details=exc.details)
            error.exit_code = exc.exit_code
            raise error from None
        raise
    data = resp.data if isinstance(resp.data, dict) else {}
    if not data.get("deploymentId"):
        raise UnkeyError("deployments.createDeployment answered without a deploymentId; retry, or check --api-url")
    return str(data["deploymentId"])


def run(
    names: tuple[str, str, str],
    *,
    branch: str | None,
    commit: str | None,
    local: bool,
    root_key: str | None,
    api_base_url: str | None,
    config: Path | None,
    timeout: float,
    output: Output,
    human: TextIO,
    project: Callable[[], ProjectConfig],
) -> None:
    """The whole `unkey deploy --git`: check, apply unkey.yaml's settings, create, follow, report. `project`
    reads the unkey.yaml of the working directory (once, when its settings are applied)."""
    import time

    from unkey_deploy.api.client import open_client
    from unkey_deploy.api.deployments import DeploymentsAPI
    from unkey_deploy.cli._before_deploy import before_deploy
    from unkey_deploy.cli._common import resolve_target_api
    from unkey_deploy.cli._deploy import finish
    from unkey_deploy.pipeline import Target, deploy_result, follow
    from unkey_deploy.report import close_reporter, make_reporter
    from unkey_deploy.report.summary import print_header
    from unkey_deploy.source import detect_source

    reporter = make_reporter(human)
    try:
        source = detect_source(Path.cwd(), branch=branch, commit=commit)
        check_pushed(source, explicit_commit=commit is not None, warn=reporter.warn)
        sha = source.commit.commit_sha if source.commit else None
        body = git_body(*names, source.branch, sha)
        url, key = resolve_target_api(local, root_key, api_base_url, config, reporter)
        target = Target(names[0], names[1], names[2], None, "deployments", timeout)
        label = f"git {source.branch}@{sha[:7]}" if sha else f"git {source.branch}"
        print_header(human, source, label)
        client = open_client(url, key, reporter.warn)
        try:
            before_deploy(client, names, project(), plan_port=None, set_port=False, human=human)
            started = time.monotonic()
            deployment_id = create_git_deployment(client, body)
            outcome = follow(DeploymentsAPI(client, "deployments"), deployment_id, target, reporter, started)
        finally:
            client.close()
    finally:
        close_reporter(reporter)
    built: dict[str, Any] = outcome.state.raw["docker"] if isinstance(outcome.state.raw.get("docker"), dict) else {}
    finish(deploy_result(target, source, str(built["image"]) if built.get("image") else label, outcome), output,
           human)
