"""`unkey deploy --check` and `--rollback-on-failure` over real HTTP: a scripted API whose deployment's
domain points at a small local app that answers 200 or 500 on demand."""

from __future__ import annotations

import html
import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.fakeapi import FakeAPI, envelope, serve

IMAGE = "ghcr.io/acme/api:v2"


@dataclass
class App:
    """A local app: each GET takes the next status from `statuses` (then `then`) and records its headers."""

    port: int = 0
    statuses: deque[int] = field(default_factory=deque)
    then: int = 200
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def app() -> Iterator[App]:
    state = App()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            status = state.statuses.popleft() if state.statuses else state.then
            body = f"status {status} for {self.path}\nauth={self.headers.get('Authorization')}\n\x1b[2Jgone\n"
            data = (body + "x" * 50_000).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with serve() as fake:
        yield fake


def script_ready(api: FakeAPI, app: App, deployment_id: str = "d_new") -> None:
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": deployment_id}), {}))
    hostnames = [app.host, "acme-api-production-ws.unkey.app"]
    api.on("deploy.getDeployment", then=(200, envelope({"id": deployment_id, "status": "READY",
                                                         "hostnames": hostnames}), {}))  # fmt: skip


def public(deployment_id: str, *, current: bool, actions: list[str] | None = None) -> dict[str, Any]:
    return {"id": deployment_id, "status": "ready", "isCurrent": current, "project": "acme", "app": "api",
            "environment": "production", "availableActions": actions or [], "domains": []}  # fmt: skip


def deploy(run_cli, api: FakeAPI, *extra: str):
    return run_cli("deploy", IMAGE, "--project=acme", "--app=api", "--env=production",
                   f"--api-base-url={api.url}", "--root-key=unkey_secretroot123", *extra)


def test_check_retries_until_the_app_answers(run_cli, api, app):
    app.statuses.extend([500, 503])
    script_ready(api, app)
    result = deploy(run_cli, api, "--check", "/healthz", "--check-interval", "0.1", "--output=json")
    assert result.returncode == 0, result.stderr
    assert [path for path, _ in app.seen] == ["/healthz"] * 3
    data = json.loads(result.stdout)
    assert data["verification"] == {
        "ok": True, "url": f"http://{app.host}", "expected": "200-399",
        "checks": [{"path": "/healthz", "url": f"http://{app.host}/healthz", "ok": True, "attempts": 3,
                    "status": 200, "latencyMs": data["verification"]["checks"][0]["latencyMs"]}],
    }
    assert "GET /healthz → 500" in result.stderr and "GET /healthz → 200" in result.stderr


def test_failed_check_is_exit_7_with_a_sanitised_bounded_body_and_masked_headers(run_cli, api, app):
    app.then = 500
    script_ready(api, app)
    result = deploy(run_cli, api, "--check", "/healthz", "--check-timeout", "1", "--check-interval", "0.2",
                    "--check-header", "Authorization: Bearer tok_verysecret", "--check-header", "X-Trace: abc")
    out = result.stdout + result.stderr
    assert result.returncode == 7, out
    assert "error: verification failed: deployment d_new is ready but GET" in result.stderr
    assert "answered 500 (expected 200-399)" in result.stderr
    assert app.seen[0][1]["authorization"] == "Bearer tok_verysecret"  # the header reached the app
    assert "tok_verysecret" not in out
    assert "auth=***" in result.stderr
    assert "\x1b" not in out and "\\x1b[2Jgone" in result.stderr
    assert "x" * 300 not in out  # bounded
    assert "Deployment completed successfully" not in out


def test_check_status_range_and_auto_paths_from_unkey_yaml(run_cli, api, app, tmp_path):
    (tmp_path / "unkey.yaml").write_text("check:\n  - /ready\n  - /live\n")
    app.then = 204
    script_ready(api, app)
    result = deploy(run_cli, api, "--check", "auto", "--check-status", "204")
    assert result.returncode == 0, result.stderr
    assert [path for path, _ in app.seen] == ["/ready", "/live"]
    assert "/ready: 204" in result.stdout


def test_auto_uses_the_environment_health_check_path(run_cli, api, app):
    script_ready(api, app)
    described = public("d_new", current=True)
    described["runtime"] = {"healthcheck": {"method": "GET", "path": "/health/deep"}}
    api.on("deployments.getDeployment", then=(200, envelope(described), {}))
    result = deploy(run_cli, api, "--check", "auto")
    assert result.returncode == 0, result.stderr
    assert [path for path, _ in app.seen] == ["/health/deep"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "healthz"], "starting with /"),
        (["--check", "/x", "--check-status", "abc"], "--check-status 'abc'"),
        (["--check", "/x", "--check-header", "NoColon"], "expected 'Name: value'"),
        (["--check-header", "A: b"], "--check-header needs --check"),
        (["--check", "/x", "--detach"], "--detach does not wait"),
    ],
)
def test_bad_check_flags_are_usage_errors_before_anything_is_sent(run_cli, api, args, message):
    result = deploy(run_cli, api, *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert api.requests == []


def test_rollback_after_failed_check_puts_the_previous_deployment_back(run_cli, api, app):
    app.then = 500
    script_ready(api, app)
    api.on("deployments.listDeployments",
           (200, {**envelope([public("d_old", current=True)]), "pagination": {"hasMore": False}}, {}),
           then=(200, {**envelope([public("d_new", current=True), public("d_old", current=False)]),
                       "pagination": {"hasMore": False}}, {}))  # fmt: skip
    api.on("deployments.getDeployment",
           (200, envelope(public("d_old", current=False, actions=["rollback"])), {}),
           then=(200, envelope(public("d_old", current=True)), {}))  # fmt: skip
    api.on("deployments.rollbackDeployment", (202, envelope({}), {}))
    result = deploy(run_cli, api, "--check", "/healthz", "--check-timeout", "0.5", "--rollback-on-failure",
                    "--output=json")
    assert result.returncode == 7, result.stderr
    first_list = api.requests.index(api.calls("deployments.listDeployments")[0])
    assert first_list < api.requests.index(api.calls("deploy.createDeployment")[0])  # looked up before creating
    assert [c.body for c in api.calls("deployments.rollbackDeployment")] == [{"deploymentId": "d_old"}]
    data = json.loads(result.stdout)
    assert data["rollback"]["rolledBack"] is True and data["rollback"]["servingDeploymentId"] == "d_old"
    assert "Rolled back acme/api (production) from d_new to d_old, which serves it now." in result.stderr


def test_failed_deployment_with_the_previous_one_still_current_sends_no_rollback(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_new"}), {}))
    api.on("deploy.getDeployment", then=(200, envelope({"id": "d_new", "status": "FAILED",
                                                         "errorMessage": "crashed"}), {}))  # fmt: skip
    api.on("deployments.listDeployments",
           then=(200, {**envelope([public("d_old", current=True)]), "pagination": {"hasMore": False}}, {}))
    result = deploy(run_cli, api, "--rollback-on-failure")
    assert result.returncode == 1
    assert api.calls("deployments.rollbackDeployment") == []
    assert "Not rolled back: d_old never stopped serving acme/api (production)" in result.stderr


def test_rollback_refused_by_the_api_is_reported_and_the_exit_code_kept(run_cli, api, app):
    app.then = 500
    script_ready(api, app)
    api.on("deployments.listDeployments",
           (200, {**envelope([public("d_old", current=True)]), "pagination": {"hasMore": False}}, {}),
           then=(200, {**envelope([public("d_new", current=True)]), "pagination": {"hasMore": False}}, {}))
    api.on("deployments.getDeployment", then=(200, envelope(public("d_old", current=False)), {}))
    result = deploy(run_cli, api, "--check", "/", "--check-timeout", "0.3", "--rollback-on-failure")
    assert result.returncode == 7
    assert "Rollback to d_old FAILED" in result.stderr
    assert "unkey deployments rollback d_old --yes" in result.stderr


def test_github_job_summary_lists_the_checks_and_the_rollback(run_cli, api, app, tmp_path):
    app.then = 500
    script_ready(api, app)
    api.on("deployments.listDeployments",
           (200, {**envelope([public("d_old", current=True)]), "pagination": {"hasMore": False}}, {}),
           then=(200, {**envelope([public("d_new", current=True)]), "pagination": {"hasMore": False}}, {}))
    api.on("deployments.getDeployment",
           (200, envelope(public("d_old", current=False, actions=["rollback"])), {}),
           then=(200, envelope(public("d_old", current=True)), {}))  # fmt: skip
    api.on("deployments.rollbackDeployment", (202, envelope({}), {}))
    summary = tmp_path / "summary.md"
    result = run_cli("deploy", IMAGE, "--project=acme", "--app=api", "--env=production",
                     f"--api-base-url={api.url}", "--root-key=unkey_secretroot123", "--check", "/healthz",
                     "--check-timeout", "0.3", "--rollback-on-failure",
                     env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 7
    text = html.unescape(summary.read_text())  # server strings arrive as entities; read them as rendered
    assert "### ❌ Deployed, but verification failed: acme/api to production" in text
    assert "✅ Deployed" not in text
    assert "#### ❌ Verification failed (expected 200-399)" in text
    assert "| /healthz | ❌ | 500 |" in text
    assert "#### ↩️ Rolled back" in text and "to d_old, which serves it now" in text
    assert "::error" in result.stderr and "verification failed" in result.stderr


def test_a_malformed_domain_fails_the_check_without_a_traceback(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_new"}), {}))
    api.on("deploy.getDeployment", then=(200, envelope({"id": "d_new", "status": "READY",
                                                         "hostnames": ["bad host\x1b[2J:99999"]}), {}))  # fmt: skip
    result = deploy(run_cli, api, "--check", "/", "--check-timeout", "0.2")
    assert result.returncode == 7, result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    assert "\x1b" not in result.stderr


def test_auto_without_a_health_check_path_checks_the_root(run_cli, api, app):
    script_ready(api, app)
    api.on("deployments.getDeployment", then=(200, envelope(public("d_new", current=True)), {}))
    result = deploy(run_cli, api, "--check", "auto", "--check", "/version")
    assert result.returncode == 0, result.stderr
    assert [path for path, _ in app.seen] == ["/version", "/"]
    assert "no health check path; checking /" in result.stdout
