"""Turning a start command into an exec-form CMD, so SIGTERM reaches the app."""

from __future__ import annotations

import shlex

_SHELL_SYNTAX = ("&&", "||", ";", "|", ">", "<", "`", "$(", "*", "?")


def needs_shell(command: str) -> bool:
    return "$" in command or any(token in command for token in _SHELL_SYNTAX)


def _has_env_prefix(command: str) -> bool:
    first = command.split(maxsplit=1)[0] if command.strip() else ""
    return "=" in first and not first.startswith("-")


def exec_form(command: str) -> list[str]:
    """`node server.js` → ["node", "server.js"]; anything needing a shell runs under `sh -c "exec ..."`.

    `exec` makes the app replace the shell (PID 1), so it receives SIGTERM directly. A command that
    chains several programs keeps its shell, which then forwards nothing: prefer a single program.
    """
    command = command.strip()
    env = "env " if _has_env_prefix(command) else ""
    if not needs_shell(command):
        return shlex.split(env + command)
    chained = any(token in command for token in ("&&", "||", ";", "|"))
    if chained or command.startswith("exec "):
        return ["sh", "-c", command]
    return ["sh", "-c", f"exec {env}{command}"]
