"""Gleam: the Erlang target ships as an erlang-shipment on erlang-slim; the JavaScript target runs on Node.js."""

from __future__ import annotations

import shlex

from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe


def plan(ctx: Context) -> Plan:
    src = ctx.src
    manifest = src.toml("gleam.toml")
    name = str(manifest.get("name") or src.app.name)
    target = "javascript" if manifest.get("target") == "javascript" else "erlang"
    ctx.reasons.append(f"target {target}" + (" (gleam.toml)" if "target" in manifest else " (the default)"))
    version = ctx.version("gleam")
    pm = ctx.pack.package_manager("gleam")
    locked = src.exists("manifest.toml")
    ctx.reasons.append("dependencies: manifest.toml found" if locked else "dependencies: no manifest.toml")
    if target == "javascript":
        build = pm.extra["build_javascript"]
        build_image = ctx.image("gleam_javascript", gleam=version)
        runtime = ctx.image("runtime_javascript")
        artifacts = [("/app/build/dev/javascript", "/app/build/dev/javascript")]
        module = f"/app/build/dev/javascript/{name}/{name}.mjs"
        cmd = ["node", "--input-type=module", "-e", f"import {{ main }} from '{module}'; main()"]
        ctx.reasons.append(f"start: main() of {name}.mjs on Node.js")
    else:
        build = pm.extra["build"]
        build_image = ctx.image("gleam", gleam=version)
        runtime = ctx.image("runtime", erlang=ctx.version("erlang", report=False))
        artifacts = [("/app/build/erlang-shipment", "/app")]
        cmd = ["/app/entrypoint.sh", "run"]
        ctx.reasons.append("start: entrypoint.sh run of the erlang-shipment")
    recipe = Recipe(
        build_image=build_image, runtime_image=runtime, workdir="/app",
        install_files=[f for f in ("gleam.toml", "manifest.toml") if src.exists(f)], install=[pm.install],
        caches=[str(pm.cache)], build=[build], artifacts=artifacts, create_user=True, user="app", cmd=cmd,
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="gleam", package_manager="gleam", install_command=pm.install, build_command=build,
                    start_command=shlex.join(cmd), recipe=recipe)
