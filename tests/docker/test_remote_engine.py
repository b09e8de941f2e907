"""Builds on a remote Docker engine (DOCKER_HOST=tcp://127.0.0.1:PORT), for real.

A second dockerd is started with its own data root, exec root, pid file, loopback TCP socket and a
bridge of its own (created with `ip link`; `--bridge=none` would delete the host's docker0 on dockerd
20.10), without touching iptables; everything is removed afterwards. The image must end up in that
engine and not in the local one, with the build context and the secret having crossed to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.local.conftest import LocalServer, start_server

pytestmark = pytest.mark.docker

EXAMPLES = REPO / "examples"
SECRET = "remote-s3cret value"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RemoteEngine:
    host: str  # tcp://127.0.0.1:PORT
    directory: Path
    bridge: str
    process: subprocess.Popen[bytes]

    def docker(self, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", "-H", self.host, *args], capture_output=True, text=True, **kwargs)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        shutil.rmtree(self.directory, ignore_errors=True)


def _skip_unless_root_tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("a second dockerd needs root (it creates a bridge and mounts its storage)")
    for tool in ("dockerd", "ip", "docker"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed; a second Docker engine cannot be started")


@pytest.fixture(scope="module")
def remote_engine(docker_engine: str, base_images: dict[str, str]) -> Iterator[RemoteEngine]:
    _skip_unless_root_tools()
    directory = Path(tempfile.mkdtemp(prefix="unkey-remote-dockerd-"))
    (directory / "daemon.json").write_text("{}")
    bridge = f"unkeyrm{os.getpid() % 100000}"
    subnet = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}.1/24"
    setup = (["ip", "link", "add", "name", bridge, "type", "bridge"], ["ip", "addr", "add", subnet, "dev", bridge],
             ["ip", "link", "set", bridge, "up"])  # fmt: skip
    for command in setup:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            subprocess.run(["ip", "link", "del", bridge], capture_output=True)
            shutil.rmtree(directory, ignore_errors=True)
            pytest.skip(f"cannot create a bridge for a second engine: {result.stderr.strip()}")
    host = f"tcp://127.0.0.1:{_free_port()}"
    log = (directory / "dockerd.log").open("wb")
    process = subprocess.Popen(
        ["dockerd", "--config-file", str(directory / "daemon.json"), "--data-root", str(directory / "data"),
         "--exec-root", str(directory / "exec"), "--pidfile", str(directory / "docker.pid"), "-H", host,
         "--bridge", bridge, "--iptables=false", "--ip-masq=false"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    engine = RemoteEngine(host, directory, bridge, process)
    deadline = time.monotonic() + 90
    while engine.docker("version", "--format", "{{.Server.Version}}").returncode != 0:
        if process.poll() is not None or time.monotonic() > deadline:
            tail = (directory / "dockerd.log").read_text(errors="replace")[-400:]
            engine.stop()
            pytest.skip(f"a second dockerd did not start: {tail}")
        time.sleep(0.5)
    try:
        for image in sorted({base_images["python"], base_images["debian"]}):
            saved = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            loaded = subprocess.run(["docker", "-H", host, "load"], stdin=saved.stdout, capture_output=True)
            saved.wait()
            assert loaded.returncode == 0, loaded.stderr
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="module")
def docker_server(tmp_path_factory, docker_engine, base_images) -> Iterator[LocalServer]:
    server = start_server(tmp_path_factory.mktemp("local"), "--runtime", "docker", "--health-timeout", "60")
    yield server
    server.stop()


def _secret_app(directory: Path, base: str) -> Path:
    directory.mkdir()
    (directory / "Dockerfile").write_text(
        f"FROM {base}\n"
        "ARG UNKEY_SECRETS_ID\n"
        "RUN --mount=type=secret,id=${UNKEY_SECRETS_ID},target=/run/secrets/.env \\\n"
        "    set -a && . /run/secrets/.env && set +a && \\\n"
        "    printf %s \"$API_TOKEN\" | sha256sum | cut -d' ' -f1 > /token.sha256\n"
        "COPY context-marker.txt /context-marker.txt\n"
    )
    (directory / "context-marker.txt").write_text("crossed to the remote engine\n")
    return directory


def _read_file(engine: RemoteEngine, image: str, path: str) -> str:
    container = engine.docker("create", image, "true", check=True).stdout.strip()
    try:
        return engine.docker("cp", f"{container}:{path}", "-", check=True).stdout
    finally:
        engine.docker("rm", container)


def test_build_and_push_happen_on_the_remote_engine(run_cli, remote_engine, base_images, registry, tmp_path):
    app = _secret_app(tmp_path / "app", base_images["debian"])
    ref = f"{registry}/remote-engine-secret:{os.getpid()}"
    result = run_cli("build", str(app), "-t", ref, "--push", "--var", "API_TOKEN",
                     env={"DOCKER_HOST": remote_engine.host, "API_TOKEN": SECRET}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert result.stdout.strip().startswith(f"{ref}@sha256:")
    assert remote_engine.docker("image", "inspect", ref).returncode == 0, "not built on the remote engine"
    local = subprocess.run(["docker", "image", "inspect", ref], capture_output=True, env={
        k: v for k, v in os.environ.items() if k != "DOCKER_HOST"})  # fmt: skip
    assert local.returncode != 0, "the image was built on the local engine"
    tar = _read_file(remote_engine, ref, "/token.sha256")
    assert hashlib.sha256(SECRET.encode()).hexdigest() in tar
    assert "crossed to the remote engine" in _read_file(remote_engine, ref, "/context-marker.txt")
    history = remote_engine.docker("history", "--no-trunc", ref, check=True).stdout
    assert SECRET not in history and SECRET not in remote_engine.docker("image", "inspect", ref).stdout


def test_deploy_built_on_the_remote_engine(run_cli, remote_engine, docker_server, base_images, registry):
    name = "remote-engine-python"
    result = run_cli(
        "deploy", f"{registry}/{name}:t1", "--build", f"--context={EXAMPLES / 'python-http'}", f"--app={name}",
        "--project=remote", f"--api-url={docker_server.url}", f"--root-key={docker_server.root_key}", "--output=json",
        env={"DOCKER_HOST": remote_engine.host, "UNKEY_BASE_IMAGES": json.dumps(base_images)}, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "READY" and "@sha256:" in data["image"]
    assert remote_engine.docker("image", "inspect", f"{registry}/{name}:t1").returncode == 0


@pytest.mark.parametrize("how", ["refused", "unresolvable"])
def test_unreachable_remote_engine_is_one_line_exit_4(run_cli, how):
    host = f"tcp://127.0.0.1:{_free_port()}" if how == "refused" else "tcp://no-such-engine.invalid:2375"
    result = run_cli("build", str(EXAMPLES / "python-http"), "-t", "acme/api:v1", env={"DOCKER_HOST": host},
                     timeout=120)  # fmt: skip
    assert result.returncode == 4, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    progress = ("building with", "Build context:")  # what the build says before it reaches the engine
    assert all(line.startswith(progress) or line in errors for line in lines), result.stderr
    assert f"cannot reach the Docker engine at DOCKER_HOST={host}" in errors[0]
    assert "Traceback" not in result.stderr
