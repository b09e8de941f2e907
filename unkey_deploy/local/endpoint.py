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
from unkey_deploy.local import datadir
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
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read the root key in {path} ({getattr(exc, 'strerror', None) or exc}): remove it to have a "
            "new one generated, or pass --root-key"
        ) from None
    if key:
        return key, False
    key = "unkey_local_" + secrets.token_urlsafe(24)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise UsageError(
            f"cannot write the root key to {path} ({exc.strerror}): fix the permissions of {data_dir} "
            "(chmod 700) or pass another --data-dir"
        ) from None
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
    `<data dir>/server.log` (0600; the root key is never written there). Concurrent calls on one data dir
    start one server between them. `root_key`, when given, is used instead of the key in the data dir.
    """
    url = (url or default_url()).rstrip("/")
    data_dir = data_dir or default_data_dir()
    reporter = reporter or Reporter()
    if not is_answering(url):
        _start_once(url, data_dir, reporter)
    if root_key:
        return LocalEndpoint(url, root_key)
    key_path = data_dir / ROOT_KEY_FILE
    try:
        key = key_path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        key = ""
    if not key:
        raise UsageError(
            f"a local control plane answers at {url} but its root key is not in {key_path}: "
            "pass --root-key with the key it printed"
        )
    return LocalEndpoint(url, key)


def _start_once(url: str, data_dir: Path, reporter: Reporter) -> None:
    """Start the server unless another command has started it meanwhile (one start at a time per data dir)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or not parts.port:
        raise UsageError(
            f"nothing answers at {url}, and only a local URL like http://127.0.0.1:7070 can be started "
            "automatically: start it with `unkey local serve` or fix UNKEY_LOCAL_URL"
        )
    data_dir = datadir.prepare(data_dir, elsewhere="set UNKEY_LOCAL_DATA_DIR to another directory")
    with datadir.start_lock(data_dir, START_TIMEOUT * 2):
        if is_answering(url):
            return
        running = datadir.owner(data_dir)
        if running is not None:
            _wait_for_owner(url, data_dir, running)
            return
        _start(url, parts.port, data_dir, reporter)


def _wait_for_owner(url: str, data_dir: Path, running: datadir.Owner) -> None:
    """A server already holds the data dir: fine when it is (or is becoming) the one at `url`."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if running.url and not _same_address(running.url, url):
            raise UsageError(
                f"the local control plane of {data_dir} runs {running.describe()}, not at {url}: set "
                f"UNKEY_LOCAL_URL={running.url}, or stop it with `unkey local stop --data-dir {data_dir}`"
            )
        if is_answering(url, timeout=0.3):
            return
        if time.monotonic() > deadline:
            raise UnkeyError(
                f"the local control plane of {data_dir} {running.describe()} does not answer at {url} within "
                f"{START_TIMEOUT:.0f}s; stop it with `unkey local stop --data-dir {data_dir}` and try again"
            )
        time.sleep(0.1)
        again = datadir.owner(data_dir)
        if again is None:
            raise UnkeyError(f"the local control plane of {data_dir} stopped while starting; see "
                             f"{data_dir / LOG_FILE}")
        running = again


def _same_address(a: str, b: str) -> bool:
    """Whether two local URLs reach the same listener (localhost and 127.0.0.1 are one host)."""
    loopback = {"127.0.0.1", "localhost"}
    first, second = urlsplit(a), urlsplit(b)
    hosts_match = first.hostname == second.hostname or {first.hostname, second.hostname} <= loopback
    return hosts_match and first.port == second.port


def _start(url: str, port: int, data_dir: Path, reporter: Reporter) -> None:
    runtime = "docker" if docker_available() else "simulate"
    log_path = data_dir / LOG_FILE
    command = [
        sys.executable, "-m", "unkey_deploy", "local", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir), "--runtime", runtime,
    ]
    try:
        log_fd = datadir.open_private(log_path, os.O_WRONLY | os.O_APPEND)
    except OSError as exc:
        raise UsageError(f"cannot write {log_path} ({exc.strerror}): fix the permissions of {data_dir} "
                         "(chmod 700) or set UNKEY_LOCAL_DATA_DIR to another directory") from None
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd, start_new_session=True
        )
    finally:
        os.close(log_fd)
    deadline = time.monotonic() + START_TIMEOUT
    while not is_answering(url, timeout=0.3):
        if process.poll() is not None:
            if is_answering(url, timeout=0.3):  # another server took the data dir and answers here
                return
            last = _tail(log_path, lines=1).removeprefix("error: ")
            message = f"the local control plane did not start: {last} (log: {log_path})"
            raise UsageError(message) if process.returncode == 2 else UnkeyError(message)
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
    """SIGTERM the server that holds `data_dir` and wait for it; its pid, or None if none runs.

    Only the process holding the data dir's lock is signalled, and only when its command line is
    `unkey local serve`: a pid written in a file long ago may belong to anything by now."""
    import signal

    running = datadir.owner(data_dir)
    deadline = time.monotonic() + 2.0
    while running is not None and running.pid is None and time.monotonic() < deadline:  # still starting
        time.sleep(0.05)
        running = datadir.owner(data_dir)
    if running is None:
        return None
    pid = running.pid
    if pid is None or pid == os.getpid() or not datadir.is_our_server(pid):
        raise UsageError(
            f"the lock of {data_dir} is held by {f'pid {pid}' if pid else 'an unknown process'}, which is not "
            "`unkey local serve`: not stopping it; stop the process holding it by hand"
        )
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if datadir.owner(data_dir) is None:
            return pid
        time.sleep(0.1)
    raise UnkeyError(f"the local control plane (pid {pid}) did not stop within {timeout:.0f}s; kill it by hand")
