"""Runtime docker: a tiny image built on a stand-in base runs, answers on localhost, and is cleaned up."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.local.conftest import docker_engine, start_server

BASE = "unkey-standin/python:bookworm"
SERVER = (
    "import http.server, os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = ('hello from port ' + os.environ['PORT']).encode()\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n"
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine():
    yield from docker_engine("dockertest", BASE)


def build(engine, tmp_path: Path, tag: str, cmd: str) -> str:
    context = tmp_path / tag.replace(":", "_").replace("/", "_")
    context.mkdir()
    (context / "server.py").write_text(SERVER)
    (context / "Dockerfile").write_text(f"FROM {BASE}\nCOPY server.py /server.py\nCMD {cmd}\n")
    engine.images.build(path=str(context), tag=tag, rm=True)
    return tag


def deploy(server, image: str, env: str = "preview") -> str:
    body = {"project": "dockertest", "app": "web", "branch": "main", "environmentSlug": env,
            "dockerImage": image}
    response = server.call("deploy.createDeployment", body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["deploymentId"]


def wait_done(server, deployment_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = server.call("deploy.getDeployment", {"deploymentId": deployment_id}).json()["data"]
        if data["status"] in ("READY", "FAILED"):
            return data
        time.sleep(0.1)
    raise AssertionError(f"{deployment_id} did not finish")


def test_image_runs_answers_on_localhost_and_is_listed(engine, tmp_path, run_cli):
    image = build(engine, tmp_path, "unkey-local-test/hello:v1", '["python3", "/server.py"]')
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "30")
    try:
        deployment_id = deploy(server, image)
        data = wait_done(server, deployment_id)
        assert data["status"] == "READY", data
        assert [s["status"] for s in data["steps"]] == ["pending", "deploying", "network", "ready"]
        host = data["hostnames"][0]
        assert host.startswith("localhost:")
        response = httpx.get(f"http://{host}/", timeout=5)
        assert response.text == "hello from port 8080"

        listed = run_cli("local", "ps", "--output", "json", "--data-dir", str(server.data_dir))
        assert listed.returncode == 0, listed.stderr
        mine = [c for c in json.loads(listed.stdout) if c["deployment_id"] == deployment_id]
        assert mine and mine[0]["state"] == "running" and mine[0]["url"] == f"http://{host}"

        # Another data dir's control plane neither lists nor removes this server's container.
        other = tmp_path / "other-data"
        listed = run_cli("local", "ps", "--output", "json", "--data-dir", str(other))
        assert deployment_id not in listed.stdout
        untouched = run_cli("local", "down", "--data-dir", str(other))
        assert untouched.returncode == 0 and "removed 0 containers" in untouched.stdout
        assert httpx.get(f"http://{host}/", timeout=5).status_code == 200

        removed = run_cli("local", "down", "--deployment", deployment_id, "--data-dir", str(server.data_dir))
        assert removed.returncode == 0 and "removed 1 container" in removed.stdout
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://{host}/", timeout=2)
    finally:
        server.stop()


def test_crash_pull_failure_and_health_timeout_fail_with_reasons(engine, tmp_path):
    crash = build(engine, tmp_path, "unkey-local-test/crash:v1",
                  '["sh", "-c", "echo missing DATABASE_URL >&2; exit 3"]')
    silent = build(engine, tmp_path, "unkey-local-test/silent:v1", '["sleep", "600"]')
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "2")
    try:
        crashed = wait_done(server, deploy(server, crash))
        assert crashed["status"] == "FAILED"
        assert "exited with code 3" in crashed["errorMessage"] and "missing DATABASE_URL" in crashed["errorMessage"]

        unpullable = wait_done(server, deploy(server, "127.0.0.1:1/nothing/here:v1"))
        assert unpullable["status"] == "FAILED" and "cannot pull image" in unpullable["errorMessage"]

        timed_out = wait_done(server, deploy(server, silent))
        assert timed_out["status"] == "FAILED" and "within 2s" in timed_out["errorMessage"]
    finally:
        server.stop()


def test_production_deployment_answers_on_the_stable_url(engine, tmp_path):
    image = build(engine, tmp_path, "unkey-local-test/hello:v2", '["python3", "/server.py"]')
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "30")
    try:
        data = wait_done(server, deploy(server, image, env="production"))
        assert data["status"] == "READY", data
        own, stable = data["hostnames"]
        assert own != stable
        assert httpx.get(f"http://{stable}/", timeout=5).text == "hello from port 8080"
    finally:
        server.stop()
