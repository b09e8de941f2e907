"""Node.js and Bun: package managers, frameworks, workspaces and the start command."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from unkey_deploy.plan._buildpacks import Framework, PackageManager
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import CONTEXT, Plan, Recipe
from unkey_deploy.plan._source import Source

INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")  # run by the install, they may read any source file
CONFIG_FILES = (".npmrc", ".yarnrc", ".yarnrc.yml", "bunfig.toml", "pnpm-workspace.yaml")
PATCH_DIRS = ("patches", ".yarn/patches")  # patch-package and pnpm patches, Yarn's patch: protocol


@dataclass(frozen=True)
class Workspace:
    root: Source  # the workspace root (the build context)
    member: str  # the app's path inside it


def plan(ctx: Context) -> Plan:
    src = ctx.src
    pkg = src.json("package.json")
    workspace = find_workspace(src)
    top = workspace.root if workspace else src
    member = workspace.member if workspace else "."
    if workspace:
        ctx.reasons.append(f"workspace member {member} of {_rel(top)}: the build context is the workspace root")
    pm, lockfile = package_manager(ctx, top)
    framework = ctx.framework(dependencies(pkg), "{hit} in package.json")
    deps = dependencies(pkg)

    bun = pm.name == "bun"
    tool = "bun" if bun else "node"
    version = ctx.version(tool, top if workspace else None)
    image = ctx.image(tool, **{tool: version})
    workdir = "/app" if member == "." else f"/app/{member}"

    setup, install = _install(ctx, pm, lockfile, top, workspace is not None or bool(deps))
    scripts: dict[str, Any] = pkg["scripts"] if isinstance(pkg.get("scripts"), dict) else {}
    build = f"{pm.extra['run']} build" if "build" in scripts else None
    if build:
        ctx.reasons.append("build: the build script of package.json")
    static_dir = _static_output(ctx, framework, pkg, scripts)

    files = _install_files(ctx, top, pkg, lockfile, workspace) if install else []
    caches = [pm.cache] if pm.cache else []
    ignore = [name for name in ctx.pack.dockerignore if build or name not in ("dist", "build")]
    if static_dir:
        from unkey_deploy.plan import static

        server = static.static_server(ctx, spa=static.is_spa(ctx, dependencies=deps, framework=framework,
                                                             roots=["public", static_dir]))
        recipe = Recipe(
            build_image=image, runtime_image=server.image, workdir="/app", setup=setup,
            install_files=files, install=[install] if install else [], caches=caches,
            build=[build] if build else [], build_workdir=workdir,
            artifacts=[(f"{workdir}/{static_dir}", static.ROOT)], runtime_workdir=static.ROOT,
            runtime_setup=server.setup, cmd=server.cmd, dockerignore=ignore,
        )
        return ctx.plan(language="node", package_manager=pm.name, framework=framework.id if framework else None,
                        install_command=install, build_command=build, start_command=server.start_command,
                        context_dir=top.app, recipe=recipe)

    start = _start(ctx, pkg, scripts, framework, pm, src)
    env = {"NODE_ENV": "production", **(framework.env if framework else {})}
    if start.split()[0] not in ("node", "bun"):
        bins = dict.fromkeys([f"{workdir}/node_modules/.bin", "/app/node_modules/.bin"])  # app, then workspace root
        env["PATH"] = ":".join([*bins, "$PATH"])
    prune = pm.extra.get("prune") if not workspace and pkg.get("devDependencies") else None
    # Without a build script, pruning needs only the manifests, so it joins the dependency layer.
    steps = [cmd for cmd in (build, prune) if cmd] if build else []
    installs = [cmd for cmd in (install, None if build else prune) if cmd]
    output = framework.output if framework else None
    artifacts = [(f"{workdir}/{output}", f"{workdir}/{output}")] if output else [("/app", "/app")]
    if install and not steps and not workspace and pkg.get("dependencies"):
        artifacts = [("/app/node_modules", "/app/node_modules"), (CONTEXT, "/app")]
    recipe = Recipe(
        build_image=image if (install or steps) else None, runtime_image=image, workdir="/app", setup=setup,
        install_files=files, install=installs, caches=caches,
        build=[" && ".join(steps)] if steps else [], build_workdir=workdir, artifacts=artifacts,
        runtime_workdir=workdir, runtime_env=env, create_user=True, user="app", cmd=exec_form(start),
        dockerignore=ignore,
    )
    return ctx.plan(language="node", package_manager=pm.name, framework=framework.id if framework else None,
                    install_command=install, build_command=build, start_command=start,
                    context_dir=top.app, recipe=recipe)


def dependencies(pkg: dict[str, Any]) -> dict[str, str]:
    deps: dict[str, str] = {}
    for key in ("dependencies", "devDependencies"):
        value = pkg.get(key)
        if isinstance(value, dict):
            deps.update({str(k): str(v) for k, v in value.items()})
    return deps


def package_manager(ctx: Context, top: Source) -> tuple[PackageManager, str | None]:
    pkg = top.json("package.json")
    pinned = str(pkg.get("packageManager") or "").split("@", 1)[0]
    for pm in ctx.pack.package_managers:
        lockfile = top.first(pm.lockfiles)
        if pinned == pm.name:
            ctx.reasons.append(f"package manager {pm.name}: packageManager field of package.json")
            return pm, lockfile
    for pm in ctx.pack.package_managers:
        lockfile = top.first(pm.lockfiles)
        if lockfile:
            ctx.reasons.append(f"package manager {pm.name}: {lockfile} found")
            return pm, lockfile
    ctx.reasons.append("package manager npm: no lockfile found (commit one for reproducible installs)")
    return ctx.pack.package_manager("npm"), None



def find_workspace(src: Source) -> Workspace | None:
    """The workspace (npm/yarn/bun `workspaces`, pnpm-workspace.yaml) above the app that lists it."""
    directory = src.app.parent
    while directory.is_relative_to(src.root):
        top = src.at(directory)
        member = src.app.relative_to(directory).as_posix()
        if any(fnmatch(member, pattern.rstrip("/")) for pattern in workspace_patterns(top)):
            return Workspace(top, member)
        if directory == src.root:
            break
        directory = directory.parent
    return None


def workspace_patterns(top: Source) -> list[str]:
    workspaces = top.json("package.json").get("workspaces")
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if isinstance(workspaces, list):
        return [str(p) for p in workspaces]
    text = top.text("pnpm-workspace.yaml")
    if text:
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            return []
        return [str(p) for p in data.get("packages") or []] if isinstance(data, dict) else []
    return []


def _install(ctx: Context, pm: PackageManager, lockfile: str | None, top: Source,
             needed: bool) -> tuple[list[str], str | None]:
    if not needed and not lockfile:
        ctx.reasons.append("install: skipped, package.json has no dependencies")
        return [], None
    pinned = str(top.json("package.json").get("packageManager") or "")
    setup: list[str] = []
    install = pm.install if lockfile else (pm.install_without_lockfile or pm.install)
    if pm.name in ("pnpm", "yarn") and pinned.startswith(pm.name + "@"):
        setup.append("corepack enable")
        if pm.name == "yarn" and not pinned.startswith("yarn@1"):
            install = pm.extra["install_berry"]
    elif pm.name == "pnpm":
        setup.append(f"npm install -g pnpm@{ctx.version('pnpm', top, report=False)}")
    return setup, install


def _install_files(ctx: Context, top: Source, pkg: dict[str, Any], lockfile: str | None,
                   workspace: Workspace | None) -> list[str]:
    """What the install reads: manifests, lockfile, package-manager config, patches; empty for the whole tree."""
    script = next((name for name in INSTALL_SCRIPTS for manifest in (top.json("package.json"), pkg)
                   if isinstance(manifest.get("scripts"), dict) and name in manifest["scripts"]), None)
    if script:
        ctx.reasons.append(f"install: after the whole source is copied, the {script} script may need it")
        return []
    files = ["package.json"]
    for extra in (lockfile, *CONFIG_FILES, *_yarn_files(top)):
        if extra and top.exists(extra) and extra not in files:
            files.append(extra)
    files += [f"{folder}/{name}" for folder in PATCH_DIRS for name in top.list_dir(folder)
              if top.path(f"{folder}/{name}").is_file()]
    if workspace:
        for pattern in workspace_patterns(top):
            if "**" in pattern:
                return []  # members too deep to list: copy the whole tree before installing
            for path in sorted(top.app.glob(f"{pattern.rstrip('/')}/package.json")):
                files.append(path.relative_to(top.app).as_posix())
    return files


def _yarn_files(top: Source) -> list[str]:
    """The Yarn release and plugins .yarnrc.yml points at (Yarn 2+ runs them from the repository)."""
    text = top.text(".yarnrc.yml")
    if not text:
        return []
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict):
        return []
    plugins = data.get("plugins")
    plugins = plugins if isinstance(plugins, list) else []
    paths = [data.get("yarnPath"), *(p.get("path") if isinstance(p, dict) else p for p in plugins)]
    return [str(p).removeprefix("./") for p in paths if isinstance(p, str)]


def _static_output(ctx: Context, framework: Framework | None, pkg: dict[str, Any],
                   scripts: dict[str, Any]) -> str | None:
    if not framework or not framework.static_output:
        return None
    deps = dependencies(pkg)
    server = next((dep for dep in framework.server_dependencies if dep in deps), None)
    if server:
        ctx.reasons.append(f"{framework.id} runs as a server: {server} in package.json")
        return None
    start = str(scripts.get("start") or "")
    if start and framework.id == "vite" and "vite" not in start:
        ctx.reasons.append("vite with its own start script: runs as a server")
        return None
    ctx.reasons.append(f"static site: {framework.id} builds into {framework.static_output}/")
    return framework.static_output


def _start(ctx: Context, pkg: dict[str, Any], scripts: dict[str, Any], framework: Framework | None,
           pm: PackageManager, src: Source) -> str:
    start = scripts.get("start")
    if isinstance(start, str) and start.strip():
        ctx.reasons.append("start: the start script of package.json")
        return start.strip()
    if framework and framework.start:
        ctx.reasons.append(f"start: {framework.id}'s production server")
        return framework.start
    runner = "bun" if pm.name == "bun" else "node"
    main = pkg.get("main")
    if isinstance(main, str) and src.exists(main):
        ctx.reasons.append("start: the main field of package.json")
        return f"{runner} {main}"
    entries = ctx.pack.entry_files + (("index.ts", "src/index.ts") if runner == "bun" else ())
    entry = src.first(entries)
    if entry:
        ctx.reasons.append(f"start: {entry} found")
        return f"{runner} {entry}"
    from unkey_deploy.errors import UsageError

    raise UsageError(
        "could not find how to start this Node.js app: add a start script to package.json "
        '(e.g. "start": "node server.js"), a Procfile with a web: line, or a Dockerfile'
    )


def _rel(top: Source) -> str:
    rel = top.app.relative_to(top.root).as_posix() if top.app != top.root else "."
    return rel or "."

