"""Source: where the code comes from — git metadata from the work tree and from CI variables.

Precedence: explicit --branch/--commit > the work tree's branch and HEAD > the CI's variables (used when
HEAD is detached, as on CI runners) > defaults (branch `main`, no commit).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class GitCommit:
    """The commit a deployment is made from, as the API's gitCommit object carries it."""

    commit_sha: str
    commit_message: str | None = None
    author_handle: str | None = None
    author_avatar_url: str | None = None
    timestamp_ms: int | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"commitSha": self.commit_sha}
        for key, value in (
            ("commitMessage", self.commit_message),
            ("authorHandle", self.author_handle),
            ("authorAvatarUrl", self.author_avatar_url),
            ("timestamp", self.timestamp_ms),
        ):
            if value not in (None, ""):
                body[key] = value
        return body



@dataclass(frozen=True)
class Source:
    path: Path
    branch: str
    commit: GitCommit | None
    dirty: bool = False
    in_git: bool = False

    @property
    def short_sha(self) -> str | None:
        return self.commit.commit_sha[:7] if self.commit else None

    @classmethod
    def recorded(cls, branch: str | None, commit_sha: str | None) -> Source:
        """The source an existing deployment records (`deployments redeploy` and `wait`), not a work tree's."""
        return cls(Path.cwd(), branch or "none", GitCommit(commit_sha) if commit_sha else None)


def ci_branch(env: Mapping[str, str]) -> str | None:
    if env.get("GITHUB_ACTIONS") == "true" or "GITHUB_REF_NAME" in env:
        # GITHUB_HEAD_REF is the PR's source branch; GITHUB_REF_NAME is `123/merge` on pull requests
        return env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or None
    return env.get("CI_COMMIT_REF_NAME") or env.get("CI_COMMIT_BRANCH") or None


def ci_commit(env: Mapping[str, str]) -> str | None:
    return env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA") or None


def ci_author(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The author's handle and avatar when the CI tells us a GitHub login."""
    actor = env.get("GITHUB_ACTOR")
    if actor:
        return actor, f"https://github.com/{actor}.png"
    return env.get("GITLAB_USER_LOGIN") or None, None


def detect_source(
    path: Path,
    *,
    branch: str | None = None,
    commit: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Source:
    env = os.environ if env is None else env
    repo = _open_repo(path)
    if repo is None:
        sha = commit or ci_commit(env)
        handle, avatar = ci_author(env)
        return Source(
            path=path,
            branch=branch or ci_branch(env) or DEFAULT_BRANCH,
            commit=GitCommit(sha, author_handle=handle, author_avatar_url=avatar) if sha else None,
            in_git=False,
        )
    with repo:
        detected_branch = None if repo.head.is_detached else _safe(lambda: repo.active_branch.name)
        git_commit = _commit_info(repo, commit or ci_commit(env) if repo.head.is_detached else commit, env)
        dirty = bool(_safe(lambda: repo.is_dirty(untracked_files=True)))
    return Source(
        path=path,
        branch=branch or detected_branch or ci_branch(env) or DEFAULT_BRANCH,
        commit=git_commit,
        dirty=dirty,
        in_git=True,
    )


def _open_repo(path: Path):  # type: ignore[no-untyped-def]
    try:
        import git
    except ImportError:  # git executable missing: behave as outside a work tree
        return None
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return None


def _safe(fn: Callable[[], T]) -> T | None:
    """`fn()`, None when it raises."""
    try:
        return fn()
    except Exception:  # noqa: BLE001 - a broken or empty repository is treated as "unknown"
        return None


def _commit_info(repo, wanted: str | None, env: Mapping[str, str]) -> GitCommit | None:  # type: ignore[no-untyped-def]
    """Metadata of `wanted` (or HEAD); a sha the repository does not have is sent as-is."""
    obj = _safe(lambda: repo.commit(wanted) if wanted else repo.head.commit)
    handle, avatar = ci_author(env)
    if obj is None:
        return GitCommit(wanted, author_handle=handle, author_avatar_url=avatar) if wanted else None
    message = (obj.message or "").strip().splitlines()
    return GitCommit(
        commit_sha=obj.hexsha if not wanted or obj.hexsha.startswith(wanted) else wanted,
        commit_message=message[0][:500] if message else None,
        author_handle=handle or (obj.author.name if obj.author else None),
        author_avatar_url=avatar,
        timestamp_ms=int(obj.committed_date) * 1000,
    )
