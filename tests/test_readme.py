"""The README is the reference users read: every command, flag and environment variable is in it, and its
test command is the one CI runs."""

from __future__ import annotations

import re

import pytest
import typer

from tests.conftest import REPO
from unkey_deploy.cli.main import app

README = (REPO / "README.md").read_text(encoding="utf-8")


def walk(command, path=()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from walk(sub, (*path, name))


COMMANDS = [c for c in walk(typer.main.get_command(app)) if c[0]]


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_every_command_flag_and_env_var_is_documented(path, command):
    assert f"unkey {' '.join(path)}" in README, f"`unkey {' '.join(path)}` is not in the README"
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in ("--help",):
                assert re.search(rf"{re.escape(opt)}\b", README), f"{opt} of `unkey {' '.join(path)}` is undocumented"
        envvar = getattr(param, "envvar", None)
        for var in [envvar] if isinstance(envvar, str) else envvar or []:
            assert var in README, f"{var} (`unkey {' '.join(path)}`) is undocumented"


def test_ci_runs_the_readme_test_command():
    match = re.search(r"## Test\s+\n\s+(.+)\n", README)
    assert match, "README has no Test section with a command"
    command = match.group(1).strip().split("&&")[-1].strip()
    assert command in (REPO / ".ci" / "run").read_text()


def test_exit_codes_are_listed():
    for code in ("0", "1", "2", "3", "4", "5", "6", "130"):
        assert re.search(rf"\|\s*`?{code}`?\s*\|", README), f"exit code {code} missing from the README table"
