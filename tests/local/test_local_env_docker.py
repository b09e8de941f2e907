"""Runtime docker: an app that needs a secret starts because `unkey env set` gave it one, what it prints
shows up in `unkey logs`, and a crash shows its last lines under the deploy error."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.local.conftest import docker_engine, python_app_image, start_server

BASE = "unkey-standin/python:bookworm"
PROJECT = "envdockertest"
APP = (
    "import http.server, json, os, sys\n"
    "secret = os.environ['APP_SECRET']  # no secret: KeyError, the container exits\n"
    "print('greeting=' + os.environ.get('GREETING', 'none'), flush=True)\n"
    "print(json.dumps({'level': 'warn', 'message': 'structured line', 'secretLength': len(secret)}), flush=True)\n"
    "print('ERROR something on stderr', file=sys.stderr, flush=True)\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = os.environ['GREETING'].encode()\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "http.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n"
)

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine():
    yield from docker_engine(PROJECT, BASE)


@pytest.fixture(scope="module")
def image(engine, tmp_path_factory):
    yield from python_app_image(engine, tmp_path_factory.mktemp("envapp"), APP, "unkey-local-test/envapp:v1", BASE)


def test_a_runtime_variable_reaches_the_container_and_its_output_reaches_unkey_logs(engine, image, tmp_path,
                                                                                    run_cli):
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "30")
    try:
        def cli(*args: str, env: dict[str, str] | None = None):
            return run_cli(*args, "--project", PROJECT, "--app", "web", "--env", "preview", "--api-url", server.url,
                           "--root-key", server.root_key, env=env, timeout=180)

        crashed = cli("deploy", image)
        assert crashed.returncode == 1, crashed.stdout + crashed.stderr
        assert "KeyError: 'APP_SECRET'" in crashed.stderr.split("runtime log lines", 1)[1]

        assert cli("env", "set", "APP_SECRET", env={"APP_SECRET": "s3cret-value-42"}).returncode == 0
        assert cli("env", "set", "GREETING=hello from a runtime variable", "--recoverable").returncode == 0
        deployed = cli("deploy", image, "--output", "json")
        assert deployed.returncode == 0, deployed.stderr
        result = json.loads(deployed.stdout)
        assert httpx.get(result["urls"][0], timeout=10).text == "hello from a runtime variable"

        deadline = time.monotonic() + 20
        while True:
            logs = cli("logs")
            if logs.stdout.count("\n") >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        lines = logs.stdout.splitlines()
        assert any(line.endswith("INFO  greeting=hello from a runtime variable") for line in lines), lines
        assert any(line.endswith("WARN  structured line secretLength=15") for line in lines), lines
        assert any(line.endswith("ERROR ERROR something on stderr") for line in lines), lines
        errors = cli("logs", "--severity", "error", "--output", "json")
        assert [json.loads(line)["deployment_id"] for line in errors.stdout.splitlines()] == [result["deploymentId"]]

        container = engine.containers.get(f"unkey-local-{result['deploymentId']}")
        config = container.attrs["Config"]
        assert "s3cret-value-42" not in json.dumps([config.get("Cmd"), config.get("Entrypoint"),
                                                    container.attrs.get("Args")])
        assert "s3cret-value-42" not in Path(tmp_path / "data" / "state.db").read_bytes().decode("latin-1")
    finally:
        server.stop()
