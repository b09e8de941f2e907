"""Procfile: the `web:` line is the start command, whatever the language."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from unkey_deploy.plan._buildpacks import Buildpack, buildpacks_dir
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

_WEB = re.compile(r"^web:\s*(.+?)\s*$", re.MULTILINE)


@cache
def unit_data(name: str) -> dict[str, Any]:
    """buildpacks/<name>.yaml as written, with the tables beyond the common format (ports, servers, ...)."""
    import yaml

    data = yaml.safe_load((buildpacks_dir() / f"{name}.yaml").read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def web_command(src: Source) -> str | None:
    match = _WEB.search(src.text("Procfile") or "")
    return match.group(1) if match else None


def hard_coded_port(command: str) -> int | None:
    """A port the command binds itself (`--bind 0.0.0.0:8000`, `-p 3000`) instead of $PORT."""
    if "$PORT" in command or "${PORT" in command:
        return None
    for pattern in unit_data("procfile").get("ports") or []:
        match = re.search(pattern, command)
        if match and 0 < int(match.group(1)) < 65536:
            return int(match.group(1))
    return None


def detect(src: Source, pack: Buildpack) -> str | None:
    return "Procfile" if web_command(src) else None


def plan(ctx: Context) -> Plan:
    command = web_command(ctx.src) or ""
    ctx.reasons.append("start: the web: line of Procfile, run in a plain Debian image")
    recipe = Recipe(
        runtime_image=ctx.image("shell"), cmd=exec_form(command), create_user=True, user="app",
        dockerignore=list(ctx.pack.dockerignore),
    )
    result = ctx.plan(language="shell", start_command=command, recipe=recipe)
    _use_port(result, ctx, command)
    return result


def refine(plan: Plan, ctx: Context) -> None:
    """A Procfile's web: line wins over the start command the language inferred."""
    command = web_command(ctx.src)
    if not command or plan.recipe is None or plan.start_command == command:
        return
    plan.start_command = command
    plan.recipe.cmd = exec_form(command)
    ctx.reasons.append("start: the web: line of Procfile (it wins over the inferred start command)")
    _use_port(plan, ctx, command)


def _use_port(plan: Plan, ctx: Context, command: str) -> None:
    port = hard_coded_port(command)
    if port and port != plan.port:
        plan.port = port
        ctx.reasons.append(f"port {port}: the Procfile's web: line binds it, so PORT is set to it")
