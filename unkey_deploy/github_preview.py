"""Pull-request preview comments for the GitHub Action: one comment per pull request (and app), found by a
hidden marker, created on the first deployment and updated by every later one, failures included.

Run by the action after its deploy step (`python -m unkey_deploy.github_preview`), with the deploy step's
results in the environment. It talks to GitHub's REST API (issue comments: list, create, update) with the
workflow token at $GITHUB_API_URL, so GitHub Enterprise works too. The token needs
`pull-requests: write`; without it (or on any other GitHub error) the action prints a warning and the
job's result stays what the deployment made it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MARKER_PREFIX = "<!-- unkey-preview:"
PER_PAGE = 100
MAX_PAGES = 50
DEFAULT_API = "https://api.github.com"


class GitHubError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def marker(project: str, app: str, environment: str) -> str:
    """The hidden line that identifies this app's preview comment on a pull request."""
    return f"{MARKER_PREFIX} {_plain(project)}/{_plain(app)}/{_plain(environment)} -->"


def _plain(text: str) -> str:
    return "".join(c for c in str(text) if c.isalnum() or c in "-_.")[:100]


def pull_request_number(env: Mapping[str, str]) -> int | None:
    """The pull request a `pull_request` (or `pull_request_target`) event is about, else None."""
    if env.get("GITHUB_EVENT_NAME") not in ("pull_request", "pull_request_target"):
        return None
    try:
        with open(env.get("GITHUB_EVENT_PATH") or "", encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError):
        return None
    pr = event.get("pull_request") if isinstance(event, dict) else None
    number = (pr or {}).get("number", event.get("number") if isinstance(event, dict) else None)
    return number if isinstance(number, int) and number > 0 else None


def head_sha(env: Mapping[str, str]) -> str:
    """The pull request's head commit (GITHUB_SHA is the merge commit on pull_request events)."""
    try:
        with open(env.get("GITHUB_EVENT_PATH") or "", encoding="utf-8") as handle:
            event = json.load(handle)
        sha = event["pull_request"]["head"]["sha"]
        if isinstance(sha, str) and sha:
            return sha
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return env.get("GITHUB_SHA", "")


@dataclass(frozen=True)
class Preview:
    project: str
    app: str
    environment: str
    ok: bool  # the deploy step succeeded
    deployment_id: str = ""
    status: str = ""
    url: str = ""
    deployment_url: str = ""
    commit: str = ""
    run_url: str = ""


def _cell(text: str) -> str:
    from unkey_deploy.report.safe import markdown

    return markdown(text, 300)


def _link(url: str) -> str:
    from unkey_deploy.report.safe import markdown_link

    return markdown_link(url, url) if url else "none"


def comment_body(preview: Preview, now: datetime | None = None) -> str:
    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    where = f"{preview.project}/{preview.app} ({preview.environment})"
    if preview.ok:
        heading = f"### ✅ Preview ready: {_cell(where)}"
    else:
        heading = f"### ❌ Preview deployment failed: {_cell(where)}"
    rows = [
        ("Preview", _link(preview.url)),
        ("This deployment", _link(preview.deployment_url)),
        ("Deployment", _cell(preview.deployment_id) if preview.deployment_id else "none"),
        ("Commit", _cell(preview.commit[:7]) if preview.commit else "unknown"),
        ("Status", _cell(preview.status or ("READY" if preview.ok else "FAILED"))),
        ("Updated", when),
    ]
    lines = [marker(preview.project, preview.app, preview.environment), heading, "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    if preview.run_url:
        lines += ["", f"[Workflow run]({preview.run_url})" + ("" if preview.ok else " (the log has the reason)")]
    return "\n".join(lines) + "\n"


class GitHub:
    """The few REST calls needed: list, create and update issue comments."""

    def __init__(self, api_url: str, token: str, repository: str) -> None:
        import httpx

        self.repository = repository
        self.http = httpx.Client(
            base_url=api_url.rstrip("/"),
            timeout=20,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "unkey-deploy-action"},
        )  # fmt: skip

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        from unkey_deploy.report.safe import text as printable

        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GitHubError(f"cannot reach the GitHub API: {printable(str(exc), 200)}") from None
        if response.status_code >= 400:
            try:
                reason = str(response.json().get("message") or "")
            except ValueError:
                reason = response.text
            raise GitHubError(f"GitHub answered {response.status_code}: {printable(reason, 200)}",
                              response.status_code)  # fmt: skip
        return response.json() if response.content else None

    def comments(self, number: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            batch = self._call("GET", f"/repos/{self.repository}/issues/{number}/comments",
                               params={"per_page": PER_PAGE, "page": page})  # fmt: skip
            items = [c for c in batch or [] if isinstance(c, dict)]
            found += items
            if len(items) < PER_PAGE:
                break
        return found

    def upsert(self, number: int, body: str, tag: str) -> tuple[str, int]:
        """("created" | "updated", comment id) — the comment holding `tag`, else a new one."""
        mine = [c for c in self.comments(number) if tag in str(c.get("body") or "")]
        if mine:
            comment_id = int(mine[0]["id"])
            self._call("PATCH", f"/repos/{self.repository}/issues/comments/{comment_id}", json={"body": body})
            return "updated", comment_id
        created = self._call("POST", f"/repos/{self.repository}/issues/{number}/comments", json={"body": body})
        return "created", int((created or {}).get("id") or 0)


def preview_from_env(env: Mapping[str, str]) -> Preview:
    from unkey_deploy.verify import deployment_url

    try:
        hostnames = json.loads(env.get("PREVIEW_HOSTNAMES") or "[]")
    except ValueError:
        hostnames = []
    environment = env.get("PREVIEW_ENVIRONMENT", "preview")
    own = deployment_url([h for h in hostnames if isinstance(h, str)], environment) or ""
    server, repo, run = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID")
    return Preview(
        project=env.get("PREVIEW_PROJECT", ""),
        app=env.get("PREVIEW_APP", "default"),
        environment=environment,
        ok=env.get("PREVIEW_OUTCOME") == "success",
        deployment_id=env.get("PREVIEW_DEPLOYMENT_ID", ""),
        status=env.get("PREVIEW_STATUS", ""),
        url=env.get("PREVIEW_URL", ""),
        deployment_url=own if own != env.get("PREVIEW_URL") else "",
        commit=head_sha(env),
        run_url=f"{server}/{repo}/actions/runs/{run}" if server and repo and run else "",
    )


def warn(message: str) -> None:
    from unkey_deploy.report.safe import command_data

    print(f"::warning title=Unkey preview comment::{command_data(message)}", flush=True)


def main(env: Mapping[str, str] | None = None) -> int:
    """Comment on the pull request; always 0 (a comment never fails the job)."""
    env = os.environ if env is None else env
    number = pull_request_number(env)
    if number is None:
        print("Not a pull request event: no preview comment.")
        return 0
    token, repository = env.get("GITHUB_TOKEN", ""), env.get("GITHUB_REPOSITORY", "")
    if not token or not repository:
        warn("no GitHub token or repository: pass github-token to comment on the pull request")
        return 0
    preview = preview_from_env(env)
    github = GitHub(env.get("GITHUB_API_URL") or DEFAULT_API, token, repository)
    try:
        action, comment_id = github.upsert(number, comment_body(preview), marker(preview.project, preview.app,
                                                                                 preview.environment))  # fmt: skip
    except GitHubError as exc:
        hint = ""
        if exc.status in (403, 404):
            hint = "; the workflow token needs `permissions: pull-requests: write` to comment on pull requests"
        warn(f"cannot comment on pull request #{number}: {exc.message}{hint}")
        return 0
    finally:
        github.close()
    print(f"Preview comment {action} on pull request #{number} (comment {comment_id}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
