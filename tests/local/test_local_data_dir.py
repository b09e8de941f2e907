"""The local data dir: private from the start, one server at a time, `stop` signals only our server, and
every bad state is one usage line. Real files, real modes, real servers and CLI processes."""

from __future__ import annotations

import fcntl
import os
import pty
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import unkey_bin
from tests.local.conftest import create_image_deployment, start_server

IMAGE = "ghcr.io/acme/api:v1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _local_env(cli_env: dict[str, str], tmp_path: Path, **extra: str) -> dict[str, str]:
    """`--local` on a free port, simulate runtime (no Docker engine answers), data dir under HOME/.unkey."""
    env = dict(cli_env)
    env["UNKEY_LOCAL_URL"] = f"http://127.0.0.1:{_free_port()}"
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], *, umask: int | None = None, timeout: float = 90,
         prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), *unkey_bin(), *args], env=env, capture_output=True, text=True, timeout=timeout,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,  # noqa: PLW1509
    )


def _stop(data_dir: Path) -> None:
    subprocess.run([*unkey_bin(), "local", "stop", "--data-dir", str(data_dir)], capture_output=True, timeout=30)


def _assert_usage_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _our_servers(data_dir: Path) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                args = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in args and str(data_dir).encode() in args:
                pids.append(int(entry.name))
    return pids


# 1. secrets at rest


def test_background_server_keeps_everything_private_and_never_logs_the_key(cli_env, tmp_path):
    env = _local_env(cli_env, tmp_path)
    home = Path(env["HOME"])
    data_dir = home / ".unkey" / "local"
    try:
        # umask 0: anything not created private on purpose would come out 0777/0666
        result = _run(["deploy", IMAGE, "--project=acme", "--local", "--output=json"], env, umask=0)
        assert result.returncode == 0, result.stderr
        assert "Started the local control plane" in result.stderr
    finally:
        _stop(data_dir)
    modes = _modes(home / ".unkey")
    for name in ("local", "local/root_key", "local/server.log", "local/server.lock", "local/state.db",
                 "local/state.db-wal", "local/state.db-shm"):
        assert name in modes or name.endswith(("-wal", "-shm")), (name, sorted(modes))
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert not loose, loose
    assert all(mode == 0o700 for name, mode in modes.items() if (home / ".unkey" / name).is_dir())
    key = (data_dir / "root_key").read_text().strip()
    log = (data_dir / "server.log").read_text()
    assert "stopped" in log and "root_key" in log  # it says where the key is ...
    assert key not in log  # ... never the key itself
    assert key not in result.stdout + result.stderr


def test_a_data_dir_left_loose_by_an_older_version_is_tightened(tmp_path):
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    for name in ("server.log", "root_key", "notes.txt"):
        (data_dir / name).write_text("unkey_local_old\n")
        os.chmod(data_dir / name, 0o644)
    server = start_server(data_dir, "--runtime", "simulate")
    try:
        assert server.root_key == "unkey_local_old"
        # its own files are tightened; a file of someone else's is none of its business
        assert {name: mode for name, mode in _modes(data_dir).items() if mode & 0o077} == {"notes.txt": 0o644}
    finally:
        server.stop()


def test_the_key_goes_to_a_terminal_only(tmp_path):
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [*unkey_bin(), "local", "serve", "--port", "0", "--runtime", "simulate", "--data-dir", str(tmp_path / "d")],
        stdout=secondary, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    os.close(secondary)
    try:
        seen = b""
        deadline = time.monotonic() + 20
        while b"root key: " not in seen or not seen.endswith(b"\n"):
            assert time.monotonic() < deadline, seen
            seen += os.read(main, 4096)
        key = (tmp_path / "d" / "root_key").read_text().strip()
        assert f"root key: {key}".encode() in seen
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
        os.close(main)
    assert key not in err


# 2. one owner per data dir


def test_a_second_server_is_refused_and_leaves_the_first_ones_deployments_alone(local_server, tmp_path):
    first = local_server("--step-delay", "1.5")
    deployment_id = create_image_deployment(first)
    second = subprocess.run(
        [*unkey_bin(), "local", "serve", "--port", "0", "--runtime", "simulate", "--data-dir", str(first.data_dir)],
        capture_output=True, text=True, timeout=30, env={**os.environ, "NO_COLOR": "1"},
    )
    _assert_usage_line(second, f"pid {first.process.pid}", first.url, "unkey local stop")
    assert second.stdout == ""
    data = first.wait_status(deployment_id, "ready", "failed", timeout=20)
    assert data["status"] == "ready", data
    assert first.process.poll() is None


def test_parallel_local_deploys_start_one_server_and_all_succeed(cli_env, tmp_path):
    data_dir = tmp_path / "shared"
    env = _local_env(cli_env, tmp_path, UNKEY_LOCAL_DATA_DIR=str(data_dir))
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(
                lambda i: _run(["deploy", IMAGE, f"--project=acme{i}", "--local", "--output=json"], env, timeout=120),
                range(8),
            ))
        assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results if r.returncode]
        assert sum("Started the local control plane" in r.stderr for r in results) == 1
        assert len(_our_servers(data_dir)) == 1
    finally:
        _stop(data_dir)
    assert _our_servers(data_dir) == []


def test_local_on_a_data_dir_served_at_another_url_says_where(cli_env, local_server, tmp_path):
    server = local_server("--step-delay", "0.05")
    env = _local_env(cli_env, tmp_path, UNKEY_LOCAL_DATA_DIR=str(server.data_dir))
    result = _run(["deploy", IMAGE, "--project=acme", "--local"], env)
    _assert_usage_line(result, server.url, f"UNKEY_LOCAL_URL={server.url}")


# 8. stop signals only our server


def test_stop_never_signals_a_stale_pid(tmp_path):
    data_dir = tmp_path / "stale"
    data_dir.mkdir()
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (data_dir / "server.lock").write_text(f"{stranger.pid}\nhttp://127.0.0.1:7070\n")
        (data_dir / "server.pid").write_text(f"{stranger.pid}\n")
        result = _run(["local", "stop", "--data-dir", str(data_dir)], dict(os.environ))
        assert result.returncode == 0 and "no local control plane runs" in result.stdout, result.stderr
        time.sleep(0.2)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def test_stop_refuses_a_lock_holder_that_is_not_our_server(tmp_path):
    data_dir = tmp_path / "held"
    data_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(data_dir / 'server.lock')!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.write(fd, f'{os.getpid()}\\nhttp://127.0.0.1:7070\\n'.encode())\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = _run(["local", "stop", "--data-dir", str(data_dir)], dict(os.environ))
        _assert_usage_line(result, f"pid {holder.pid}", "not `unkey local serve`")
        assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()


def test_stop_stops_our_server(local_server):
    server = local_server()
    result = _run(["local", "stop", "--data-dir", str(server.data_dir)], dict(os.environ))
    assert result.returncode == 0 and f"pid {server.process.pid}" in result.stdout
    assert server.process.wait(timeout=10) == 0
    with open(server.data_dir / "server.lock", "rb") as lock:  # released: anyone may take it now
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


# 10. bad local state


def _serve(data_dir: Path, *, prefix: list[str] | None = None, env: dict[str, str] | None = None):
    return _run(["local", "serve", "--port", "0", "--runtime", "simulate", "--data-dir", str(data_dir)],
                env or {**os.environ, "NO_COLOR": "1"}, prefix=prefix, timeout=30)


def test_a_data_dir_that_is_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    _assert_usage_line(_serve(afile), str(afile), "is a file", "--data-dir")
    _assert_usage_line(_serve(afile / "sub"), str(afile), "is a file")


def test_a_corrupt_state_db(tmp_path, cli_env):
    data_dir = tmp_path / "corrupt"
    data_dir.mkdir()
    (data_dir / "state.db").write_bytes(os.urandom(8192))
    _assert_usage_line(_serve(data_dir), str(data_dir / "state.db"), "not a usable state database", "mv ")
    assert (data_dir / "state.db").stat().st_size == 8192  # nothing lost
    # through --local: the background server's refusal reaches the command as the same usage line
    env = _local_env(cli_env, tmp_path, UNKEY_LOCAL_DATA_DIR=str(data_dir))
    _assert_usage_line(_run(["deploy", IMAGE, "--project=acme", "--local"], env), "not a usable state database")


# root bypasses permission bits: drop the capability that lets it, so the kernel checks them as for anyone
_AS_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


@pytest.mark.skipif(os.geteuid() == 0 and not Path("/usr/bin/setpriv").exists(), reason="needs setpriv as root")
def test_an_unwritable_unkey_dir(cli_env, tmp_path):
    env = _local_env(cli_env, tmp_path)
    unkey_dir = Path(env["HOME"]) / ".unkey"
    unkey_dir.mkdir(mode=0o500)
    try:
        _assert_usage_line(_run(["deploy", IMAGE, "--project=acme", "--local"], env, prefix=_AS_USER),
                           str(unkey_dir), "not writable", "UNKEY_LOCAL_DATA_DIR")
        _assert_usage_line(_serve(unkey_dir / "local", prefix=_AS_USER), str(unkey_dir), "not writable")
        existing = tmp_path / "readonly"
        existing.mkdir(mode=0o500)
        _assert_usage_line(_serve(existing, prefix=_AS_USER), str(existing), "not writable")
    finally:
        os.chmod(unkey_dir, 0o700)
