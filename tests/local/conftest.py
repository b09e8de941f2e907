"""Start `unkey local serve` as a real subprocess on a free port and talk to it over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import unkey_bin


@dataclass
class LocalServer:
    url: str
    root_key: str
    data_dir: Path
    process: subprocess.Popen[str]

    def call(self, operation: str, body: Any, *, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.root_key}"}
        return httpx.post(f"{self.url}/v2/{operation}", json=body, headers=headers, timeout=10)

    def wait_status(self, deployment_id: str, *statuses: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            data = self.call("deployments.getDeployment", {"deploymentId": deployment_id}).json()["data"]
            if data["status"] in statuses:
                return data
            if time.monotonic() > deadline:
                raise AssertionError(f"{deployment_id} stayed {data['status']}, wanted {statuses}")
            time.sleep(0.05)

    def stop(self) -> str:
        """SIGTERM the server and return what it wrote on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=10)
        return err


def start_server(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> LocalServer:
    process = subprocess.Popen(
        [*unkey_bin(), "local", "serve", "--port", "0", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        raise AssertionError(f"server did not start: {url!r} {process.communicate()[1]}")
    key_file = data_dir / "root_key"
    root_key = key_file.read_text().strip() if key_file.exists() else ""
    return LocalServer(url, root_key, data_dir, process)


STANDIN_PYTHON = "unkey-standin/python:bookworm"


def docker_engine(project: str, base: str = STANDIN_PYTHON) -> Iterator[Any]:
    """A module's Docker client (yield from it in a module-scoped fixture): skips with the reason when no engine
    answers or the stand-in `base` image is missing; afterwards removes the containers run for `project`."""
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except Exception as exc:
        pytest.skip(f"no Docker engine answers: {exc}")
    try:
        client.images.get(base)
    except docker.errors.ImageNotFound:
        pytest.skip(f"stand-in base image {base} is missing: run .ci/services.sh")
    yield client
    for container in client.containers.list(all=True, filters={"label": f"dev.unkey.local.project={project}"}):
        container.remove(force=True)


def python_app_image(engine: Any, context: Path, app: str, tag: str, base: str = STANDIN_PYTHON) -> Iterator[str]:
    """`app` (one Python file run as /app.py) built on `base` as `tag` (yield from it); removed afterwards."""
    (context / "app.py").write_text(app)
    (context / "Dockerfile").write_text(f'FROM {base}\nCOPY app.py /app.py\nCMD ["python3", "-u", "/app.py"]\n')
    engine.images.build(path=str(context), tag=tag, rm=True)
    yield tag
    engine.images.remove(tag, force=True)


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[Callable[..., LocalServer]]:
    """Factory: local_server("--step-delay", "0.05") starts a simulate server in a fresh data dir."""
    started: list[LocalServer] = []

    def start(*args: str, data_dir: Path | None = None) -> LocalServer:
        server = start_server(data_dir or tmp_path / "local", "--runtime", "simulate", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.communicate()


def create_image_deployment(server: LocalServer, image: str = "ghcr.io/acme/api:v1", *,
                            env: str = "production", project: str = "acme", app: str = "api") -> str:
    response = server.call(
        "deployments.createDeployment",
        {"project": project, "app": app, "environment": env, "image": {"dockerImage": image}},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["deploymentId"]
