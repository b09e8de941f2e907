"""Deno: dependencies cached into the image, a `build` task run at build time, and a production start.

A start task that runs a dev server or a watcher (`--watch`, Fresh's dev.ts) is never the CMD: the
framework's production entry (Fresh: `deno run -A main.ts`) or the entry file starts the app instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source, table
from unkey_deploy.plan._versions import pick, read_source

_WATCH = re.compile(r"(?<!\S)--watch(?:-hmr)?(?:=\S*)?(?!\S)")
_DEFAULT_EXPORT = re.compile(r"^export\s+default\s+(?!function\b|class\b|async\b)", re.MULTILINE)
_PACKAGE = re.compile(r"^(?:jsr:|npm:)/?(@?[^@/]+(?:/[^@/]+)?)|^https://deno\.land/x/([^@/]+)")


def plan(ctx: Context) -> Plan:
    src = ctx.src
    data = ctx.pack.data
    version = deno_version(ctx, src)
    config = deno_config(src)
    tasks = table(config, "tasks")
    framework = ctx.framework(imports(config), "deno.json imports {hit}")
    entry = src.first(ctx.pack.entry_files)
    start = _start(ctx, tasks, framework.start if framework else None, entry)
    build = [f"deno cache {entry}" if entry else "deno install"]
    ctx.reasons.append(f"build: {build[0]} caches the dependencies into the image")
    task = str(data.get("build_task") or "build")
    if task in tasks:
        build.append(f"deno task {task}")
        ctx.reasons.append(f"build: deno task {task} (the {task} task of deno.json)")
    recipe = Recipe(
        runtime_image=ctx.image("deno", deno=version), build=build, runtime_env={"DENO_NO_UPDATE_CHECK": "1"},
        user=str(data.get("image_user") or "1993"), cmd=exec_form(start), dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="deno", package_manager="deno", framework=framework.id if framework else None,
                    build_command=" && ".join(build), start_command=start, recipe=recipe)


def deno_version(ctx: Context, src: Source) -> str:
    """A pinned Deno; else the default, or a newer one when deno.lock's format needs it."""
    rule = ctx.pack.versions["deno"]
    lock = str(src.json("deno.lock").get("version") or "")
    minimum = {str(k): str(v) for k, v in (ctx.pack.data.get("lockfile_minimum") or {}).items()}.get(lock)
    if not minimum or any(read_source(src, source) for source in rule.sources):
        return ctx.version("deno")
    version = pick(f">={minimum}", rule)
    ctx.versions["deno"] = version
    ctx.reasons.append(f"deno {version}: deno.lock version {lock} needs Deno {minimum} or later (pin it in .dvmrc)")
    return version


def _start(ctx: Context, tasks: Mapping[str, Any], framework_start: str | None, entry: str | None) -> str:
    task = tasks.get("start")
    markers = [str(m) for m in ctx.pack.data.get("dev_markers") or ()]
    dev = next((m for m in markers if isinstance(task, str) and m in task), None)
    if isinstance(task, str) and not dev:
        served = re.match(r"^deno serve\b(?!.*--port)(.*)$", task.strip())
        if served:  # `deno serve` listens on 8000 unless told otherwise
            ctx.reasons.append("start: the start task of deno.json (deno serve), on $PORT")
            return f"deno serve --port=$PORT{served.group(1)}"
        ctx.reasons.append("start: the start task of deno.json")
        return "deno task start"
    skipped = f"; the start task runs a dev server ({dev}), not used" if dev else ""
    permissions = str(ctx.pack.data.get("permissions") or "--allow-net --allow-env --allow-read")
    watched = _without_watch(task if dev else None if isinstance(task, str) else tasks.get("dev"))
    if watched:
        name = "start" if dev else "dev"
        granted = ""
        if not re.search(r"(?<!\S)(?:-A|--allow-[\w-]+(?:=\S*)?)(?!\S)", watched):
            watched = re.sub(r"^deno (run|serve)", rf"deno \1 {permissions}", watched)
            granted = f", granted {permissions} (a dev run asks for them)"
        ctx.reasons.append(f"start: the {name} task of deno.json without its file watcher (--watch){granted}")
        served = re.match(r"^deno serve\b(?!.*--port)(.*)$", watched)
        return f"deno serve --port=$PORT{served.group(1)}" if served else watched
    if framework_start and entry:
        ctx.reasons.append(f"start: {entry}, the framework's production server{skipped}")
        return framework_start.format(entry=entry)
    if entry:
        if _serves_default_export(ctx.src.text(entry) or ""):
            ctx.reasons.append(f"start: {entry} exports its fetch handler (`export default`), served by "
                               f"deno serve on $PORT{skipped}")
            return f"deno serve {permissions} --port=$PORT {entry}"
        ctx.reasons.append(f"start: {entry} found (grant more permissions with a start task in deno.json){skipped}")
        return f"deno run {permissions} {entry}"
    raise UsageError(
        "could not find how to start this Deno app: add a start task (not a dev server) to deno.json or a main.ts"
    )


def _without_watch(task: object) -> str | None:
    """A task that is one `deno run`/`deno serve` command whose only dev part is --watch, without it: the
    production command keeps the task's permissions and flags (-A, --unstable-kv) that an entry file lacks."""
    if not isinstance(task, str) or re.search(r"[;&|<>`]|\$\(", task):
        return None
    if not re.match(r"^deno (?:run|serve)\s", task.strip()) or not _WATCH.search(task):
        return None
    command = " ".join(_WATCH.sub(" ", task).split())
    return None if any(marker in command for marker in ("dev.ts", "vite")) else command


def _serves_default_export(text: str) -> bool:
    """An entry written for `deno serve`: it exports its handler (`export default { fetch }`, a Hono app) and
    starts no server itself, so `deno run` would exit without listening."""
    return bool(_DEFAULT_EXPORT.search(text)) and "Deno.serve(" not in text and ".listen(" not in text


def imports(config: Mapping[str, Any]) -> set[str]:
    """Import-map keys and the package names they map to (`jsr:@fresh/core@^2` → `@fresh/core`)."""
    found: set[str] = set()
    for key, target in table(config, "imports").items():
        found.add(str(key))
        match = _PACKAGE.match(str(target))
        if match:
            found.add(match.group(1) or match.group(2))
    return found


def deno_config(src: Source) -> dict[str, Any]:
    data = src.json("deno.json")
    if data or not src.exists("deno.jsonc"):
        return data
    text = re.sub(r"^\s*//.*$", "", src.text("deno.jsonc") or "", flags=re.MULTILINE)
    try:
        parsed = json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
