"""PHP: Composer installs vendor/ in Composer's image; the app runs on php's CLI image (built-in server)."""

from __future__ import annotations

from typing import Any

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._buildpacks import Framework
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._frontend import frontend_stage
from unkey_deploy.plan._model import FrontendStage, Plan, Recipe
from unkey_deploy.plan._source import Source


def plan(ctx: Context) -> Plan:
    src = ctx.src
    composer = src.json("composer.json")
    requires: dict[str, Any] = {**(composer.get("require") or {})}
    framework = ctx.framework(requires, "composer.json requires {hit}")
    version = ctx.version("php")
    _check_extensions(ctx, requires, version)
    start = _start(ctx, framework, src)
    env = {**(ctx.pack.data.get("runtime_env") or {}), **(framework.env if framework else {})}
    if not src.exists("composer.json"):
        _note_assets(ctx, src)
        ctx.reasons.append("dependencies: none (no composer.json)")
        recipe = Recipe(runtime_image=ctx.image("runtime", php=version), runtime_env=env, create_user=True,
                        user="app", cmd=exec_form(start), dockerignore=list(ctx.pack.dockerignore))
        return ctx.plan(language="php", framework=framework.id if framework else None, start_command=start,
                        recipe=recipe)
    frontend = _frontend(ctx, src)
    pm = ctx.pack.package_manager("composer")
    locked = src.exists("composer.lock")
    ctx.reasons.append("dependencies: composer.lock found" if locked else "dependencies: no composer.lock (unlocked)")
    recipe = Recipe(
        build_image=ctx.image("composer"), runtime_image=ctx.image("runtime", php=version),
        workdir="/app", build_env={"COMPOSER_CACHE_DIR": str(pm.cache)},
        install_files=[f for f in ("composer.json", "composer.lock", "auth.json") if src.exists(f)],
        install=[pm.install], caches=[str(pm.cache)], build=[pm.extra["build"]], artifacts=[("/app", "/app")],
        runtime_env=env, create_user=True, user="app", cmd=exec_form(start), dockerignore=list(ctx.pack.dockerignore),
        frontend=frontend,
    )
    return ctx.plan(language="php", package_manager="composer", framework=framework.id if framework else None,
                    install_command=pm.install, build_command=pm.extra["build"], start_command=start, recipe=recipe)



def _start(ctx: Context, framework: Framework | None, src: Source) -> str:
    if framework and src.exists("artisan"):
        ctx.reasons.append("start: php artisan serve on $PORT (set APP_KEY at run time)")
        return str(framework.start)
    entry = src.first(ctx.pack.entry_files)
    if entry is None:
        raise UsageError(
            "could not find how to start this PHP app: add public/index.php or index.php, "
            "a Procfile with a web: line, or a Dockerfile"
        )
    root = entry.rpartition("/")[0] or "."
    ctx.reasons.append(f"start: the built-in server with document root {root} ({entry} found)")
    return f"php -S 0.0.0.0:$PORT -t {root}"


def _check_extensions(ctx: Context, requires: dict[str, Any], version: str) -> None:
    extensions = [name for name in requires if name.startswith("ext-")]
    builtin = {str(name) for name in ctx.pack.data.get("builtin_extensions") or ()}
    missing = sorted(name for name in extensions if name[4:].lower() not in builtin)
    if missing:
        ctx.reasons.append(
            f"composer.json requires {', '.join(missing)}, not in php:{version}-cli: "
            "add a Dockerfile that installs them (docker-php-ext-install)"
        )


def _frontend(ctx: Context, src: Source) -> FrontendStage | None:
    """The front end (package.json's build script) built in a Node.js stage, its output copied into the image."""
    spec = ctx.pack.data.get("frontend") or {}
    pkg = src.json("package.json")
    if not spec or not pkg:
        return None
    declared = {**(pkg.get("dependencies") or {}), **(pkg.get("devDependencies") or {})}
    by_dependency: dict[str, list[str]] = spec.get("outputs_by_dependency") or {}
    outputs = next((out for dep, out in by_dependency.items() if dep in declared), spec.get("outputs") or ["public"])
    stage = frontend_stage(ctx, scripts=spec.get("scripts") or ["build"], outputs=outputs, into="runtime")
    if stage is None:
        _note_assets(ctx, src)
    return stage


def _note_assets(ctx: Context, src: Source) -> None:
    scripts = src.json("package.json").get("scripts") or {}
    if isinstance(scripts, dict) and "build" in scripts:
        ctx.reasons.append(
            "package.json has a build script that is not run: commit its output (e.g. public/build) "
            "or add a Dockerfile with a Node.js stage"
        )
