"""`unkey deploy --build` end to end: example app → image built with BuildKit → pushed to a registry on
127.0.0.1 → deployed on `unkey local serve` with the docker runtime → its URL answers from the app."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.local.conftest import LocalServer, start_server

pytestmark = pytest.mark.docker

EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def docker_server(tmp_path_factory, docker_engine, base_images):
    server = start_server(tmp_path_factory.mktemp("local"), "--runtime", "docker", "--health-timeout", "60")
    yield server
    server.stop()
    subprocess.run([*_unkey(), "local", "down", "--data-dir", str(server.data_dir)], capture_output=True, check=False)


def _unkey() -> list[str]:
    from tests.conftest import unkey_bin

    return unkey_bin()


def deploy(run_cli, server: LocalServer, base_images: dict[str, str], *args: str, env: dict | None = None,
           input: str | None = None):
    merged = {"UNKEY_BASE_IMAGES": json.dumps(base_images), **(env or {})}
    return run_cli("deploy", *args, "--project=e2e", f"--api-url={server.url}", f"--root-key={server.root_key}",
                   "--output=json", env=merged, input=input, timeout=900)


def deployments(server: LocalServer) -> list[dict]:
    return server.call("deployments.listDeployments", {"project": "e2e"}).json().get("data", [])


def answers(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode(errors="replace")


@pytest.mark.parametrize("example", ["python-http", "node-http", "go-http", "static-site"])
def test_build_push_deploy_and_answer(run_cli, docker_server, base_images, registry, example):
    repository = f"{registry}/e2e-{example}"
    result = deploy(run_cli, docker_server, base_images, f"{repository}:t1", "--build",
                    f"--context={EXAMPLES / example}", f"--app={example}")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "READY"
    assert data["image"].startswith(f"{repository}:t1@sha256:"), data["image"]
    tags = httpx.get(f"http://{registry}/v2/e2e-{example}/tags/list", timeout=10).json()
    assert "t1" in tags["tags"]
    body = answers(data["urls"][0])
    assert body.strip(), f"{example} answered with an empty body"


def test_directory_argument_with_local_builds_without_pushing(run_cli, docker_server, base_images):
    env = {"UNKEY_BASE_IMAGES": json.dumps(base_images), "UNKEY_LOCAL_URL": docker_server.url}
    result = run_cli("deploy", str(EXAMPLES / "python-http"), "--project=e2e", "--app=dir-arg", "--local",
                     f"--root-key={docker_server.root_key}", "--output=json", env=env, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert "@sha256:" not in data["image"]  # built into the local engine, nothing pushed
    answers(data["urls"][0])


def test_dry_run_builds_but_neither_pushes_nor_deploys(run_cli, docker_server, base_images, registry):
    before = len(deployments(docker_server))
    result = run_cli("deploy", f"{registry}/e2e-dry:t1", "--build", f"--context={EXAMPLES / 'python-http'}",
                     "--project=e2e", "--dry-run", env={"UNKEY_BASE_IMAGES": json.dumps(base_images)}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"dockerImage"' in result.stdout and f"{registry}/e2e-dry:t1" in result.stdout
    assert "FROM " in result.stdout  # the generated Dockerfile is shown
    tags = httpx.get(f"http://{registry}/v2/e2e-dry/tags/list", timeout=10)
    assert tags.status_code == 404 or "t1" not in (tags.json().get("tags") or [])
    assert len(deployments(docker_server)) == before


def test_dry_run_without_engine_prints_everything_then_exits_4(run_cli, tmp_path):
    result = run_cli("deploy", "ghcr.io/acme/api:v1", "--build", f"--context={EXAMPLES / 'python-http'}",
                     "--project=acme", "--dry-run", env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert result.returncode == 4, result.stdout + result.stderr
    assert "FROM " in result.stdout and '"dockerImage": "ghcr.io/acme/api:v1"' in result.stdout
    assert "Docker engine" in result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_registry_password_is_exit_5_and_nothing_deployed(run_cli, docker_server, base_images, auth_registry):
    address, username, _ = auth_registry
    before = len(deployments(docker_server))
    result = deploy(run_cli, docker_server, base_images, f"{address}/e2e-auth:t1", "--build",
                    f"--context={EXAMPLES / 'python-http'}", f"--registry-username={username}",
                    "--registry-password-stdin", input="definitely-wrong\n")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "definitely-wrong" not in result.stdout + result.stderr
    assert len(deployments(docker_server)) == before


def test_right_registry_password_pushes_and_deploys(run_cli, docker_server, base_images, auth_registry):
    address, username, password = auth_registry
    result = deploy(run_cli, docker_server, base_images, f"{address}/e2e-auth:t2", "--build",
                    f"--context={EXAMPLES / 'python-http'}", "--app=authed",
                    env={"UNKEY_REGISTRY_USERNAME": username, "UNKEY_REGISTRY_PASSWORD": password})
    assert result.returncode == 0, result.stdout + result.stderr
    assert password not in result.stdout + result.stderr
    assert "@sha256:" in json.loads(result.stdout)["image"]


def test_build_variables_reach_the_build_and_nothing_else(run_cli, docker_server, base_images, registry,
                                                         docker_engine, tmp_path: Path):
    app = tmp_path / "needs-secret"
    app.mkdir()
    (app / "Dockerfile").write_text(
        f"FROM {base_images['python']}\n"
        "ARG UNKEY_SECRETS_ID\n"
        "RUN --mount=type=secret,id=${UNKEY_SECRETS_ID},target=/run/secrets/.env \\\n"
        "    set -a && . /run/secrets/.env && set +a && test -n \"$API_TOKEN\" && \\\n"
        "    python3 -c 'import os,hashlib; print(hashlib.sha256(os.environ[\"API_TOKEN\"].encode()).hexdigest())'"
        " > /token.sha256\n"
        "COPY app.py /app.py\n"
        'CMD ["python3", "/app.py"]\n'
    )
    (app / "app.py").write_text(
        "import http.server, os\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        body = open('/token.sha256', 'rb').read()\n"
        "        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()\n"
        "        self.wfile.write(body)\n"
        "http.server.HTTPServer(('0.0.0.0', int(os.environ.get('PORT', '8080'))), H).serve_forever()\n"
    )
    value = 'p@ss word "quoted" = #hash\nsecond line'
    import hashlib

    result = deploy(run_cli, docker_server, base_images, f"{registry}/e2e-secret:t1", "--build",
                    f"--context={app}", "--app=secret", "--var", "API_TOKEN", "--debug",
                    env={"API_TOKEN": value})
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert answers(data["urls"][0]).strip() == hashlib.sha256(value.encode()).hexdigest()
    for fragment in ("p@ss word", "second line"):
        assert fragment not in result.stdout + result.stderr
        history = subprocess.run([docker_engine, "history", "--no-trunc", data["image"]], capture_output=True,
                                 text=True).stdout
        inspect = subprocess.run([docker_engine, "inspect", data["image"]], capture_output=True, text=True).stdout
        assert fragment not in history and fragment not in inspect
