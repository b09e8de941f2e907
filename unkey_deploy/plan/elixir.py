"""Elixir: `mix release` on the elixir image; the release (with its own ERTS) runs on Debian slim."""

from __future__ import annotations

import re

from unkey_deploy.plan._buildpacks import Framework
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._frontend import frontend_stage
from unkey_deploy.plan._model import FrontendStage, Plan, Recipe
from unkey_deploy.plan._source import Source, table

_APP = re.compile(r"\bapp:\s*:([a-z_][a-z0-9_]*)")
_DEP = re.compile(r"\{\s*:([a-z_][a-z0-9_]*)\s*,")


def plan(ctx: Context) -> Plan:
    src = ctx.src
    mix = src.text("mix.exs") or ""
    app = _app_name(ctx, mix, src)
    framework = ctx.framework(set(_DEP.findall(mix)), ":{hit} is a dependency (set SECRET_KEY_BASE at run time)")
    version = ctx.version("elixir")
    pm = ctx.pack.package_manager("mix")
    ctx.reasons.append("dependencies: mix.lock found" if src.exists("mix.lock") else "dependencies: no mix.lock")
    frontend, node_steps, node_packages = _assets_packages(ctx, framework, mix, src)
    steps = [*node_steps, *_asset_steps(ctx, framework, mix, src, bool(node_steps))]
    build = " && ".join([*steps, pm.extra["build"]])
    env = {"LANG": "C.UTF-8", **(framework.env if framework else {})}
    recipe = Recipe(
        build_image=ctx.image("elixir", elixir=version), runtime_image=ctx.image("runtime"), workdir="/app",
        build_env={"MIX_ENV": "prod"}, packages=node_packages, setup=[pm.extra["setup"]],
        install_files=[f for f in ("mix.exs", "mix.lock", "config/config.exs", "config/prod.exs") if src.exists(f)],
        install=[pm.install], caches=[str(pm.cache), pm.extra["rebar_cache"]], build=[build],
        artifacts=[(f"/app/_build/prod/rel/{app}", "/app")], runtime_env=env,
        runtime_packages=list(ctx.pack.data.get("runtime_packages") or ()), create_user=True, user="app",
        cmd=[f"/app/bin/{app}", "start"], dockerignore=list(ctx.pack.dockerignore), frontend=frontend,
    )
    return ctx.plan(language="elixir", package_manager="mix", framework=framework.id if framework else None,
                    install_command=pm.install, build_command=build, start_command=f"/app/bin/{app} start",
                    recipe=recipe)



def _has_alias(framework: Framework | None, mix: str) -> str | None:
    alias = str(framework.data.get("build_alias") or "assets.deploy") if framework else "assets.deploy"
    return alias if re.search(rf'"{re.escape(alias)}"\s*:', mix) or f"{alias}:" in mix else None


def _asset_steps(ctx: Context, framework: Framework | None, mix: str, src: Source, npm_built: bool) -> list[str]:
    """The assets alias of mix.exs when there is one; for Phoenix without it, the digest of priv/static."""
    alias = _has_alias(framework, mix)
    if alias:
        ctx.reasons.append(f"build: the {alias} alias of mix.exs, then mix release")
        return [f"mix {alias}"]
    alias = str(framework.data.get("build_alias") or "assets.deploy") if framework else "assets.deploy"
    if framework and framework.build and (npm_built or src.list_dir("priv/static")):
        ctx.reasons.append(f"build: {framework.build} (priv/static, no {alias} alias in mix.exs), then mix release")
        return [framework.build]
    return []


def _assets_packages(ctx: Context, framework: Framework | None, mix: str,
                     src: Source) -> tuple[FrontendStage | None, list[str], list[str]]:
    """(Node.js stage, build steps, build-stage packages) for the npm packages of assets/package.json.

    They install in a Node.js stage, unless they point into deps/ (`"phoenix": "file:../deps/phoenix"`),
    which only the build stage has, or the assets build is an npm script (`deploy`, Phoenix before 1.6):
    then Node.js is installed in the build stage and npm runs there before the digest.
    """
    spec = framework.data.get("frontend") if framework else None
    if not spec:
        return None, [], []
    directory = str(spec.get("directory") or "assets")
    pkg = src.json(f"{directory}/package.json")
    declared = {**(pkg.get("dependencies") or {}), **(pkg.get("devDependencies") or {})}
    scripts = table(pkg, "scripts")
    script = None if _has_alias(framework, mix) else next((n for n in spec.get("scripts") or () if n in scripts), None)
    if script or any(str(v).startswith("file:../deps/") for v in declared.values()):
        lock = src.exists(f"{directory}/package-lock.json")
        commands = [f"npm {'ci' if lock else 'install'} --prefix {directory}"]
        commands += [f"npm run {script} --prefix {directory}"] if script else []
        why = f"the {script} script of {directory}/package.json" if script else "packages from deps/"
        ctx.reasons.append(f"build: {' && '.join(commands)} in the build stage ({why})")
        return None, commands, [str(p) for p in spec.get("build_packages") or ("nodejs", "npm")]
    stage = frontend_stage(ctx, scripts=[], outputs=spec.get("outputs") or [], into="build", directory=directory,
                           install_only=True)
    return stage, [], []


def _app_name(ctx: Context, mix: str, src: Source) -> str:
    match = _APP.search(mix)
    name = match.group(1) if match else re.sub(r"\W", "_", src.app.name).lower()
    why = "app: in mix.exs" if match else "the directory name"
    ctx.reasons.append(f"release {name} ({why}), started with bin/{name} start")
    return name
