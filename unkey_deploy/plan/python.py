"""Python: pip, uv, poetry, pdm and pipenv; Django, FastAPI and Flask entry points."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from unkey_deploy.plan._buildpacks import Framework, PackageManager
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import CONTEXT, Plan, Recipe
from unkey_deploy.plan._source import Source

VENV = "/opt/venv"
TOOLS = "/opt/tools"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
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
    deps = dependencies(src)
    framework = ctx.framework(deps, "{hit} is a dependency")
    version = ctx.version("python", src)
    image = ctx.image("python", python=version)
    workdir = "/app" if member == "." else f"/app/{member}"

    steps = install_steps(ctx, pm, lockfile, deps, src, top, version, workspace)
    install = steps.dependencies
    setup = [f"python -m venv {VENV}"] if install else []
    tool = pm.extra.get("tool")
    if install and tool:
        setup.append(f"python -m venv {TOOLS} && {TOOLS}/bin/pip install --no-cache-dir {tool}")
    build = _build_command(ctx, framework, src)
    after_source = [cmd for cmd in (steps.project, build) if cmd]
    start = _start(ctx, framework, deps, src)

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
        build_env=build_env if staged else {}, install_files=steps.files,
        install=[install] if install else [], caches=[pm.cache] if pm.cache and install else [],
        build=after_source, build_workdir=workdir,
        artifacts=[(VENV, VENV), ("/app" if after_source else CONTEXT, "/app")] if install else [("/app", "/app")],
        runtime_workdir=workdir, runtime_env=env, create_user=True, user="app", cmd=exec_form(start),
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="python", package_manager=pm.name, framework=framework.id if framework else None,
                    install_command=install, build_command=build, start_command=start,
                    context_dir=top.app, recipe=recipe)


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
    for pm in ctx.pack.package_managers:
        lockfile = src.first(pm.lockfiles)
        if lockfile:
            ctx.reasons.append(f"package manager {pm.name}: {lockfile} found")
            return pm, lockfile
    ctx.reasons.append("package manager pip: no lockfile or requirements.txt found")
    return ctx.pack.package_manager("pip"), None


def dependencies(src: Source) -> set[str]:
    """Normalized names of the declared dependencies (requirements.txt, pyproject.toml, Pipfile)."""
    names: list[str] = []
    for line in (src.text("requirements.txt") or "").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(line)
    pyproject = src.toml("pyproject.toml")
    names += [str(d) for d in pyproject.get("project", {}).get("dependencies", []) or []]
    poetry = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {}) or {}
    names += [str(k) for k in poetry if k != "python"]
    names += [str(k) for k in src.toml("Pipfile").get("packages", {}) or {}]
    found = set()
    for name in names:
        match = _NAME.match(name)
        if match:
            found.add(match.group(1).lower().replace("_", "-"))
    return found



def find_uv_workspace(src: Source) -> Path | None:
    directory = src.app.parent
    while directory.is_relative_to(src.root):
        workspace = src.at(directory).toml("pyproject.toml").get("tool", {}).get("uv", {}).get("workspace", {})
        member = src.app.relative_to(directory).as_posix()
        if any(fnmatch(member, str(pattern).rstrip("/")) for pattern in workspace.get("members", []) or []):
            return directory
        if directory == src.root:
            break
        directory = directory.parent
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
        text = src.text(name)
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


def _build_command(ctx: Context, framework: Framework | None, src: Source) -> str | None:
    if framework and framework.id == "django":
        settings = _django_project(src)
        text = src.text(f"{settings}/settings.py") if settings else None
        if text and "STATIC_ROOT" in text:
            ctx.reasons.append("build: collectstatic, STATIC_ROOT is set in settings.py")
            return "python manage.py collectstatic --noinput"
    return None


def _django_project(src: Source) -> str | None:
    for name in src.subdirs():
        if src.exists(f"{name}/wsgi.py") or src.exists(f"{name}/settings.py"):
            return name
    return None


def _app_object(src: Source, constructor: str) -> tuple[str, str] | None:
    """(module, variable) of the first entry file that calls `constructor(`, e.g. ("main", "app")."""
    pattern = re.compile(rf"^(\w+)\s*=\s*{constructor}\(", re.MULTILINE)
    for entry in ("main.py", "app.py", "server.py", "api.py", "app/main.py", "app/__init__.py", "src/main.py",
                  "src/app.py", "wsgi.py", "asgi.py"):
        match = pattern.search(src.text(entry) or "")
        if match:
            module = entry.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
            return module, match.group(1)
    return None


def _start(ctx: Context, framework: Framework | None, deps: set[str], src: Source) -> str:
    fw = framework.id if framework else None
    if fw == "django":
        project = _django_project(src)
        if project and "gunicorn" in deps:
            ctx.reasons.append(f"start: gunicorn serving {project}.wsgi")
            return f"gunicorn {project}.wsgi:application --bind 0.0.0.0:$PORT"
        if project and "uvicorn" in deps and src.exists(f"{project}/asgi.py"):
            ctx.reasons.append(f"start: uvicorn serving {project}.asgi")
            return f"uvicorn {project}.asgi:application --host 0.0.0.0 --port $PORT"
        ctx.reasons.append("start: Django's development server (add gunicorn to the dependencies for production)")
        return "python manage.py runserver 0.0.0.0:$PORT"
    if fw == "fastapi":
        found = _app_object(src, "FastAPI") or ("main", "app")
        ctx.reasons.append(f"start: uvicorn serving {found[0]}:{found[1]}")
        return f"uvicorn {found[0]}:{found[1]} --host 0.0.0.0 --port $PORT"
    if fw == "flask":
        found = _app_object(src, "Flask") or ("app", "app")
        if "gunicorn" in deps:
            ctx.reasons.append(f"start: gunicorn serving {found[0]}:{found[1]}")
            return f"gunicorn {found[0]}:{found[1]} --bind 0.0.0.0:$PORT"
        ctx.reasons.append(f"start: flask run {found[0]}:{found[1]} (add gunicorn to the dependencies for production)")
        return f"flask --app {found[0]}:{found[1]} run --host 0.0.0.0 --port $PORT"
    if "gunicorn" in deps:
        wsgi = _app_object(src, "Flask") or _app_object(src, "\\w+")
        if wsgi:
            ctx.reasons.append(f"start: gunicorn serving {wsgi[0]}:{wsgi[1]}")
            return f"gunicorn {wsgi[0]}:{wsgi[1]} --bind 0.0.0.0:$PORT"
    entry = src.first(ctx.pack.entry_files)
    if entry:
        ctx.reasons.append(f"start: {entry} found")
        return f"python {entry}"
    from unkey_deploy.errors import UsageError

    raise UsageError(
        "could not find how to start this Python app: add a main.py or app.py, a Procfile with a web: line, "
        "or a Dockerfile"
    )

