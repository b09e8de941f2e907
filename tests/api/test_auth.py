"""`unkey auth login|status|logout` run as users run them: piped stdin, a terminal, env and flags."""

from __future__ import annotations

import os
import select
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

KEY = "unkey_3ZkPq9wXyZabcd1234"


@pytest.fixture
def config_path(cli_env) -> Path:
    return Path(cli_env["UNKEY_CONFIG"])


def test_login_from_stdin_writes_a_private_file(run_cli, config_path):
    result = run_cli("auth", "login", input=f"{KEY}\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Authentication successful. Key stored in {config_path}\n"
    assert config_path.read_text() == f'root_key = "{KEY}"\n'
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_path.parent.stat().st_mode) == 0o700
    assert os.listdir(config_path.parent) == ["config.toml"]  # no temporary file left behind
    assert KEY not in result.stderr


def test_login_replaces_the_key_and_keeps_the_rest(run_cli, config_path):
    config_path.parent.mkdir()
    config_path.write_text('# mine\napi_url = "http://127.0.0.1:7070"\nroot_key = "unkey_old"\n\n'
                           '[profiles.ci]\nroot_key = "unkey_nested"\n')
    result = run_cli("auth", "login", input=f"  {KEY}  \n")
    assert result.returncode == 0, result.stderr
    text = config_path.read_text()
    assert text.startswith("# mine\n")
    assert tomllib.loads(text) == {
        "api_url": "http://127.0.0.1:7070",
        "root_key": KEY,
        "profiles": {"ci": {"root_key": "unkey_nested"}},
    }
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600


def test_login_escapes_the_key(run_cli, tmp_path):
    config = tmp_path / "odd" / "config.toml"
    key = 'unkey_a"b\\c\u00e9'
    assert run_cli("auth", "login", f"--config={config}", input=key + "\n").returncode == 0
    assert tomllib.loads(config.read_text())["root_key"] == key


@pytest.mark.parametrize("given", ["", "\n", "   \n", "unkey_a b\n"])
def test_login_rejects_an_empty_or_broken_key(run_cli, config_path, given):
    result = run_cli("auth", "login", input=given)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert not config_path.exists()


def test_login_refuses_to_clobber_a_broken_config(run_cli, config_path):
    config_path.parent.mkdir()
    config_path.write_text("root_key = \n")
    result = run_cli("auth", "login", input=f"{KEY}\n")
    assert result.returncode == 2
    assert "is not valid TOML" in result.stderr
    assert config_path.read_text() == "root_key = \n"


def test_login_on_a_terminal_prompts_with_hidden_input(cli_env, config_path):
    main, follower = os.openpty()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "unkey"), "auth", "login"],
        stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env, start_new_session=True,
    )
    os.close(follower)
    prompt = _read_until(proc.stderr, b"Enter your root key: ")
    assert prompt.endswith(b"Enter your root key: ")
    os.write(main, f"{KEY}\n".encode())
    out, err = proc.communicate(timeout=30)
    echoed = _drain(main)
    os.close(main)
    assert proc.returncode == 0, err
    assert KEY.encode() not in echoed
    assert out.decode() == f"Authentication successful. Key stored in {config_path}\n"
    assert tomllib.loads(config_path.read_text())["root_key"] == KEY


def _read_until(stream, marker: bytes, timeout: float = 30) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            chunk = os.read(stream.fileno(), 1024)
            if not chunk:
                break
            data += chunk
    return data


def _drain(fd: int) -> bytes:
    data = b""
    while select.select([fd], [], [], 0.1)[0]:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_status_names_the_source_without_the_key(run_cli, config_path):
    run_cli("auth", "login", input=f"{KEY}\n")
    from_file = run_cli("auth", "status")
    assert from_file.returncode == 0
    assert from_file.stdout == f"Logged in with root key unkey_…1234 from {config_path}\n"
    from_env = run_cli("auth", "status", env={"UNKEY_ROOT_KEY": "unkey_envkey9876"})
    assert from_env.stdout == "Logged in with root key unkey_…9876 from the UNKEY_ROOT_KEY environment variable\n"
    from_flag = run_cli("auth", "status", "--root-key=unkey_flagkey5555", env={"UNKEY_ROOT_KEY": "unkey_envkey9876"})
    assert from_flag.stdout == "Logged in with root key unkey_…5555 from the --root-key flag\n"
    for result in (from_file, from_env, from_flag):
        assert KEY not in result.stdout + result.stderr
        assert "flagkey" not in result.stdout and "envkey" not in result.stdout


def test_status_without_a_key_exits_3(run_cli, config_path):
    result = run_cli("auth", "status")
    assert result.returncode == 3
    assert result.stderr == (f"error: not logged in: no --root-key, no UNKEY_ROOT_KEY and no root_key in "
                             f"{config_path}; run `unkey auth login`\n")


def test_status_warns_when_others_can_read_the_file(run_cli, config_path):
    run_cli("auth", "login", input=f"{KEY}\n")
    config_path.chmod(0o644)
    result = run_cli("auth", "status")
    assert result.returncode == 0
    assert f"warning: {config_path} is readable by other users; run: chmod 600 {config_path}" in result.stderr


def test_logout_removes_only_the_key(run_cli, config_path):
    config_path.parent.mkdir()
    config_path.write_text(f'api_url = "http://127.0.0.1:7070"\nroot_key = "{KEY}"\n')
    result = run_cli("auth", "logout")
    assert result.returncode == 0
    assert result.stdout == f"Root key removed from {config_path}\n"
    assert tomllib.loads(config_path.read_text()) == {"api_url": "http://127.0.0.1:7070"}
    assert run_cli("auth", "status").returncode == 3
    again = run_cli("auth", "logout", env={"UNKEY_ROOT_KEY": KEY})
    assert again.returncode == 0
    assert again.stdout == f"No root key stored in {config_path}\n"
    assert "UNKEY_ROOT_KEY is still set" in again.stderr


def test_api_commands_use_the_stored_key(run_cli, api):
    assert run_cli("auth", "login", input=f"{KEY}\n").returncode == 0
    result = run_cli("api", "keys", "update-key", "--key-id=key_1234abcd", "--enabled=true", f"--api-url={api.url}")
    assert result.returncode == 0, result.stderr
    assert api.last.headers["Authorization"] == f"Bearer {KEY}"
