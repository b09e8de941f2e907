"""Procfile: the `web:` line is the start command, whatever the language."""

from __future__ import annotations

import re
from fnmatch import fnmatch

from unkey_deploy.plan._buildpacks import Buildpack, PortRule
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

_WEB = re.compile(r"^web:\s*(.+?)\s*$", re.MULTILINE)


def web_command(src: Source) -> str | None:
    match = _WEB.search(src.text("Procfile") or "")
    return match.group(1) if match else None


def hard_coded_port(rules: tuple[PortRule, ...], files: dict[str, str]) -> tuple[int, str] | None:
    """(port, file): the first port a unit's `ports:` rule finds in these files (path -> text), skipping a
    rule whose `reads_port` matches one of them (the app honours $PORT after all)."""
    for rule in rules:
        matching = {rel: text for rel, text in files.items()
                    if any(fnmatch(rel, glob) or fnmatch(rel, glob.replace("**/", "")) for glob in rule.files)}
        if rule.reads_port and any(re.search(rule.reads_port, text) for text in matching.values()):
            continue
        for rel, text in matching.items():
            for match in re.finditer(rule.pattern, text):
                if 0 < int(match.group(1)) < 65536:
                    return int(match.group(1)), rel
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
    found = hard_coded_port(ctx.pack.ports, {"Procfile": ctx.src.text("Procfile") or ""})
    if found and found[0] != plan.port:
        plan.port = found[0]
        ctx.reasons.append(f"port {found[0]}: the Procfile's web: line binds it, so PORT is set to it")
