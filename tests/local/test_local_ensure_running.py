"""`ensure_running`: start a control plane in the background once, then reuse it."""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx

from unkey_deploy.local import ensure_running
from unkey_deploy.report import Reporter


class Notes(Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_starts_once_then_reuses(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    data_dir = tmp_path / "local"
    notes = Notes()
    endpoint = ensure_running(url, data_dir=data_dir, reporter=notes)
    pid = int((data_dir / "server.lock").read_text().split()[0])
    try:
        assert endpoint.url == url
        assert endpoint.root_key == (data_dir / "root_key").read_text().strip()
        assert len(notes.lines) == 1 and "runtime" in notes.lines[0] and "server.log" in notes.lines[0]
        response = httpx.post(f"{url}/v2/deployments.listDeployments", json={},
                              headers={"Authorization": f"Bearer {endpoint.root_key}"})
        assert response.status_code == 200

        again = Notes()
        assert ensure_running(url, data_dir=data_dir, reporter=again) == endpoint
        assert again.lines == [] and int((data_dir / "server.lock").read_text().split()[0]) == pid
    finally:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while (data_dir / "server.lock").read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (data_dir / "server.lock").read_text() == ""
    assert "stopped" in (data_dir / "server.log").read_text()
