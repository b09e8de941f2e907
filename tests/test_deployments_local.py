"""`unkey deployments ...` and `unkey deploy --api` as subprocesses against `unkey local serve` over HTTP.

The CLI talks to a recording proxy in front of the local server; the proxy can also make the `deploy.*`
routes disappear (404 route-not-found or 410), and every deploy.* and deployments.* body it sees must
match the spec's request schema.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakeapi import error
from tests.local.conftest import LocalServer, create_image_deployment, start_server
from unkey_deploy.api.schemas import check_body

ROOT_KEY = "unkey_localroot123"
GONE = {
    "404": (404, error(404, "no route /v2/deploy.createDeployment", kind="user/bad_request/route_not_found")),
    "410": (410, error(410, "deploy.* has been removed; use deployments.*", title="Gone")),
}


@dataclass
class Proxy:
    """Forwards POST /v2/* to `upstream`, recording each operation and JSON body."""

    upstream: str
    url: str = ""
    calls: list[tuple[str, Any]] = field(default_factory=list)
    gone: tuple[int, dict[str, Any]] | None = None  # the answer for every deploy.* route

    def bodies(self, operation: str) -> list[Any]:
        return [body for op, body in self.calls if op == operation]

    def operations(self) -> list[str]:
        return [op for op, _ in self.calls]

    def reset(self) -> None:
        self.calls.clear()
        self.gone = None

    def invalid_bodies(self) -> list[str]:
        return [
            f"{op}: {problem}"
            for op, body in self.calls
            if op.startswith(("deploy.", "deployments."))
            for problem in check_body(op, body)
        ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data_dir = tmp_path_factory.mktemp("local")
    local = start_server(data_dir, "--runtime", "simulate", "--allow-any-key", "--step-delay", "0.02")
    local.root_key = ROOT_KEY
    yield local
    local.stop()


@pytest.fixture(scope="module")
def shared_proxy(server: LocalServer) -> Iterator[Proxy]:
    proxy = Proxy(server.url)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = self.path.removeprefix("/v2/")
            proxy.calls.append((operation, json.loads(raw) if raw else None))
            if proxy.gone and operation.startswith("deploy."):
                status, payload = proxy.gone
                data = json.dumps(payload).encode()
            else:
                headers = {"Authorization": self.headers.get("Authorization", ""), "Content-Type": "application/json"}
                upstream = httpx.post(proxy.upstream + self.path, content=raw, headers=headers, timeout=10)
                status, data = upstream.status_code, upstream.content
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{http.server_address[1]}"
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield proxy
    http.shutdown()
    http.server_close()


@pytest.fixture
def proxy(shared_proxy: Proxy) -> Iterator[Proxy]:
    shared_proxy.reset()
    yield shared_proxy
    assert shared_proxy.invalid_bodies() == []


@pytest.fixture
def unkey(run_cli, proxy: Proxy):
    def run(*args: str, **kwargs: Any):
        env = {"UNKEY_API_BASE_URL": proxy.url, "UNKEY_ROOT_KEY": ROOT_KEY, **kwargs.pop("env", {})}
        return run_cli(*args, env=env, input=kwargs.pop("input", ""), **kwargs)

    return run


def deployed(server: LocalServer, project: str, image: str = "ghcr.io/acme/api:v1", *, env: str = "production",
             app: str = "api", status: str = "ready") -> str:
    deployment_id = create_image_deployment(server, image, env=env, project=project, app=app)
    server.wait_status(deployment_id, status)
    return deployment_id


def state(server: LocalServer, deployment_id: str) -> dict[str, Any]:
    return server.call("deployments.getDeployment", {"deploymentId": deployment_id}).json()["data"]


def wait_current(server: LocalServer, deployment_id: str) -> None:
    for _ in range(100):
        if state(server, deployment_id)["isCurrent"]:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"{deployment_id} never became current")


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


# list


def test_list_filters_and_follows_every_page(server, proxy, unkey):
    prod = [deployed(server, "listing", f"ghcr.io/acme/api:v{n}") for n in range(3)]
    failed = deployed(server, "listing", "ghcr.io/acme/fail:v1", status="failed")
    preview = deployed(server, "listing", "ghcr.io/acme/api:pr1", env="preview")
    deployed(server, "listing", "ghcr.io/acme/web:v1", app="web")

    result = unkey("deployments", "list", "--project=listing", "--app=api", "--env=production", "--limit=2",
                   "--all", "--output=json")
    assert result.returncode == 0, result.stderr
    assert [d["id"] for d in json.loads(result.stdout)] == [failed, *reversed(prod)]
    pages = proxy.bodies("deployments.listDeployments")
    assert len(pages) == 2 and "cursor" not in pages[0] and pages[1]["cursor"]
    assert pages[0] == {"project": "listing", "app": "api", "environment": "production", "limit": 2}

    only_failed = unkey("deployments", "list", "--project=listing", "--status=failed", "--output=json")
    assert [d["id"] for d in json.loads(only_failed.stdout)] == [failed]
    assert proxy.bodies("deployments.listDeployments")[-1]["status"] == ["failed"]

    table = unkey("deployments", "list", "--project=listing", "--app=api")
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()
    assert rows[0].split() == ["ID", "STATUS", "ENVIRONMENT", "SOURCE", "AGE"]
    assert [row.split()[0] for row in rows[1:6]] == [preview, failed, "*", prod[1], prod[0]]
    current = next(row for row in rows if row.startswith("*"))
    assert prod[2] in current and "ghcr.io/acme/api:v2" in current and "production" in current


def test_list_without_all_prints_the_cursor_for_the_next_page(server, proxy, unkey):
    ids = [deployed(server, "paging", f"ghcr.io/acme/api:v{n}", env="preview") for n in range(3)]
    first = unkey("deployments", "list", "--project=paging", "--limit=2", "--output=json")
    assert first.returncode == 0, first.stderr
    assert [d["id"] for d in json.loads(first.stdout)] == ids[:0:-1]
    cursor = first.stderr.split("--cursor=")[1].split()[0]
    rest = unkey("deployments", "list", "--project=paging", "--limit=2", f"--cursor={cursor}", "--output=json")
    assert [d["id"] for d in json.loads(rest.stdout)] == ids[:1]
    assert "--cursor" not in rest.stderr


def test_a_cursor_the_server_rejects_is_one_line(proxy, unkey):
    result = unkey("deployments", "list", "--cursor=not-a-cursor")
    assert result.returncode == 2
    assert "rejected --cursor=not-a-cursor" in one_error_line(result)
    assert proxy.bodies("deployments.listDeployments") == [{"cursor": "not-a-cursor"}]


# get


def test_get_shows_everything_with_domains_as_urls(server, proxy, unkey):
    deployment_id = deployed(server, "getting", "ghcr.io/acme/api:v9", env="preview")
    data = state(server, deployment_id)
    text = unkey("deployments", "get", deployment_id)
    assert text.returncode == 0, text.stderr
    assert f"Deployment {deployment_id}" in text.stdout
    for line in ("Status: ready", "Environment: preview", "Image: ghcr.io/acme/api:v9", "Actions: stop",
                 "port: 8080", f"http://{data['domains'][0]}"):
        assert line in text.stdout

    as_json = json.loads(unkey("deployments", "get", deployment_id, "--output=json").stdout)
    assert {k: v for k, v in as_json.items() if k != "urls"} == {**data, "updatedAt": as_json["updatedAt"]}
    assert as_json["urls"] == [f"http://{data['domains'][0]}"]
    assert proxy.bodies("deployments.getDeployment") == [{"deploymentId": deployment_id}] * 2


def test_unknown_id_is_one_line(proxy, unkey):
    result = unkey("deployments", "get", "d_doesnotexist")
    assert result.returncode == 1
    assert "deployment d_doesnotexist not found" in one_error_line(result)

    action = unkey("deployments", "promote", "d_doesnotexist", "--yes")
    assert action.returncode == 1
    assert "promoteDeployment" not in " ".join(proxy.operations())


# promote, rollback, stop, start


def test_rollback_pins_the_target_until_a_promote(server, proxy, unkey):
    old = deployed(server, "rolling")
    new = deployed(server, "rolling", "ghcr.io/acme/api:v2")
    wait_current(server, new)

    result = unkey("deployments", "rollback", old, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"Rolled back rolling/api (production) from {new} to {old}" in result.stdout
    assert proxy.bodies("deployments.rollbackDeployment") == [{"deploymentId": old}]
    assert state(server, old)["isCurrent"] and not state(server, new)["isCurrent"]

    newest = deployed(server, "rolling", "ghcr.io/acme/api:v3")
    assert not state(server, newest)["isCurrent"]  # rolled back: new deployments stay off live traffic

    promoted = unkey("deployments", "promote", newest, "--yes", "--output=json")
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout) == {
        "action": "promote", "deploymentId": newest, "status": "ready", "isCurrent": True,
        "previousStatus": "ready", "previousCurrent": old,
    }
    assert state(server, newest)["isCurrent"]


def test_stop_and_start_a_preview(server, proxy, unkey):
    preview = deployed(server, "stopping", env="preview")
    stopped = unkey("deployments", "stop", preview, "--yes")
    assert stopped.returncode == 0, stopped.stderr
    assert f"{preview} is now stopped (was ready)" in stopped.stdout
    assert state(server, preview)["status"] == "stopped"

    started = unkey("deployments", "start", preview, "--yes")
    assert started.returncode == 0, started.stderr
    assert f"{preview} is now ready (was stopped)" in started.stdout
    assert proxy.bodies("deployments.stopDeployment") == proxy.bodies("deployments.startDeployment") == [
        {"deploymentId": preview}
    ]


@pytest.mark.parametrize("action,target,message", [
    ("rollback", "current", "is the current deployment of refusing/api and cannot be rolled back to"),
    ("promote", "current", "is already the current deployment"),
    ("stop", "current", "stop is for preview deployments"),
    ("promote", "preview", "promote is for production deployments"),
    ("start", "preview", "only a stopped deployment can be started"),
])
def test_an_action_the_deployment_does_not_allow_sends_nothing(server, proxy, unkey, action, target, message):
    ids = {"current": deployed(server, "refusing"), "preview": deployed(server, "refusing", env="preview")}
    wait_current(server, ids["current"])
    result = unkey("deployments", action, ids[target], "--yes")
    assert result.returncode == 1
    assert message in one_error_line(result)
    assert proxy.operations() == ["deployments.getDeployment"]


def test_without_a_terminal_yes_is_required_and_nothing_is_sent(proxy, unkey):
    for action in ("promote", "rollback", "stop", "start"):
        result = unkey("deployments", action, "d_abc123", env={"CI": "true"})
        assert result.returncode == 2
        assert "pass --yes" in one_error_line(result)
    assert proxy.calls == []


# redeploy


def test_redeploy_shows_progress_and_summary_like_deploy(server, proxy, unkey):
    original = deployed(server, "again", "ghcr.io/acme/api:v5", env="preview")
    result = unkey("deployments", "redeploy", original)
    assert result.returncode == 0, result.stderr
    body = proxy.bodies("deployments.createDeployment")[0]
    assert body == {"project": "again", "app": "api", "environment": "preview",
                    "deployment": {"deploymentId": original}}
    new_id = result.stdout.split("Deployment ID: ")[1].split()[0]
    assert new_id != original and state(server, new_id)["docker"]["image"] == "ghcr.io/acme/api:v5"
    for text in ("Deployment Progress", "Image: ghcr.io/acme/api:v5", f"✓ Deployment created: {new_id}",
                 "✓ Deployment completed successfully", "Status: Ready", "http://"):
        assert text in result.stdout

    as_json = unkey("deployments", "redeploy", original, "--env=staging", "--output=json")
    data = json.loads(as_json.stdout)
    assert data["redeployOf"] == original and data["status"] == "READY" and data["environment"] == "staging"
    assert proxy.bodies("deployments.createDeployment")[-1]["environment"] == "staging"


# unkey deploy --api and the fallback


@pytest.mark.parametrize("gone", sorted(GONE))
def test_deploy_falls_back_when_deploy_routes_are_gone(proxy, unkey, gone):
    proxy.gone = GONE[gone]
    result = unkey("deploy", "ghcr.io/acme/api:v1", "--project=fallback", "--app=api", "--env=production",
                   "--output=json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("deploy.createDeployment is gone") == 1
    assert proxy.bodies("deployments.createDeployment") == [{
        "project": "fallback", "app": "api", "environment": "production",
        "image": {"dockerImage": "ghcr.io/acme/api:v1"},
    }]
    assert proxy.operations().count("deploy.createDeployment") == 1
    assert "deploy.getDeployment" not in proxy.operations()
    assert proxy.bodies("deployments.getDeployment")
    assert json.loads(result.stdout)["status"] == "READY"


def test_deploy_api_deployments_uses_the_public_api_only(proxy, unkey):
    result = unkey("deploy", "ghcr.io/acme/api:v1", "--project=direct", "--env=preview", "--api=deployments")
    assert result.returncode == 0, result.stderr
    assert {op.split(".")[0] for op in proxy.operations()} == {"deployments"}
    assert "is gone" not in result.stderr


def test_no_fallback_on_a_404_for_a_missing_project(run_cli, tmp_path: Path):
    server = start_server(tmp_path / "strict", "--runtime", "simulate", "--allow-any-key", "--projects", "acme")
    server.root_key = ROOT_KEY
    try:
        result = run_cli("deploy", "ghcr.io/acme/api:v1", "--project=unknown", f"--api-url={server.url}",
                         f"--root-key={ROOT_KEY}", input="")
        before = server.call("deployments.listDeployments", {}).json()["data"]
    finally:
        server.stop()
    assert result.returncode == 1
    assert "The project unknown does not exist" in one_error_line(result)
    assert "is gone" not in result.stderr and before == []
