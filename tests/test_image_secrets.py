"""Build variables: names, dotenv parsing, precedence, the secrets id and the temp file's lifetime."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from unkey_deploy.errors import UsageError
from unkey_deploy.image.secrets import (
    BuildVariables,
    parse_env_file,
    parse_env_text,
    parse_var_flags,
    render_env_file,
    secret_files,
    secrets_id,
)

TRICKY = {
    "SPACES": "  two  spaces  ",
    "QUOTES": """it's "quoted" 'twice'""",
    "EQUALS": "a=b==c",
    "HASH": "not # a comment",
    "NEWLINES": "line one\nline two\n\nline four",
    "SHELL": "$HOME `id` $(id) \\n \\\\ ;|&",
    "EMPTY": "",
    "UNICODE": "héllo wörld ✓",
}


@pytest.mark.parametrize("name", ["my.key", "1ABC", "A-B", "", "A B", "ÄB"])
def test_invalid_names_fail_with_the_docs_reason(name: str) -> None:
    with pytest.raises(UsageError) as info:
        BuildVariables.merge({name: "x"})
    assert "valid environment variable names" in info.value.message
    assert "letters, digits and underscores" in info.value.message


@pytest.mark.parametrize("name", ["A", "_x", "MY_KEY_2", "npm_token"])
def test_valid_names(name: str) -> None:
    assert BuildVariables.merge({name: "v"}).names == [name]


def test_dotenv_syntax() -> None:
    text = textwrap.dedent(
        """\
        # a comment
        PLAIN=value with spaces   # trailing comment
        export EXPORTED=1
        URL=postgres://u:p@host/db?sslmode=require#frag
        SINGLE='literal \\n $HOME # kept'
        DOUBLE="escaped \\"quote\\" \\n newline \\\\ backslash"
        MULTI="first
        second"
        MULTI_SINGLE='a
        b'  # comment after quote
        EMPTY=
        SPACED = around
        """
    )
    assert parse_env_text(text, ".env") == {
        "PLAIN": "value with spaces",
        "EXPORTED": "1",
        "URL": "postgres://u:p@host/db?sslmode=require#frag",
        "SINGLE": "literal \\n $HOME # kept",
        "DOUBLE": 'escaped "quote" \n newline \\ backslash',
        "MULTI": "first\nsecond",
        "MULTI_SINGLE": "a\nb",
        "EMPTY": "",
        "SPACED": "around",
    }


def test_dotenv_crlf_and_later_wins() -> None:
    assert parse_env_text("A=1\r\nB=2\r\nA=3\r\n", "x") == {"A": "3", "B": "2"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("JUST TEXT\n", "x:1: expected NAME=VALUE"),
        ("OK=1\nmy.key=2\n", "x:2: invalid variable name 'my.key'"),
        ('A="never closed\nB=2\n', "x:1: the \" quote of A is never closed"),
        ("A='x' trailing\n", "x:1: unexpected text after the closing quote of A"),
    ],
)
def test_dotenv_errors_name_the_line(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_env_text(text, "x")
    assert fragment in info.value.message


def test_dotenv_errors_do_not_echo_values() -> None:
    with pytest.raises(UsageError) as info:
        parse_env_text("SECRET_VALUE_hunter2\n", "x")
    assert "hunter2" not in info.value.message


def test_missing_env_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        parse_env_file(tmp_path / "nope.env")


def test_var_flags() -> None:
    env = {"FROM_ENV": "env value\nwith newline"}
    assert parse_var_flags(["A=1=2", "B=", "FROM_ENV"], env) == {
        "A": "1=2",
        "B": "",
        "FROM_ENV": "env value\nwith newline",
    }
    with pytest.raises(UsageError, match="MISSING is not set in the environment"):
        parse_var_flags(["MISSING"], {})
    with pytest.raises(UsageError, match="invalid variable name 'my.key'"):
        parse_var_flags(["my.key=1"], {})


def test_precedence_config_then_files_then_flags(tmp_path: Path) -> None:
    first = tmp_path / "a.env"
    first.write_text("A=file1\nB=file1\nC=file1\n")
    second = tmp_path / "b.env"
    second.write_text("B=file2\n")
    variables = BuildVariables.collect(
        config={"A": "config", "D": True, "E": 3},
        env_files=[first, second],
        var_flags=["C=flag"],
        environ={},
    )
    assert variables.as_dict() == {"A": "file1", "D": "true", "E": "3", "B": "file2", "C": "flag"}


def test_values_never_in_repr_or_json() -> None:
    variables = BuildVariables.merge({"TOKEN": "hunter2"})
    assert "hunter2" not in repr(variables)
    assert "hunter2" not in json.dumps(variables.to_json())
    assert variables.to_json()["names"] == ["TOKEN"]


def test_secrets_id_is_deterministic_and_changes_with_any_variable() -> None:
    base = BuildVariables.merge({"A": "1", "B": "2"})
    assert secrets_id(base) == secrets_id(BuildVariables.merge({"B": "2", "A": "1"}))
    others = [
        BuildVariables.merge({"A": "1", "B": "3"}),
        BuildVariables.merge({"A": "1", "C": "2"}),
        BuildVariables.merge({"A": "1"}),
        BuildVariables.merge({"A": "1", "B": "2", "C": ""}),
        BuildVariables.merge({"A": "1,", "B": "2"}),
    ]
    ids = {secrets_id(v) for v in others} | {secrets_id(base)}
    assert len(ids) == len(others) + 1
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_rendered_file_sources_back_exactly_in_sh(tmp_path: Path) -> None:
    variables = BuildVariables.merge(TRICKY)
    env_file = tmp_path / ".env"
    env_file.write_text(render_env_file(variables))
    dump = f"import json, os; print(json.dumps({{k: os.environ[k] for k in {list(TRICKY)!r}}}))"
    out = subprocess.run(
        ["/bin/sh", "-c", f'set -a && . "$1" && set +a && exec {sys.executable} -c "$2"', "sh", env_file, dump],
        env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == TRICKY


def test_secret_file_is_private_and_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    variables = BuildVariables.merge({"A": "1"})
    with secret_files(variables) as path:
        assert path.read_text() == "A=1\n"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert path.parent.parent == tmp_path
    assert list(tmp_path.iterdir()) == []

    with pytest.raises(RuntimeError), secret_files(variables):
        raise RuntimeError("build failed")
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_dead_processes_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f"unkey-secrets-{dead.stdout.strip()}-abc"
    leftover.mkdir()
    (leftover / ".env").write_text("A=1\n")
    unrelated = tmp_path / "something-else"
    unrelated.mkdir()
    with secret_files(BuildVariables()):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["something-else"]


HOLD = """
import sys, time
from unkey_deploy.image.secrets import BuildVariables, secret_files
with secret_files(BuildVariables.merge({"A": "1"})) as path:
    print(path, flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_file_removed_when_interrupted(tmp_path: Path, signum: int) -> None:
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", HOLD], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    path = Path(proc.stdout.readline().strip())
    assert path.is_file()
    time.sleep(0.2)
    proc.send_signal(signum)
    proc.wait(timeout=10)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in proc.stderr.read()  # type: ignore[union-attr]
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []
