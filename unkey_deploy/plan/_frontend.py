"""The Node.js front-end stage of apps in other languages (Rails, Laravel, Phoenix assets).

The Node.js version, the package managers and the base images come from the Node.js unit
(buildpacks/node.yaml); which scripts run and what is copied out come from the caller's unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from unkey_deploy.plan._buildpacks import load_buildpacks
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import FrontendStage
from unkey_deploy.plan._source import Source, table
from unkey_deploy.plan._versions import resolve

# Files the install reads besides package.json and the lockfile.
CONFIG_FILES = (".npmrc", ".yarnrc", ".yarnrc.yml")
# Scripts a package manager runs by itself during the install: they may need the whole source.
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepare")


def frontend_stage(
    ctx: Context,
    *,
    scripts: Sequence[str],
    outputs: Sequence[str],
    into: str,
    directory: str = ".",
    install_only: bool = False,
) -> FrontendStage | None:
    """A stage running the first present of each `scripts` entry (`build|production` tries build, then
    production) of `directory`/package.json, or only the install with `install_only`; None when there is no
    package.json there or nothing to run."""
    src = ctx.src if directory == "." else ctx.src.at(ctx.src.app / directory)
    pkg = src.json("package.json")
    if not pkg:
        return None
    where = "package.json" if directory == "." else f"{directory}/package.json"
    found = table(pkg, "scripts")
    chosen = [name for group in scripts if (name := next((n for n in group.split("|") if n in found), None))]
    has_deps = any(pkg.get(key) for key in ("dependencies", "devDependencies"))
    if (install_only and not has_deps) or (not install_only and not chosen):
        return None
    node = load_buildpacks()["node"]
    pinned = str(pkg.get("packageManager") or "")
    pm, lockfile = node.find_package_manager(src, pinned.split("@", 1)[0]) or (node.package_manager("npm"), None)
    tool = "bun" if pm.name == "bun" else "node"
    pin = resolve(src, node.versions[tool])
    ctx.versions[tool] = pin.version
    ctx.reasons.append(f"front end: {pin.reason}")
    prefix = "" if directory == "." else f"cd {directory} && "
    setup: list[str] = []
    install = pm.install if lockfile else (pm.install_without_lockfile or pm.install)
    if pm.name in ("pnpm", "yarn") and pinned.startswith(pm.name + "@"):
        setup.append("corepack enable")
        if pm.name == "yarn" and not pinned.startswith("yarn@1"):
            install = pm.extra.get("install_berry", install)
    elif pm.name == "pnpm":
        setup.append(f"npm install -g pnpm@{resolve(src, node.versions['pnpm']).version}")
    run = pm.extra.get("run", f"{pm.name} run")
    build = [] if install_only else [f"{prefix}{run} {name}" for name in chosen]
    what = "installs its packages" if install_only else f"runs {', '.join(chosen)}"
    ctx.reasons.append(
        f"front end: a Node.js stage {what} ({pm.name}, {where}) and copies {', '.join(outputs)} "
        + ("into the build" if into == "build" else "into the image")
    )
    stray = f"{where} also present ("
    ctx.reasons[:] = [f"{where}: the front end, built in a Node.js stage" if r.startswith(stray) else r
                      for r in ctx.reasons]
    image = ctx.images.remap(node.images[tool].format(**{tool: pin.version}))
    return FrontendStage(
        image=image, setup=setup, install_files=_install_files(src, directory, found, lockfile),
        install=[prefix + install], build=build, caches=[pm.cache] if pm.cache else [], outputs=list(outputs),
        into=into,
    )


def _install_files(src: Source, directory: str, scripts: Mapping[str, Any], lockfile: str | None) -> list[str]:
    """package.json, its lockfile and package-manager config; empty (the whole source) when the install runs
    scripts of its own or Yarn keeps its release in the repository."""
    if any(name in scripts for name in INSTALL_SCRIPTS) or src.exists(".yarnrc.yml") and src.list_dir(".yarn"):
        return []
    names = ["package.json", *([lockfile] if lockfile else []), *(n for n in CONFIG_FILES if src.exists(n))]
    return [name if directory == "." else f"{directory}/{name}" for name in names]
