"""Where the local control plane lives: its data directory, its root key, and starting it on demand."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from unkey_deploy.config import DEFAULT_LOCAL_URL
from unkey_deploy.errors import UnkeyError, UsageError
from unkey_deploy.report import Reporter

ROOT_KEY_FILE = "root_key"
LOG_FILE = "server.log"
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class LocalEndpoint:
    url: str
    root_key: str


def default_data_dir() -> Path:
    return Path(os.environ.get("UNKEY_LOCAL_DATA_DIR") or Path.home() / ".unkey" / "local").expanduser()


def default_url() -> str:
    return (os.environ.get("UNKEY_LOCAL_URL") or DEFAULT_LOCAL_URL).rstrip("/")


def load_or_create_root_key(data_dir: Path) -> tuple[str, bool]:
    """The root key stored in the data dir (mode 0600), created on first use. Returns (key, created)."""
    path = data_dir / ROOT_KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key, False
    data_dir.mkdir(parents=True, exist_ok=True)
    key = "unkey_local_" + secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(key + "\n")
    return key, True


def is_answering(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/v2/liveness", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def ensure_running(
    url: str | None = None,
    *,
    data_dir: Path | None = None,
    reporter: Reporter | None = None,
    root_key: str | None = None,
) -> LocalEndpoint:
    """Reuse the control plane answering at `url`, or start one in the background and wait for it.

    The background server runs the docker runtime when an engine answers, else simulate, and logs to
    `<data dir>/server.log`. `root_key`, when given, is used instead of the key in the data dir.
    """
    url = (url or default_url()).rstrip("/")
    data_dir = data_dir or default_data_dir()
    reporter = reporter or Reporter()
    if not is_answering(url):
        _start(url, data_dir, reporter)
    if root_key:
        return LocalEndpoint(url, root_key)
    key_path = data_dir / ROOT_KEY_FILE
    try:
        key = key_path.read_text(encoding="utf-8").strip()
    except OSError:
        key = ""
    if not key:
        raise UsageError(
            f"a local control plane answers at {url} but its root key is not in {key_path}: "
            "pass --root-key with the key it printed"
        )
    return LocalEndpoint(url, key)


def _start(url: str, data_dir: Path, reporter: Reporter) -> None:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or not parts.port:
        raise UsageError(
            f"nothing answers at {url}, and only a local URL like http://127.0.0.1:7070 can be started "
            "automatically: start it with `unkey local serve` or fix UNKEY_LOCAL_URL"
        )
    runtime = "docker" if docker_available() else "simulate"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / LOG_FILE
    command = [
        sys.executable, "-m", "unkey_deploy", "local", "serve",
        "--host", "127.0.0.1", "--port", str(parts.port), "--data-dir", str(data_dir), "--runtime", runtime,
    ]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True
        )
    deadline = time.monotonic() + START_TIMEOUT
    while not is_answering(url, timeout=0.3):
        if process.poll() is not None:
            tail = _tail(log_path)
            raise UnkeyError(f"the local control plane did not start (exit {process.returncode}): {tail}")
        if time.monotonic() > deadline:
            raise UnkeyError(f"the local control plane did not answer at {url} within {START_TIMEOUT:.0f}s; "
                             f"see {log_path}")
        time.sleep(0.1)
    note = "" if runtime == "docker" else " (no Docker engine answers, so deployments are only simulated)"
    reporter.info(f"Started the local control plane at {url} with runtime {runtime}{note}; log: {log_path}")


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return f"see {path}"
    return " | ".join(text[-lines:]) or f"see {path}"


def stop_server(data_dir: Path, timeout: float = 10.0) -> int | None:
    """SIGTERM the server whose pid file is in `data_dir` and wait for it; its pid, or None if none runs."""
    import signal

    pid_file = data_dir / "server.pid"
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        time.sleep(0.1)
    raise UnkeyError(f"the local control plane (pid {pid}) did not stop within {timeout:.0f}s; kill it by hand")
