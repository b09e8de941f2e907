"""`unkey deploy --check` and `--rollback-on-failure` against `unkey local serve --runtime docker`: real
containers whose /healthz answers 200 or 500, the deployment's own URL and the environment's stable URL."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx
import pytest

from tests.local.conftest import docker_engine, start_server

BASE = "unkey-standin/python:bookworm"
PROJECT = "verifytest"
SERVER = (
    "import http.server, os\n"
    "RELEASE, HEALTH = os.environ['RELEASE'], int(os.environ['HEALTH'])\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        status = HEALTH if self.path == '/healthz' else 200\n"
    "        token = self.headers.get('Authorization', '')\n"
    "        body = ('release ' + RELEASE + ' ' + self.path + ' auth=' + token + '\\n\\x1b[31mred\\n').encode()\n"
    "        self.send_response(status); self.send_header('Content-Length', str(len(body))); self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self, *args): pass\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n"
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine():
    yield from docker_engine(PROJECT, BASE)


@pytest.fixture(scope="module")
def images(engine, tmp_path_factory):
    """release v1 (healthy) and v2 (its /healthz answers 500); removed afterwards."""
    built = {}
    for release, health in (("v1", 200), ("v2", 500)):
        context = tmp_path_factory.mktemp(f"app-{release}")
        (context / "server.py").write_text(SERVER)
        (context / "Dockerfile").write_text(
            f"FROM {BASE}\nCOPY server.py /server.py\nENV RELEASE={release} HEALTH={health}\n"
            'CMD ["python3", "/server.py"]\n'
        )
        tag = f"unkey-local-test/verify:{release}"
        engine.images.build(path=str(context), tag=tag, rm=True)
        built[release] = tag
    yield built
    for tag in built.values():
        with contextlib.suppress(Exception):
            engine.images.remove(tag, force=True)


def _deploy(run_cli, server, image: str, *args: str):
    return run_cli("deploy", image, f"--project={PROJECT}", "--app=web", "--env=production",
                   f"--api-url={server.url}", f"--root-key={server.root_key}", *args, timeout=180)


def test_failed_check_rolls_back_to_the_previous_release(engine, images, tmp_path, run_cli):
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "30")
    try:
        first = _deploy(run_cli, server, images["v1"], "--check", "/healthz", "--rollback-on-failure",
                        "--output=json")
        assert first.returncode == 0, first.stderr
        v1 = json.loads(first.stdout)
        assert v1["verification"]["ok"] is True
        assert v1["verification"]["checks"][0]["status"] == 200
        assert "has no current deployment to roll back to" in first.stderr
        stable = [u for u in v1["urls"] if u not in v1["verification"]["url"]][0]
        assert httpx.get(f"{stable}/", timeout=5).text.startswith("release v1")

        secret = "Bearer s3cr3t-token-value"
        second = _deploy(run_cli, server, images["v2"], "--check", "/healthz", "--check-timeout", "3",
                         "--check-interval", "0.5", "--check-header", f"Authorization: {secret}",
                         "--rollback-on-failure")
        out = second.stdout + second.stderr
        assert second.returncode == 7, out
        assert "verification failed" in second.stderr
        assert "answered 500" in second.stderr
        assert "GET /healthz → 500" in out
        assert "release v2 /healthz auth=***" in second.stderr  # the body, with the header value masked
        assert secret not in out and "s3cr3t" not in out
        assert "\x1b" not in out and "\\x1b[31mred" in second.stderr  # sanitised
        assert f"to {v1['deploymentId']}, which serves it now" in second.stderr

        # the stable per-environment URL answers from the old release again
        assert httpx.get(f"{stable}/", timeout=5).text.startswith("release v1")
        current = server.call("deployments.getDeployment", {"deploymentId": v1["deploymentId"]}).json()["data"]
        assert current["isCurrent"] is True
    finally:
        server.stop()


def test_check_passes_and_is_summarised(engine, images, tmp_path, run_cli):
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "30")
    try:
        (tmp_path / "unkey.yaml").write_text("check: [/healthz, /]\n")
        result = _deploy(run_cli, server, images["v1"])
        assert result.returncode == 0, result.stderr
        assert "Verified" in result.stdout
        assert "/healthz: 200" in result.stdout and "    /: 200" in result.stdout
    finally:
        server.stop()


def test_first_deployment_failing_its_check_is_not_rolled_back(engine, images, tmp_path: Path, run_cli):
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "30")
    try:
        result = _deploy(run_cli, server, images["v2"], "--check", "/healthz", "--check-timeout", "1",
                         "--rollback-on-failure", "--output=json")
        assert result.returncode == 7, result.stderr
        data = json.loads(result.stdout)
        assert data["verification"]["ok"] is False
        assert data["rollback"]["rolledBack"] is False
        assert "nothing to roll back to" in data["rollback"]["summary"]
    finally:
        server.stop()
