"""SIGTERM and SIGHUP behave like Ctrl-C, on a real pseudo-terminal: the deployment ID is printed, the
cursor comes back, temporary files are removed, and the exit status is 128 + the signal (143, 129)."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import unkey_bin, write
from tests.fakeapi import envelope, serve

HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


class PtyRun:
    """A command whose stdin, stdout and stderr are one pseudo-terminal; everything it writes is kept."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = pty.openpty()
        self.process = subprocess.Popen(args, env={**env, "TERM": "xterm-256color"}, cwd=cwd, stdin=slave,
                                        stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.master = master
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the last writer closed the terminal
                return
            if not chunk:
                return
            self.chunks.append(chunk)

    @property
    def output(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")

    def finish(self, timeout: float = 30) -> tuple[int, str]:
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=5)
        os.close(self.master)
        return code, self.output


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_while_watching_prints_the_id_and_restores_the_terminal(cli_env, tmp_path, signum, code):
    with serve() as api:
        api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_running"}), {}))
        api.on("deploy.getDeployment", then=(200, envelope({"id": "d_running", "status": "DEPLOYING",
                                                            "steps": [{"status": "DEPLOYING",
                                                                       "message": "Starting"}]}), {}))
        run = PtyRun([*unkey_bin(), "deploy", "ghcr.io/acme/api:v1", "--project=acme", f"--api-url={api.url}",
                      "--root-key=unkey_k1234"], cli_env, tmp_path)
        wait_for(lambda: len(api.calls("deploy.getDeployment")) >= 2 and HIDE_CURSOR in run.output)
        run.process.send_signal(signum)
        status, output = run.finish()
    assert status == code, output
    assert "d_running keeps running" in output and "unkey deployments get d_running" in output
    assert output.rindex(SHOW_CURSOR) > output.rindex(HIDE_CURSOR), "the cursor stays hidden"
    assert "Traceback" not in output


FAKE_DOCKER = """#!/bin/sh
case "$1 $2" in
  "buildx version") echo "github.com/docker/buildx v0.12.0"; exit 0 ;;
  "version --format") echo "27.0.0"; exit 0 ;;
  "buildx build") echo "#1 [internal] load build definition from Dockerfile"; exec sleep 60 ;;
esac
exit 1
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_a_build_removes_the_secret_and_exits_like_ctrl_c(cli_env, tmp_path, signum, code):
    docker = tmp_path / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    app = write(tmp_path / "app", {"index.html": "<h1>hi</h1>\n"})
    env = {**cli_env, "TMPDIR": str(private_tmp), "SECRET_VALUE": "hunter2-value"}
    run = PtyRun([*unkey_bin(), "build", str(app), "-t", "example.test/app:1", f"--docker-bin={docker}",
                  "--var", "SECRET_VALUE"], env, tmp_path)
    wait_for(lambda: any(private_tmp.glob("unkey-secrets-*/.env")) and "load build definition" in run.output)
    run.process.send_signal(signum)
    status, output = run.finish()
    assert status == code, output
    assert "interrupted during the build" in output
    assert list(private_tmp.iterdir()) == [], "temporary files were left behind"
    assert "hunter2-value" not in output
