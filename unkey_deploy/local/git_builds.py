"""`deployments.createDeployment` with the `git` source on `unkey local`: the app's connected repository is
cloned at the branch (and commit) asked for and built through the same pipeline as `unkey deploy --build`, then
deployed like an image.

The repository connected with `apps.createApp` is a path to a git repository on this machine, or a GitHub
`owner/name` (fetched from https://github.com when the machine can reach it). The environment's `rootDirectory`
and `dockerfile` settings apply. Without a Docker engine the build is skipped, as for `unkey deploy --local`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from unkey_deploy.local import problems
from unkey_deploy.local.lifecycle import Controller
from unkey_deploy.local.store import Deployment, Store

log = logging.getLogger("unkey.local")
GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]+\Z")
NO_REPOSITORY = ("App {app} has no repository connected; connect one with `unkey apps create --repository` "
                 "(on unkey local: a path to a git repository on this machine, or a GitHub owner/name), or deploy "
                 "an image (the `image` source).")


class GitBuilds:
    def __init__(self, store: Store, controller: Controller) -> None:
        self.store = store
        self.controller = controller

    def create(self, body: dict[str, Any]) -> Deployment:
        """Accept the deployment (the build runs in the background), or answer the spec's 412."""
        from unkey_deploy.local.platform_api import APP, app_key

        project, app = body["project"], body["app"]
        record = self.store.get_record(APP, app_key(project, app)) or {}
        git: dict[str, Any] = record["git"] if isinstance(record.get("git"), dict) else {}
        repository = str(git.get("repository") or "")
        if not repository:
            raise problems.precondition_failed(NO_REPOSITORY.format(app=app))
        location = _location(repository)
        if location is None:
            raise problems.precondition_failed(
                f"The repository {repository} of app {app} is neither a git repository on this machine nor a "
                "GitHub owner/name; connect another one."
            )
        wanted = body.get("git") or {}
        branch = wanted.get("branch") or git.get("defaultBranch") or "main"
        sha = wanted.get("commitSha") or None
        deployment = self.store.create_deployment(
            project=project, app=app, environment=body["environment"], image=f"git:{repository}",
            branch=branch, commit_sha=sha, git_commit={"commitSha": sha} if sha else None,
        )
        threading.Thread(target=self._build, args=(deployment, location, branch, sha), daemon=True,
                         name=f"git-build-{deployment.id}").start()
        return deployment

    def _build(self, deployment: Deployment, location: str, branch: str, sha: str | None) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="unkey-local-git-"))
        try:
            self._clone_and_build(deployment, location, branch, sha, workdir / "src")
        except Exception as exc:  # noqa: BLE001 - every failure ends the deployment with its reason
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            self.store.advance(deployment.id, "failed", "Deployment failed", error_message=message,
                               error_step="building")
            log.info("%s FAILED: %s", deployment.id, message)
            return
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        fresh = self.store.get_deployment(deployment.id)
        if fresh is not None and fresh.status == "building":
            self.controller.submit(fresh)

    def _clone_and_build(self, deployment: Deployment, location: str, branch: str, sha: str | None,
                         src: Path) -> str:
        from unkey_deploy.build_stage import BuildSettings, prepare_build, run_build
        from unkey_deploy.errors import UnkeyError
        from unkey_deploy.local.platform_api import stored_settings
        from unkey_deploy.report.plain import PlainReporter
        from unkey_deploy.source import detect_source

        advance = self.store.advance
        advance(deployment.id, "building", f"Cloning {location} ({branch})")
        _git("clone", "--quiet", "--branch", branch, "--single-branch", "--", location, str(src),
             what=f"cannot clone branch {branch} of {location}")
        if sha:
            _git("-C", str(src), "checkout", "--quiet", "--detach", sha,
                 what=f"commit {sha} is not on branch {branch} of {location}")
        head = _git("-C", str(src), "rev-parse", "HEAD", what="cannot read the cloned commit").strip()
        _readable(src)
        settings = stored_settings(self.store, deployment.project, deployment.app, deployment.environment)
        root_dir = settings.get("rootDirectory")
        dockerfile = settings.get("dockerfile")
        ref = f"unkey-local/{deployment.project}-{deployment.app}:{head[:12]}".lower()
        advance(deployment.id, "building", f"Building {head[:7]} as {ref}")
        output = io.StringIO()
        build = BuildSettings(
            context=src, image=ref, root_dir=root_dir if root_dir not in (None, ".", "") else None,
            dockerfile=(src / (root_dir or ".") / dockerfile) if dockerfile else None, local=True, push=False,
        )
        try:
            prepared = prepare_build(build, detect_source(src))
            result = run_build(prepared, PlainReporter(output))
        except UnkeyError as exc:
            tail = "\n".join(output.getvalue().strip().splitlines()[-15:])
            raise UnkeyError(f"the build failed: {exc.message}" + (f"\n{tail}" if tail else "")) from None
        advance(deployment.id, "building", f"Built {result.ref}", image=result.ref, commit_sha=head)
        return result.ref


def _readable(root: Path) -> None:
    """The server runs with umask 077; a checkout's files get the modes a normal clone has (readable by all, in
    a 0700 temporary directory), so an image's non-root user can read what the build copies."""
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o044)


def _location(repository: str) -> str | None:
    path = Path(repository).expanduser()
    if path.is_absolute() and path.is_dir():
        return str(path)
    if GITHUB_NAME.match(repository):
        return f"https://github.com/{repository}.git"
    return None


def _git(*args: str, what: str) -> str:
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True, timeout=300,
                                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what}: {exc}") from None
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["git failed"])[-1]
        raise RuntimeError(f"{what}: {reason}")
    return result.stdout
