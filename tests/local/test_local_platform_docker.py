"""Runtime docker: an environment's settings (port, command, health check, memory and CPU) are applied to the
containers `unkey local serve` runs."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.local.conftest import docker_engine, python_app_image, start_server

BASE = "unkey-standin/python:bookworm"
PROJECT = "platformdockertest"
# Listens on a fixed port (like an app that ignores $PORT unless told), answers /healthz only when MODE is set
APP = (
    "import http.server, os, sys\n"
    "port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        ok = self.path == '/healthz' and len(sys.argv) > 2\n"
    "        body = f'port={port} env={os.environ.get(\"PORT\")} args={sys.argv[1:]}'.encode()\n"
    "        self.send_response(200 if ok or self.path != '/healthz' else 503)\n"
    "        self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "http.server.HTTPServer(('0.0.0.0', port), H).serve_forever()\n"
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine():
    yield from docker_engine(PROJECT, BASE)


@pytest.fixture(scope="module")
def image(engine, tmp_path_factory):
    context = tmp_path_factory.mktemp("platformapp")
    yield from python_app_image(engine, context, APP, "unkey-local-test/platformapp:v1", BASE)


def test_environment_settings_reach_the_container(engine, image, tmp_path, run_cli):
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "20")
    target = ("--project", PROJECT, "--app", "web", "--env", "preview")
    try:
        def cli(*args: str):
            return run_cli(*args, "--api-url", server.url, "--root-key", server.root_key, timeout=180)

        assert cli("projects", "create", "--slug", PROJECT).returncode == 0
        assert cli("apps", "create", "--project", PROJECT, "--slug", "web").returncode == 0
        changed = cli("environments", "set", *target, "--port", "5000", "--memory", "512", "--cpu", "0.5",
                      "--command", "python3 -u /app.py 5000 healthy", "--healthcheck", "GET:/healthz")
        assert changed.returncode == 0, changed.stderr
        deployed = cli("deploy", image, *target, "--output", "json")
        assert deployed.returncode == 0, deployed.stderr
        url = json.loads(deployed.stdout)["urls"][0]
        body = httpx.get(url, timeout=10).text
        assert "port=5000 env=5000" in body and "'healthy'" in body
        added = json.loads(cli("domains", "add", "web.localhost", *target, "-o", "json").stdout)
        port = int(added["dnsRecords"][0]["note"].split("http://web.localhost:")[1].split("/")[0])
        routed = httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": "web.localhost"}, timeout=10)
        assert "port=5000" in routed.text

        container = engine.containers.list(filters={"label": f"dev.unkey.local.project={PROJECT}"})[0]
        host = container.attrs["HostConfig"]
        assert host["Memory"] == 512 * 1024 * 1024 and host["NanoCpus"] == 500_000_000
        assert "5000/tcp" in container.attrs["NetworkSettings"]["Ports"]

        # without the second argument /healthz answers 503: the health check keeps it from READY
        assert cli("environments", "set", *target, "--command", "python3 -u /app.py 5000").returncode == 0
        unhealthy = cli("deploy", image, *target)
        assert unhealthy.returncode == 1
        assert "GET /healthz with a 2xx or 3xx on port 5000" in unhealthy.stderr
    finally:
        server.stop()


def test_git_deployment_is_built_from_the_connected_repository(engine, tmp_path, run_cli):
    from tests.local.test_local_platform import _git, make_repository

    remote, work = make_repository(tmp_path, {
        "app.py": APP,
        "Dockerfile": f'FROM {BASE}\nCOPY app.py /app.py\nCMD ["python3", "-u", "/app.py", "8080", "healthy"]\n',
    })
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "20")
    try:
        def cli(*args: str):
            return run_cli(*args, "--api-url", server.url, "--root-key", server.root_key, timeout=300, cwd=work)

        assert cli("projects", "create", "--slug", PROJECT).returncode == 0
        created = cli("apps", "create", "--project", PROJECT, "--slug", "gitapp", "--repository", str(remote),
                      "--default-branch", "main")
        assert created.returncode == 0, created.stderr
        deployed = cli("deploy", "--git", "--project", PROJECT, "--app", "gitapp", "--env", "preview",
                       "--output", "json")
        assert deployed.returncode == 0, deployed.stderr
        result = json.loads(deployed.stdout)
        head = _git(work, "rev-parse", "HEAD").strip()
        assert result["commit"] == head and result["branch"] == "main"
        assert result["image"].startswith(f"unkey-local/{PROJECT}-gitapp:{head[:12]}")
        assert "'healthy'" in httpx.get(result["urls"][0], timeout=10).text
    finally:
        server.stop()
        for container in engine.containers.list(all=True, filters={"label": f"dev.unkey.local.project={PROJECT}"}):
            container.remove(force=True)
        for image in engine.images.list(name=f"unkey-local/{PROJECT}-gitapp"):
            engine.images.remove(image.id, force=True)
