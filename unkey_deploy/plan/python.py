"""Python: pip, uv, poetry, pdm and pipenv; the framework's app served by a production server.

The data (frameworks, servers, app files, native packages, port patterns) is in buildpacks/python.yaml;
the Django specifics are in `_python_django`, the start command's choices in `_python_start`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from unkey_deploy.plan import _python_django as django
from unkey_deploy.plan import _python_start as start_rules
from unkey_deploy.plan._buildpacks import Framework, PackageManager
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import CONTEXT, Plan, Recipe
from unkey_deploy.plan._python_deps import declared, installed, normalize, read_requirements
from unkey_deploy.plan._python_rules import AppFramework, python_rules
from unkey_deploy.plan._source import Source
from unkey_deploy.plan.procfile import web_command

VENV = "/opt/venv"
TOOLS = "/opt/tools"
_INCLUDE = re.compile(r"^(?:-r|-c|--requirement|--constraint)(?:\s+|=)(\S+)")
_LOCAL = re.compile(r"^(?:(?:-e|--editable)(?:\s+|=))?(?:\.|/|file:)")
_MANIFESTS = ("pyproject.toml", "Pipfile", "Pipfile.lock", ".python-version")


def plan(ctx: Context) -> Plan:
    src = ctx.src
    workspace = find_uv_workspace(src)
    top = src.at(workspace) if workspace else src
    member = src.app.relative_to(workspace).as_posix() if workspace else "."
    if workspace:
        ctx.reasons.append(f"uv workspace member {member}: the build context is the workspace root")
    pm, lockfile = package_manager(ctx, top)
    specs = declared(src)
    deps = set(specs)
    framework = ctx.framework(deps, "{hit} is a dependency")
    version = ctx.version("python", src)
    _explain_default(ctx, version)
    image = ctx.image("python", python=version)
    workdir = "/app" if member == "." else f"/app/{member}"
    have = installed(top if workspace else src, specs, python_rules().extras_provide)

    steps = install_steps(ctx, pm, lockfile, deps, src, top, version, workspace)
    project_installed = bool(steps.project or (steps.dependencies and not steps.files))
    scripts = _project_scripts(src) if project_installed else set()
    start = _start(ctx, framework, have, src, scripts, project_installed)
    install = steps.dependencies
    if start.server and start.server.added:
        have.add(normalize(start.server.package))
        added = pm.extra["add"].format(packages=start.server.added)
        install = f"{install} && {added}" if install else added
    setup = [f"python -m venv {VENV}"] if install else []
    tool = pm.extra.get("tool")
    if install and tool:
        setup.append(f"python -m venv {TOOLS} && {TOOLS}/bin/pip install --no-cache-dir {tool}")
    build = _build_commands(ctx, framework, src, have)
    after_source = [cmd for cmd in (steps.project, *build) if cmd]
    build_packages, runtime_packages = _native_packages(ctx, have, specs)

    env = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    if install:
        env = {"PATH": f"{VENV}/bin:$PATH", **env}
    build_env = {"VIRTUAL_ENV": VENV, "PATH": f"{VENV}/bin:{TOOLS}/bin:$PATH", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if pm.name == "uv":
        build_env.update({"UV_PROJECT_ENVIRONMENT": VENV, "UV_LINK_MODE": "copy", "UV_PYTHON_DOWNLOADS": "never"})
    if pm.name == "poetry":
        build_env["POETRY_VIRTUALENVS_CREATE"] = "false"
    staged = bool(install or after_source)
    recipe = Recipe(
        build_image=image if staged else None, runtime_image=image, workdir="/app", setup=setup,
        packages=build_packages if staged else [],
        build_env=build_env if staged else {}, install_files=steps.files,
        install=[install] if install else [], caches=[pm.cache] if pm.cache and install else [],
        build=after_source, build_workdir=workdir,
        artifacts=[(VENV, VENV), ("/app" if after_source else CONTEXT, "/app")] if install else [("/app", "/app")],
        runtime_workdir=workdir, runtime_env=env, runtime_packages=runtime_packages,
        create_user=True, user="app", cmd=exec_form(start.command),
        dockerignore=list(ctx.pack.dockerignore),
    )
    result = ctx.plan(language="python", package_manager=pm.name, framework=framework.id if framework else None,
                      install_command=install, build_command=" && ".join(build) or None,
                      start_command=start.command, context_dir=top.app, recipe=recipe)
    if start.warning:
        result.warnings.append(start.warning)
    _check_start(ctx, result, src, have, scripts)
    return result


@dataclass(frozen=True)
class InstallSteps:
    """The dependency install (before the source is copied) and the app's own install (after)."""

    dependencies: str | None
    files: list[str]  # what `dependencies` reads; empty: it needs the whole source
    project: str | None = None


def install_steps(ctx: Context, pm: PackageManager, lockfile: str | None, deps: set[str], src: Source,
                  top: Source, version: str, workspace: Path | None) -> InstallSteps:
    if workspace:
        package = "--package " + str(src.toml("pyproject.toml").get("project", {}).get("name") or src.app.name)
        ctx.reasons.append("install: the workspace members the app uses, after the source is copied")
        return InstallSteps(pm.install.replace("--no-install-project", f"{package} --no-install-workspace"),
                            _uv_workspace_files(top), f"{pm.extra['install_project']} {package}")
    if lockfile and pm.name == "pip" and deps:
        return InstallSteps(pm.install, _requirements_files(src, lockfile))
    if lockfile and pm.name != "pip":
        files = list(dict.fromkeys(f for f in (lockfile, *_MANIFESTS) if src.exists(f)))
        return InstallSteps(pm.install, files, _project_install(ctx, pm, src))
    if not lockfile and _static_project_dependencies(src):
        tomllib = "tomllib" if _at_least(version, (3, 11)) else "pip._vendor.tomli as tomllib"
        return InstallSteps(pm.extra["install_from_pyproject"].replace("{tomllib}", tomllib), ["pyproject.toml"],
                            _project_install(ctx, pm, src))
    if not lockfile and (deps or src.exists("setup.py")):
        ctx.reasons.append("install: pip install . with the whole source (dependencies only the build backend knows)")
        return InstallSteps(pm.install_without_lockfile, [])
    ctx.reasons.append("install: skipped, no dependencies declared")
    return InstallSteps(None, [])


def _project_install(ctx: Context, pm: PackageManager, src: Source) -> str | None:
    command = pm.extra.get("install_project")
    if not command or not is_package(src):
        return None
    ctx.reasons.append("install: the app itself after its source is copied (pyproject.toml has a [build-system])")
    return command


def is_package(src: Source) -> bool:
    """Whether the app installs itself: a [build-system] that poetry, uv or pdm are not told to ignore."""
    pyproject = src.toml("pyproject.toml")
    tool = pyproject.get("tool", {})
    ignored = (tool.get("poetry", {}).get("package-mode"), tool.get("uv", {}).get("package"),
               tool.get("pdm", {}).get("distribution"))
    if False in ignored:
        return False
    return "build-system" in pyproject


def package_manager(ctx: Context, src: Source) -> tuple[PackageManager, str | None]:
    return ctx.package_manager(src, "pip", "no lockfile or requirements.txt found")


def find_uv_workspace(src: Source) -> Path | None:
    for top, member in src.enclosing():
        workspace = top.toml("pyproject.toml").get("tool", {}).get("uv", {}).get("workspace", {})
        if any(fnmatch(member, str(pattern).rstrip("/")) for pattern in workspace.get("members", []) or []):
            return top.app
    return None


def _static_project_dependencies(src: Source) -> bool:
    project = src.toml("pyproject.toml").get("project", {})
    return bool(project.get("dependencies")) and "dependencies" not in (project.get("dynamic") or [])


def _at_least(version: str, minimum: tuple[int, int]) -> bool:
    parts = re.findall(r"\d+", version)[:2]
    return tuple(int(p) for p in parts) >= minimum if len(parts) == 2 else True


def _requirements_files(src: Source, requirements: str) -> list[str]:
    """requirements.txt and the files it includes (-r, -c); empty when it names a local path (`-e .`)."""
    files: list[str] = []
    pending = [requirements]
    while pending:
        name = pending.pop(0)
        if name in files:
            continue
        text = read_requirements(src, name)
        if text is None:
            return []
        files.append(name)
        for line in text.splitlines():
            line = line.split(" #", 1)[0].strip()
            include = _INCLUDE.match(line)
            if include:
                pending.append(posixpath.normpath(posixpath.join(posixpath.dirname(name), include.group(1))))
            elif _LOCAL.match(line):
                return []
    return files


def _uv_workspace_files(top: Source) -> list[str]:
    """The workspace's lockfile and manifests, each member's pyproject.toml included; empty if members are too deep."""
    files = [name for name in ("uv.lock", *_MANIFESTS) if top.exists(name)]
    members = top.toml("pyproject.toml").get("tool", {}).get("uv", {}).get("workspace", {}).get("members", [])
    for pattern in members or []:
        if "**" in str(pattern):
            return []
        for path in sorted(top.app.glob(f"{str(pattern).rstrip('/')}/pyproject.toml")):
            files.append(path.relative_to(top.app).as_posix())
    return files




def _project_scripts(src: Source) -> set[str]:
    """Console scripts the app installs itself ([project.scripts], [tool.poetry.scripts])."""
    pyproject = src.toml("pyproject.toml")
    scripts = pyproject.get("project", {}).get("scripts", {}) or {}
    poetry = pyproject.get("tool", {}).get("poetry", {}).get("scripts", {}) or {}
    return {str(name) for name in (*scripts, *poetry)}


@dataclass(frozen=True)
class Start:
    command: str
    server: start_rules.Server | None = None
    warning: str | None = None


def _start(ctx: Context, framework: Framework | None, have: set[str], src: Source, scripts: set[str],
           project_installed: bool) -> Start:
    """The start command, in order: Procfile web:, the framework's app on a production server, an entry
    file, `python -m <package>`, the app's own console script."""
    rules = python_rules()
    procfile = web_command(src)
    if procfile:
        ctx.reasons.append("start: the web: line of Procfile")
        return Start(procfile)
    chosen = rules.framework(framework.id) if framework else None
    if chosen and chosen.id == "django":
        return _django_start(ctx, chosen, have, src)
    if chosen and chosen.interface:
        app = _configured_app(src) or start_rules.app_object(src, rules, chosen.app, chosen.factories)
        if app:
            return _serve(ctx, app, chosen.interface, have, f"the {chosen.id} app")
        ctx.reasons.append(f"start: no {chosen.id} app object found in the usual files or top-level modules")
    for server in rules.servers:
        if normalize(server.package) not in have:
            continue
        for interface in server.interfaces:
            constructors = [c for f in rules.frameworks if f.interface == interface for c in f.app]
            app = start_rules.app_object(src, rules, constructors, [])
            if app:
                return _serve(ctx, app, interface, have, "the app", (server.program,))
    entry = src.first(ctx.pack.entry_files)
    if entry:
        ctx.reasons.append(f"start: {entry} found")
        return Start(f"python {entry}")
    package = start_rules.module_entry(src, project_installed)
    if package:
        ctx.reasons.append(f"start: python -m {package}, it has a __main__.py")
        return Start(f"python -m {package}")
    script = _pick_script(src, scripts)
    if script:
        ctx.reasons.append(f"start: {script}, the app's console script ([project.scripts])")
        return Start(script)
    from unkey_deploy.errors import UsageError

    raise UsageError(
        "could not find how to start this Python app: add a main.py or app.py, a Procfile with a web: line, "
        "or a Dockerfile"
    )


def _configured_app(src: Source) -> start_rules.AppObject | None:
    """`[tool.fastapi] entrypoint = "app.main:app"`, what `fastapi run` serves."""
    entry = src.toml("pyproject.toml").get("tool", {}).get("fastapi", {}).get("entrypoint")
    if isinstance(entry, str) and ":" in entry:
        module, _, name = entry.partition(":")
        return start_rules.AppObject(module, name)
    return None


def _serve(ctx: Context, app: start_rules.AppObject, interface: str, have: set[str], what: str,
           prefer: tuple[str, ...] = ()) -> Start:
    rules = python_rules()
    server = start_rules.choose_server(rules, interface, have, prefer)
    command = start_rules.server_command(rules, server, app, interface)
    where = f" ({app.file})" if app.file else ""
    if server.added:
        ctx.reasons.append(f"start: {server.program} serving {what} {app.ref}{where}; no {interface.upper()} server "
                           f"is a dependency, so {server.added} is installed with them")
    else:
        ctx.reasons.append(f"start: {server.program} serving {what} {app.ref}{where}")
    return Start(command, server)


def _django_start(ctx: Context, rules: AppFramework, have: set[str], src: Source) -> Start:
    app = django.find(src)
    if app.settings:
        ctx.reasons.append(f"Django settings: {app.settings}")
    if not app.project:
        ctx.reasons.append("start: Django's development server, no wsgi.py or asgi.py found (add one to serve "
                           "with gunicorn)")
        return Start("python manage.py runserver 0.0.0.0:$PORT",
                     warning="Django runs with its development server (runserver): add <project>/wsgi.py so a "
                     "production server can serve it")
    asgi_deps = [d for d in rules.asgi_dependencies if d in have]
    if asgi_deps and app.has_asgi(src):
        target = start_rules.AppObject(f"{app.project}.asgi", "application")
        return _serve(ctx, target, "asgi", have, f"Django over ASGI ({asgi_deps[0]})", ("daphne",))
    servers = python_rules().servers
    wsgi_servers = [s for s in servers if "wsgi" in s.interfaces]
    if not any(normalize(s.package) in have for s in wsgi_servers) and app.has_asgi(src):
        asgi_servers = [s for s in servers if "asgi" in s.interfaces]
        if any(normalize(s.package) in have for s in asgi_servers):
            return _serve(ctx, start_rules.AppObject(f"{app.project}.asgi", "application"), "asgi", have,
                          "Django")
    if not src.exists(f"{app.project}/wsgi.py"):
        return _serve(ctx, start_rules.AppObject(f"{app.project}.asgi", "application"), "asgi", have, "Django")
    return _serve(ctx, start_rules.AppObject(f"{app.project}.wsgi", "application"), "wsgi", have, "Django")


def _pick_script(src: Source, scripts: set[str]) -> str | None:
    if len(scripts) == 1:
        return next(iter(scripts))
    name = str(src.toml("pyproject.toml").get("project", {}).get("name") or "")
    for candidate in (name, "serve", "server", "start", "web", "api"):
        if candidate in scripts:
            return candidate
    return None


def _build_commands(ctx: Context, framework: Framework | None, src: Source, have: set[str]) -> list[str]:
    if not framework or framework.id != "django":
        return []
    commands, reasons = django.build_commands(django.find(src), have, python_rules().django)
    ctx.reasons.extend(reasons)
    return commands


def _native_packages(ctx: Context, have: set[str], specs: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """Debian packages: to compile the dependencies (build stage only) and to load them (runtime)."""
    build: list[str] = []
    runtime: list[str] = []
    for name, needs in python_rules().native_packages.items():
        key = normalize(name)
        if key not in have or specs.get(key, set()) & {normalize(e) for e in needs.unless_extras}:
            continue
        build += [p for p in needs.build if p not in build]
        runtime += [p for p in needs.runtime if p not in runtime]
        parts = [f"build stage {' '.join(needs.build)}" if needs.build else "",
                 f"runtime {' '.join(needs.runtime)}" if needs.runtime else ""]
        ctx.reasons.append(f"native packages for {name}: {', '.join(p for p in parts if p)}")
    return build, runtime


def _check_start(ctx: Context, plan: Plan, src: Source, have: set[str], scripts: set[str]) -> None:
    """Say before any build when the start program is not in the runtime image (which package provides
    which command is Python's own knowledge; hard-coded ports are the common check of `ports:` rules)."""
    command = plan.start_command or ""
    missing = start_rules.missing_programs(command, src, have, scripts, python_rules())
    for program in missing:
        ctx.reasons.append(f"start: {program} is not installed in the runtime image (no dependency provides it)")
        plan.warnings.append(f"the start command runs {program}, which nothing installs in the image: add it to "
                             "the dependencies, or set the start command (Procfile web: line)")


def _explain_default(ctx: Context, version: str) -> None:
    """Say which default was chosen and why, when nothing in the repository pins Python."""
    last = ctx.reasons[-1] if ctx.reasons else ""
    if not last.startswith(f"python {version} (default"):
        return
    why = python_rules().default_why
    ctx.reasons[-1] = (f"python {version}: the default ({why}); nothing pins it in .python-version, runtime.txt, "
                       "a lockfile or requires-python") if why else last
