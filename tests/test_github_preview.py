"""Pull-request preview comments: the deploy action run as the runner would, on pull_request events, against
`unkey local serve` and a local stand-in for GitHub's REST API (issue comments: list, create, update)."""

from __future__ import annotations

import html
import json
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.test_github_action import TOKEN, checkout, deploy_inputs, make_harness, server  # noqa: F401
from unkey_deploy import github_preview

MARKER = "<!-- unkey-preview: acme/api/preview -->"


@dataclass
class FakeGitHub:
    url: str = ""
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    forbidden: bool = False
    next_id: int = 1000

    def on_issue(self, number: int) -> list[dict[str, Any]]:
        return self.comments.setdefault(number, [])


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    state = FakeGitHub()
    prefix = "/api/v3"  # as on GitHub Enterprise: GITHUB_API_URL carries a path

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            url = urlparse(self.path)
            state.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._reply(401, {"message": "Bad credentials"})
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else {}
            listing = re.fullmatch(prefix + r"/repos/acme/api/issues/(\d+)/comments", url.path)
            single = re.fullmatch(prefix + r"/repos/acme/api/issues/comments/(\d+)", url.path)
            if state.forbidden and self.command != "GET":
                return self._reply(403, {"message": "Resource not accessible by integration\x1b[31m"})
            if listing and self.command == "GET":
                query = parse_qs(url.query)
                per_page, page = int(query["per_page"][0]), int(query["page"][0])
                items = state.on_issue(int(listing.group(1)))
                return self._reply(200, items[(page - 1) * per_page: page * per_page])
            if listing and self.command == "POST":
                state.next_id += 1
                comment = {"id": state.next_id, "body": body["body"]}
                state.on_issue(int(listing.group(1))).append(comment)
                return self._reply(201, comment)
            if single and self.command == "PATCH":
                for comments in state.comments.values():
                    for comment in comments:
                        if comment["id"] == int(single.group(1)):
                            comment["body"] = body["body"]
                            return self._reply(200, comment)
            return self._reply(404, {"message": "Not Found"})

        do_GET = do_POST = do_PATCH = _handle  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{http.server_address[1]}{prefix}"
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield state
    http.shutdown()
    http.server_close()


def pull_request_env(tmp_path: Path, github: FakeGitHub, number: int, head: str) -> dict[str, str]:
    event = tmp_path / f"event-{head}.json"
    event.write_text(json.dumps({"number": number, "pull_request": {"number": number, "head": {"sha": head}}}))
    return {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_API_URL": github.url,
            "GITHUB_RUN_ID": "4242"}  # fmt: skip


def preview_inputs(server_url: str, image: str) -> dict[str, str]:
    return {**deploy_inputs(server_url, image), "environment": "preview"}


def test_one_comment_per_pull_request_across_pushes_and_a_failure(tmp_path, checkout, cli_env, server, github):  # noqa: F811
    # 120 other comments first: the preview comment must be found beyond the first page
    github.comments[7] = [{"id": n, "body": f"LGTM {n}"} for n in range(1, 121)]
    harness = make_harness(tmp_path, checkout, cli_env, Path(sys.executable).parent.parent)
    heads = ["a" * 40, "b" * 40, "c" * 40]
    for head in heads:
        harness.env.update(pull_request_env(tmp_path, github, 7, head))
        run = harness.run(preview_inputs(server, f"ghcr.io/acme/api:{head[:7]}"))
        assert run.succeeded, run.raw_output()
        assert "Preview comment" in run.step("Comment the preview on the pull request").stdout
    mine = [c for c in github.comments[7] if MARKER in c["body"]]
    assert len(mine) == 1
    body = html.unescape(mine[0]["body"])  # values arrive as entities; read them as rendered
    assert "✅ Preview ready: acme/api (preview)" in body
    assert f"| Commit | {'c' * 7} |" in body and run.outputs["deployment-id"] in body
    assert f"]({run.outputs['url']})" in mine[0]["body"]
    assert "https://github.com/acme/api/actions/runs/4242" in body
    assert sum(1 for method, _, _ in github.requests if method == "POST") == 1
    assert sum(1 for method, _, _ in github.requests if method == "PATCH") == 2

    # a failed deploy updates the same comment with the failure
    harness.env.update(pull_request_env(tmp_path, github, 7, "d" * 40))
    failed = harness.run(preview_inputs(server, "ghcr.io/acme/will-fail:v1"))
    assert not failed.succeeded
    assert failed.step("Comment the preview on the pull request").exit_code == 0
    mine = [c for c in github.comments[7] if MARKER in c["body"]]
    assert len(mine) == 1 and "❌ Preview deployment failed" in mine[0]["body"]
    assert "FAILED" in mine[0]["body"] and "| Commit | ddddddd |" in html.unescape(mine[0]["body"])
    assert len(github.comments[7]) == 121
    assert all(headers.get("authorization") == f"Bearer {TOKEN}" for _, _, headers in github.requests)


def test_without_permission_a_warning_and_the_job_still_succeeds(tmp_path, checkout, cli_env, server, github):  # noqa: F811
    github.forbidden = True
    harness = make_harness(tmp_path, checkout, cli_env, Path(sys.executable).parent.parent)
    harness.env.update(pull_request_env(tmp_path, github, 9, "e" * 40))
    run = harness.run(preview_inputs(server, "ghcr.io/acme/api:v9"))
    assert run.succeeded, run.raw_output()
    step = run.step("Comment the preview on the pull request")
    warning = "::warning title=Unkey preview comment::cannot comment on pull request #9: GitHub answered 403"
    assert warning in step.stdout
    assert "pull-requests: write" in step.stdout
    assert "\x1b" not in step.stdout
    assert github.comments.get(9) == []


def test_push_events_leave_pull_requests_alone(tmp_path, checkout, cli_env, server, github):  # noqa: F811
    harness = make_harness(tmp_path, checkout, cli_env, Path(sys.executable).parent.parent)
    harness.env.update({"GITHUB_EVENT_NAME": "push", "GITHUB_API_URL": github.url})
    run = harness.run(preview_inputs(server, "ghcr.io/acme/api:v1"))
    assert run.succeeded, run.raw_output()
    assert "Not a pull request event" in run.step("Comment the preview on the pull request").stdout
    assert github.requests == []


def test_comment_body_is_escaped():
    preview = github_preview.Preview(project="acme", app="api", environment="preview", ok=False,
                                     deployment_id="d_1|<b>", status="FAILED\n", url="javascript:alert(1)")
    body = github_preview.comment_body(preview)
    assert body.startswith(MARKER)
    assert "<b>" not in body and "](javascript" not in body
    assert "d_1|<b>" in html.unescape(body)  # shown as text once rendered
