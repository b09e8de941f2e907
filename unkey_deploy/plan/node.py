"""Node.js and Bun: package managers, frameworks, workspaces and the start command."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from unkey_deploy.plan import node_rules, node_start, static
from unkey_deploy.plan._buildpacks import Buildpack, Framework, PackageManager
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import CONTEXT, Plan, Recipe
from unkey_deploy.plan._source import Source, table
from unkey_deploy.plan.node_rules import NodeRules, Standalone

INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")  # run by the install, they may read any source file
CONFIG_FILES = (".npmrc", ".yarnrc", ".yarnrc.yml", "bunfig.toml", "pnpm-workspace.yaml")
PATCH_DIRS = ("patches", ".yarn/patches")  # patch-package and pnpm patches, Yarn's patch: protocol


@dataclass(frozen=True)
class Workspace:
    root: Source  # the workspace root (the build context)
    member: str  # the app's path inside it


def plan(ctx: Context) -> Plan:
    src = ctx.src
    rules = node_rules.rules()
    pkg = src.json("package.json")
    workspace = find_workspace(src)
    top = workspace.root if workspace else src
    member = workspace.member if workspace else "."
    if workspace:
        ctx.reasons.append(f"workspace member {member} of {_rel(top)}: the build context is the workspace root")
    pm, lockfile = package_manager(ctx, top)
    deps = dependencies(pkg)
    framework = ctx.framework(deps, "{hit} in package.json")

    bun = pm.name == "bun"
    tool = "bun" if bun else "node"
    version = _bun_version(ctx, top, rules) if bun else _node_version(ctx, top if workspace else None, rules)
    image = ctx.image(tool, **{tool: version})
    workdir = "/app" if member == "." else f"/app/{member}"

    setup, install = _install(ctx, pm, lockfile, top, workspace is not None or bool(deps), version, ctx.warnings)
    pinned = str(top.json("package.json").get("packageManager") or "")
    build_env = dict(rules.corepack_env) if any("corepack" in s for s in setup) and "+" not in pinned else {}
    scripts = table(pkg, "scripts")
    build = f"{pm.extra['run']} build" if "build" in scripts else None
    builds, build_workdir = _workspace_builds(ctx, workspace, pkg, pm, rules) if workspace else ([], workdir)
    if build and not builds:
        builds = [build]
        ctx.reasons.append("build: the build script of package.json")
    generate, packages = _build_steps(ctx, src, top, pkg, pm, rules)
    static_dir = _static_output(ctx, framework, pkg, scripts)
    copy_root = False
    if static_dir and framework and not builds:
        builds, static_dir, copy_root = _unbuilt_static(ctx, src, framework, static_dir, deps, pm, rules)

    files = _install_files(ctx, top, pkg, lockfile, workspace) if install else []
    caches = [pm.cache] if pm.cache else []
    ignore = [name for name in ctx.pack.dockerignore if builds or name not in ("dist", "build")]
    steps = [*generate, *builds]
    if copy_root:  # nothing to build: the committed site is served as it is, as the static unit serves one
        ctx.versions.pop(tool, None)
        server = static.static_server(ctx, spa=static.is_spa(ctx, roots=["."]))
        recipe = Recipe(runtime_image=server.image, workdir=static.ROOT, copy_from=".",
                        runtime_setup=server.setup, cmd=server.cmd,
                        dockerignore=[*ignore, "package.json", "package-lock.json"])
        return ctx.plan(language="node", package_manager=pm.name, framework=framework.id if framework else None,
                        start_command=server.start_command, context_dir=top.app, recipe=recipe)
    if static_dir:
        server = static.static_server(ctx, spa=static.is_spa(ctx, dependencies=deps, framework=framework,
                                                             roots=["public", static_dir]))
        recipe = Recipe(
            build_image=image, runtime_image=server.image, workdir="/app", setup=setup, packages=packages,
            build_env=build_env, install_files=files, install=[install] if install else [], caches=caches,
            build=[" && ".join(steps)] if steps else [], build_workdir=build_workdir,
            artifacts=[(f"{workdir}/{static_dir}", static.ROOT)], runtime_workdir=static.ROOT,
            runtime_setup=server.setup, cmd=server.cmd, dockerignore=ignore,
        )
        return ctx.plan(language="node", package_manager=pm.name, framework=framework.id if framework else None,
                        install_command=install, build_command=" && ".join(steps) or None,
                        start_command=server.start_command, context_dir=top.app, recipe=recipe)

    runner = "bun" if bun else "node"
    manifests = [pkg, top.json("package.json")] if workspace else [pkg]
    standalone = _standalone(ctx, src, framework, rules) if framework and not workspace and builds else None
    deps_seen = node_start.Deps.of(manifests, runner, _yarn_pnp(top) if pm.name == "yarn" else False)
    start = _start(ctx, pkg, scripts, framework, src, rules, deps_seen, standalone)
    if start.warning and not _procfile_web(src):  # a Procfile's web: line replaces the start command
        ctx.reasons.append(f"warning: {start.warning}")
        ctx.warnings.append(start.warning)
    missing = None if steps or start.warning else _missing_script(src, start.command)
    if missing and not _procfile_web(src):
        warning = (f"the start command runs {missing}, which is not in the source and nothing builds it: commit it, "
                   "add a build script that creates it, or fix the start command")
        ctx.reasons.append(f"warning: {warning}")
        ctx.warnings.append(warning)
    env = {"NODE_ENV": "production", **(framework.env if framework else {})}
    if node_start.program_of(start.command)[0] not in ("node", "bun"):
        bins = dict.fromkeys([f"{workdir}/node_modules/.bin", "/app/node_modules/.bin"])  # app, then workspace root
        env["PATH"] = ":".join([*bins, "$PATH"])
    prune = pm.extra.get("prune") if not workspace and pkg.get("devDependencies") and not standalone else None
    if prune and start.keep_dev:
        prune = None
    # Without a build step, pruning needs only the manifests, so it joins the dependency layer.
    if steps and prune:
        steps.append(prune)
    installs = [cmd for cmd in (install, None if steps else prune) if cmd]
    output = framework.output if framework and steps else None  # never a directory no step produces
    artifacts = [(f"{workdir}/{output}", f"{workdir}/{output}")] if output else [("/app", "/app")]
    if standalone:
        artifacts = [(f"{workdir}/{source}", f"{workdir}/{target}".removesuffix("/."))
                     for source, target in standalone.copy.items()
                     if source.startswith(".next/") or src.path(source).exists()]
    elif install and not steps and not workspace and pkg.get("dependencies"):
        artifacts = [("/app/node_modules", "/app/node_modules"), (CONTEXT, "/app")]
    recipe = Recipe(
        build_image=image if (install or steps) else None, runtime_image=image, workdir="/app", setup=setup,
        packages=packages, build_env=build_env, install_files=files, install=installs, caches=caches,
        build=[" && ".join(steps)] if steps else [], build_workdir=build_workdir, artifacts=artifacts,
        runtime_workdir=workdir, runtime_env=env, runtime_packages=list(packages), create_user=True, user="app",
        cmd=exec_form(start.command), dockerignore=ignore,
    )
    return ctx.plan(language="node", package_manager=pm.name, framework=framework.id if framework else None,
                    install_command=install, build_command=" && ".join([*generate, *builds]) or None,
                    start_command=start.command, context_dir=top.app, recipe=recipe)


def detect(src: Source, pack: Buildpack) -> str | None:
    """package.json, or a Bun app without one: a Bun lockfile beside an entry file (`bun index.ts`)."""
    hit = src.first(pack.detect_files)
    if hit:
        return hit
    lockfile = src.first(pack.package_manager("bun").lockfiles)
    return lockfile if lockfile and src.first(node_rules.rules().bun_entry_files) else None


def _node_version(ctx: Context, top: Source | None, rules: NodeRules) -> str:
    """The pinned or default Node; a pin of a major older than any image the buildpack builds on is a floor."""
    from unkey_deploy.plan import node_versions

    version = ctx.version("node", top)
    floor = node_versions.node_floor(version, ctx.pack.versions["node"], rules)
    if floor:
        ctx.versions["node"] = floor
        warning = (f"node {version} is pinned, older than any Node this buildpack builds on ({rules.oldest_node} "
                   f"and later): node {floor} is used instead, the oldest supported release above the pin "
                   "(raise engines.node or .nvmrc to say so)")
        ctx.reasons.append(f"warning: {warning}")
        ctx.warnings.append(warning)
        return floor
    return version


def _bun_version(ctx: Context, top: Source, rules: NodeRules) -> str:
    from unkey_deploy.plan import node_versions

    chosen = node_versions.bun_version(top, ctx.pack.versions["bun"], rules)
    ctx.versions["bun"] = chosen.version
    ctx.reasons.append(chosen.reason)
    if chosen.warning:
        ctx.reasons.append(f"warning: {chosen.warning}")
        ctx.warnings.append(chosen.warning)
    return chosen.version


def _unbuilt_static(ctx: Context, src: Source, framework: Framework, static_dir: str, deps: dict[str, str],
                    pm: PackageManager, rules: NodeRules) -> tuple[list[str], str | None, bool]:
    """A static-output framework without a build script: (build steps, directory to serve, serve the root).

    The framework's own build runs when its program is installed; else a committed output directory or a
    root index.html is served as it is. Never a directory that nothing produces."""
    import re

    build = framework.build
    needs = framework.data.get("build_needs") or {}
    unmet = next((name for name, pattern in needs.items() if not re.search(pattern, src.text(name) or "")), None)
    if build and unmet:
        ctx.reasons.append(f"no {build}: {unmet} has nothing for it to build (no build script either)")
    elif build and rules.package_of(build.split()[0]) in deps:
        ctx.reasons.append(f"build: {build}, package.json has no build script and {framework.id} is installed")
        return [f"{pm.extra.get('exec', 'npx')} {build}"], static_dir, False
    if src.path(static_dir).is_dir() and src.exists(f"{static_dir}/index.html"):
        ctx.reasons.append(f"static site: {static_dir}/ is committed and nothing builds it: served as it is")
        return [], static_dir, False
    if src.exists("index.html"):
        ctx.reasons.append(f"static site: nothing builds {static_dir}/, so the root (index.html) is served as it is")
        return [], None, True
    ctx.reasons.append(f"not a static site: nothing builds {static_dir}/ and there is no index.html to serve")
    return [], None, False


def dependencies(pkg: dict[str, Any]) -> dict[str, str]:
    deps: dict[str, str] = {}
    for key in ("dependencies", "devDependencies"):
        value = pkg.get(key)
        if isinstance(value, dict):
            deps.update({str(k): str(v) for k, v in value.items()})
    return deps


def package_manager(ctx: Context, top: Source) -> tuple[PackageManager, str | None]:
    pinned = str(top.json("package.json").get("packageManager") or "").split("@", 1)[0]
    return ctx.package_manager(top, "npm", "no lockfile found (commit one for reproducible installs)",
                               pinned=pinned, pinned_by="packageManager field of package.json")



def find_workspace(src: Source) -> Workspace | None:
    """The workspace (npm/yarn/bun `workspaces`, pnpm-workspace.yaml) above the app that lists it."""
    for top, member in src.enclosing():
        if any(fnmatch(member, pattern.rstrip("/")) for pattern in workspace_patterns(top)):
            return Workspace(top, member)
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


def _install(ctx: Context, pm: PackageManager, lockfile: str | None, top: Source, needed: bool,
             node: str, warnings: list[str]) -> tuple[list[str], str | None]:
    if not needed and not lockfile:
        ctx.reasons.append("install: skipped, package.json has no dependencies")
        return [], None
    if not top.exists("package.json"):
        ctx.reasons.append(f"install: skipped, no package.json beside {lockfile} (nothing to install)")
        return [], None
    from unkey_deploy.plan import node_versions

    rules = node_rules.rules()
    pinned = str(top.json("package.json").get("packageManager") or "")
    setup: list[str] = []
    install = pm.install if lockfile else (pm.install_without_lockfile or pm.install)
    if pm.name == "pnpm":
        chosen = node_versions.pnpm_version(top, ctx.pack.versions["pnpm"], rules, node)
        ctx.reasons.append(chosen.reason)
        if chosen.warning:
            ctx.reasons.append(f"warning: {chosen.warning}")
            warnings.append(chosen.warning)
        if pinned.startswith("pnpm@"):
            setup.append("corepack enable")
        else:
            setup.append(f"npm install -g pnpm@{chosen.version}")
    elif pm.name == "yarn":
        chosen = node_versions.yarn_version(top, ctx.pack.versions["yarn"], rules)
        ctx.reasons.append(chosen.reason)
        berry = chosen.version.split(".")[0] != "1"
        if pinned.startswith("yarn@"):
            setup.append("corepack enable")
        elif berry and not _yarn_files(top):
            setup.append(f"corepack enable && corepack prepare yarn@{chosen.version} --activate")
        if berry and lockfile and chosen.pinned:
            install = pm.extra["install_berry"]
        elif berry and lockfile:
            # A newer release of the same major may rewrite the lockfile's format; --immutable would refuse.
            install = pm.install_without_lockfile or pm.install
            ctx.reasons.append("install: without --immutable, the Yarn release that wrote yarn.lock is not pinned")
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


def _missing_script(src: Source, command: str) -> str | None:
    """The file `node <file>` runs when it exists nowhere (resolved like Node: as is, .js/.mjs/.cjs, /index.js)."""
    program, args = node_start.program_of(command.split("&&")[-1].strip())
    if program not in ("node", "bun"):
        return None
    target = next((a for i, a in enumerate(args) if not a.startswith("-")
                   and (i == 0 or args[i - 1] not in node_start.NODE_MODULE_FLAGS)), None)
    if not target or "$" in target or target in ("run",):
        return None
    target = target.removeprefix("./")
    candidates = [target, *(target + ext for ext in (".js", ".mjs", ".cjs", ".ts")),
                  *(f"{target}/index{ext}" for ext in (".js", ".mjs", ".cjs"))]
    if any(src.exists(name) for name in candidates) or src.exists(f"{target}/package.json"):
        return None
    return target


def _procfile_web(src: Source) -> bool:
    from unkey_deploy.plan.procfile import web_command

    return bool(web_command(src))


def _yarn_pnp(top: Source) -> bool:
    """Yarn 2+ without `nodeLinker: node-modules` (or pnpm) installs Plug'n'Play: no node_modules."""
    text = top.text(".yarnrc.yml")
    if text is None:
        return False  # Yarn 1, or Yarn 2+ with defaults nobody deploys without a .yarnrc.yml
    import re

    linker = re.search(r"(?m)^nodeLinker:\s*[\"']?([\w-]+)", text)
    return not linker or linker.group(1) == "pnp"


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
           src: Source, rules: NodeRules, deps: node_start.Deps, standalone: Standalone | None) -> node_start.Start:
    """The first production start command whose program the runtime image has (see node_start)."""
    candidates = [node_start.Candidate(f"the {name} script of package.json", str(scripts[name]))
                  for name in rules.start_scripts if isinstance(scripts.get(name), str) and scripts[name].strip()]
    if standalone:
        candidates.insert(0, node_start.Candidate("the standalone server of next build", standalone.start))
    if framework and framework.start:
        candidates.append(node_start.Candidate(f"{framework.id}'s production server", framework.start))
    main = pkg.get("main")
    if isinstance(main, str) and src.exists(main):
        candidates.append(node_start.Candidate("the main field of package.json", f"{deps.runner} {main}"))
    entries = ctx.pack.entry_files + (("index.ts", "src/index.ts") if deps.runner == "bun" else ())
    entry = src.first(entries)
    if entry:
        candidates.append(node_start.Candidate(f"{entry} found", f"{deps.runner} {entry}"))
    start = node_start.choose(candidates, rules, deps, scripts)
    ctx.reasons.extend(start.reasons if start else [])
    if start and start.command:
        return start
    from unkey_deploy.errors import UsageError

    if start:
        raise UsageError(
            "no production start command for this Node.js app: its scripts only run a dev server or a "
            'watcher; add a start script that runs the built server (e.g. "start": "node dist/index.js"), '
            "a Procfile with a web: line, or a Dockerfile"
        )
    raise UsageError(
        "could not find how to start this Node.js app: add a start script to package.json "
        '(e.g. "start": "node server.js"), a Procfile with a web: line, or a Dockerfile'
    )


def _standalone(ctx: Context, src: Source, framework: Framework, rules: NodeRules) -> Standalone | None:
    """The framework's self-contained server build, when its config asks for one."""
    import re

    standalone = rules.standalone.get(framework.id)
    if not standalone:
        return None
    for name in standalone.config:
        if re.search(standalone.pattern, src.text(name) or ""):
            ctx.reasons.append(f"{framework.id}: standalone output in {name}: only the server it traces ships")
            return standalone
    return None


def _build_steps(ctx: Context, src: Source, top: Source, pkg: dict[str, Any], pm: PackageManager,
                 rules: NodeRules) -> tuple[list[str], list[str]]:
    """Tool steps before the build script (`prisma generate`), and the Debian packages they need."""
    deps = {**dependencies(top.json("package.json")), **dependencies(pkg)}
    scripts = [str(v) for manifest in (pkg, top.json("package.json"))
               for k, v in (manifest.get("scripts") or {}).items()
               if isinstance(manifest.get("scripts"), dict) and (k == "build" or k in INSTALL_SCRIPTS)]
    commands: list[str] = []
    packages: list[str] = []
    for step in rules.build_steps:
        used = next((dep for dep in step.dependencies if dep in deps), None)
        if not used:
            continue
        found = _step_file(src, step)
        if not found:
            continue
        packages += [p for p in step.packages if p not in packages]
        if step.skip_if and any(step.skip_if in script for script in scripts):
            ctx.reasons.append(f"{step.id}: {found} found, package.json scripts already run {step.skip_if}")
            continue
        program = step.run.split()[0]
        runner = pm.extra.get("exec", "npx") if program in deps else "npx --yes"
        commands.append(f"{runner} {step.run}")
        ctx.reasons.append(f"{step.id}: {found} found, so the build runs {step.run} first")
    return commands, packages


def _step_file(src: Source, step: node_rules.BuildStep) -> str | None:
    found = src.first(step.files)
    if found:
        return found
    if step.setting:
        from unkey_deploy.plan._versions import read_source

        where = read_source(src, f"json:{step.setting}")
        if where and src.path(where).exists():
            return where
    return next((folder for folder in step.folders if src.path(folder).is_dir()), None)


def _workspace_builds(ctx: Context, workspace: Workspace, pkg: dict[str, Any], pm: PackageManager,
                      rules: NodeRules) -> tuple[list[str], str]:
    """Build the app and the workspace packages it depends on, dependencies first."""
    top = workspace.root
    member_dir = f"/app/{workspace.member}"
    name = pkg.get("name")
    members = _members(top)
    order = _local_closure(workspace.member, members)
    with_build = [path for path in order if "build" in (members[path].get("scripts") or {})]
    if not with_build or not isinstance(name, str):
        return [], member_dir
    if with_build == [workspace.member]:
        return [], member_dir  # only the app builds: its own build script
    root_deps = dependencies(top.json("package.json"))
    for runner in rules.task_runners:
        found = top.first(runner.files)
        if found and any(dep in root_deps for dep in runner.dependencies):
            command = f"{pm.extra.get('exec', 'npx')} {runner.build.format(app=name)}"
            ctx.reasons.append(f"build: {runner.id} ({found}) builds {name} and the workspace packages it uses")
            return [command], "/app"
    if pm.extra.get("filter"):
        ctx.reasons.append(f"build: {pm.name} builds {name} and the workspace packages it uses, in order")
        return [pm.extra["filter"].format(app=name)], "/app"
    ctx.reasons.append("build: the workspace packages the app uses first ("
                       + ", ".join(p for p in with_build if p != workspace.member) + "), then the app")
    return [f"cd /app/{path} && {pm.extra['run']} build" for path in with_build], "/app"


def _members(top: Source) -> dict[str, dict[str, Any]]:
    """Workspace member path -> its package.json (members listed by a glob one level deep)."""
    members: dict[str, dict[str, Any]] = {}
    for pattern in workspace_patterns(top):
        if "**" in pattern or pattern.startswith("!"):
            continue
        for path in sorted(top.app.glob(f"{pattern.rstrip('/')}/package.json")):
            rel = path.parent.relative_to(top.app).as_posix()
            members[rel] = top.json(f"{rel}/package.json")
    return members


def _local_closure(app: str, members: dict[str, dict[str, Any]]) -> list[str]:
    """The app and the members it depends on (transitively), each after its own dependencies."""
    by_name = {str(m.get("name")): path for path, m in members.items() if m.get("name")}
    order: list[str] = []
    seen: set[str] = set()

    def visit(path: str) -> None:
        if path in seen:
            return
        seen.add(path)
        for dep in dependencies(members.get(path, {})):
            if dep in by_name:
                visit(by_name[dep])
        order.append(path)

    visit(app)
    return order


def _rel(top: Source) -> str:
    rel = top.app.relative_to(top.root).as_posix() if top.app != top.root else "."
    return rel or "."

