"""Procfile: the `web:` line is the start command, whatever the language."""

from __future__ import annotations

import re

from unkey_deploy.plan._buildpacks import Buildpack
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

_WEB = re.compile(r"^web:\s*(.+?)\s*$", re.MULTILINE)


def web_command(src: Source) -> str | None:
    match = _WEB.search(src.text("Procfile") or "")
    return match.group(1) if match else None


def detect(src: Source, pack: Buildpack) -> str | None:
    return "Procfile" if web_command(src) else None


def plan(ctx: Context) -> Plan:
    command = web_command(ctx.src) or ""
    ctx.reasons.append("start: the web: line of Procfile, run in a plain Debian image")
    recipe = Recipe(
        runtime_image=ctx.image("shell"), cmd=exec_form(command), create_user=True, user="app",
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="shell", start_command=command, recipe=recipe)


def refine(plan: Plan, ctx: Context) -> None:
    """A Procfile's web: line wins over the start command the language inferred."""
    command = web_command(ctx.src)
    if not command or plan.recipe is None or plan.start_command == command:
        return
    plan.start_command = command
    plan.recipe.cmd = exec_form(command)
    ctx.reasons.append("start: the web: line of Procfile (it wins over the inferred start command)")
