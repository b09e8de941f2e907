"""Deno: a start task or an entry file, with dependencies cached into the image."""

from __future__ import annotations

import json
import re

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

PERMISSIONS = "--allow-net --allow-env --allow-read"
DENO_UID = "1993"  # the deno user of the official images


def plan(ctx: Context) -> Plan:
    src = ctx.src
    version = ctx.version("deno")
    config = deno_config(src)
    tasks: dict = config["tasks"] if isinstance(config.get("tasks"), dict) else {}
    entry = src.first(ctx.pack.entry_files)
    if "start" in tasks:
        start = "deno task start"
        ctx.reasons.append("start: the start task of deno.json")
    elif entry:
        start = f"deno run {PERMISSIONS} {entry}"
        ctx.reasons.append(f"start: {entry} found (grant more permissions with a start task in deno.json)")
    else:
        raise UsageError("could not find how to start this Deno app: add a start task to deno.json or a main.ts")
    build = f"deno cache {entry}" if entry else "deno install"
    ctx.reasons.append(f"build: {build} caches the dependencies into the image")
    recipe = Recipe(
        runtime_image=ctx.image("deno", deno=version), build=[build], runtime_env={"DENO_NO_UPDATE_CHECK": "1"},
        user=DENO_UID, cmd=exec_form(start), dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="deno", package_manager="deno", build_command=build, start_command=start, recipe=recipe)


def deno_config(src: Source) -> dict:
    data = src.json("deno.json")
    if data or not src.exists("deno.jsonc"):
        return data
    text = re.sub(r"^\s*//.*$", "", src.text("deno.jsonc") or "", flags=re.MULTILINE)
    try:
        parsed = json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
