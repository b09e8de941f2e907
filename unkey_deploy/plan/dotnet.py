""".NET: `dotnet publish` on the SDK image; ASP.NET Core apps run on aspnet, others on runtime."""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatch

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._buildpacks import Buildpack
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source
from unkey_deploy.plan._versions import pick, read_source, version_key

PROJECTS = ("*.csproj", "*.fsproj")
WEB_SDK = "Microsoft.NET.Sdk.Web"
_TARGET = r"<TargetFrameworks?>\s*net(\d+\.\d+)"
_SLN_PROJECT = re.compile(r'^Project\("[^"]*"\)\s*=\s*"[^"]*",\s*"([^"]+)"', re.MULTILINE)
_SLNX_PROJECT = re.compile(r'<Project\s+Path="([^"]+)"')
_ASSEMBLY = re.compile(r"<AssemblyName>\s*([^<\s]+)\s*</AssemblyName>")


def detect(src: Source, pack: Buildpack) -> str | None:
    found = projects(src)
    return found[0] if found else None


def projects(src: Source) -> list[str]:
    """Project files in the app's directory; beside a solution (.sln, .slnx) the projects it lists, else
    (beside a solution or global.json) those one or two levels down."""
    names = src.list_dir()
    here = [n for n in names if _is_project(n)]
    solutions = [n for n in names if n.endswith((".sln", ".slnx"))]
    if here or not (src.exists("global.json") or solutions):
        return here
    listed = [path for solution in solutions for path in _solution_projects(src, solution)]
    if listed:
        return list(dict.fromkeys(listed))
    found = []
    for top in src.subdirs():
        for rel in [top, *(f"{top}/{sub}" for sub in src.subdirs(top))]:
            found += [f"{rel}/{n}" for n in src.list_dir(rel) if _is_project(n)]
    return found


def _solution_projects(src: Source, solution: str) -> list[str]:
    """Project paths a solution lists that exist (`Project(...) = "Name", "src\\Api\\Api.csproj"` or
    `<Project Path="src/Api/Api.csproj" />`)."""
    text = src.text(solution) or ""
    paths = _SLN_PROJECT.findall(text) + _SLNX_PROJECT.findall(text)
    found = [posixpath.normpath(p.replace("\\", "/")) for p in paths]
    return [p for p in found if _is_project(p.rsplit("/", 1)[-1]) and not p.startswith("..") and src.exists(p)]


def _is_project(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in PROJECTS)


def plan(ctx: Context) -> Plan:
    src = ctx.src
    project = _choose(ctx, src)
    text = src.text(project) or ""
    web = WEB_SDK in text
    name = _assembly_name(project, text)
    version = _runtime_version(ctx, src, project)
    sdk = _sdk_version(src, version)
    pm = ctx.pack.package_manager("dotnet")
    install = f"{pm.install} {project}"
    build = pm.extra["build"].replace("publish", f"publish {project}", 1)
    start = f"ASPNETCORE_URLS=http://+:$PORT dotnet {name}.dll" if web else f"dotnet {name}.dll"
    ctx.reasons.append(f"start: {name}.dll" + (", listening on $PORT (ASP.NET Core)" if web else ""))
    runtime = ctx.image("aspnet" if web else "runtime", dotnet=version)
    create_user, user = _runtime_user(ctx, version)
    markers = [str(m) for m in ctx.pack.data.get("node_markers") or ()]
    node = [str(p) for p in ctx.pack.data.get("node_packages") or ()] if any(m in text for m in markers) else []
    if node:
        ctx.reasons.append(f"{project} runs npm while publishing (an SPA): {', '.join(node)} in the build stage")
    recipe = Recipe(
        build_image=ctx.image("sdk", dotnet=sdk), runtime_image=runtime,
        workdir="/src", build_env={"DOTNET_CLI_TELEMETRY_OPTOUT": "1", "DOTNET_NOLOGO": "1"}, packages=node,
        install_files=_install_files(src, pm.extra["files"].split()), install=[install], caches=[str(pm.cache)],
        build=[build], artifacts=[("/out", "/app")], runtime_workdir="/app", create_user=create_user, user=user,
        cmd=exec_form(start),
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="dotnet", package_manager="dotnet", install_command=install, build_command=build,
                    start_command=start, recipe=recipe)


def _choose(ctx: Context, src: Source) -> str:
    found = projects(src)
    if not found:
        raise UsageError("no .csproj or .fsproj found; set --root-dir to the project's directory, or add a Dockerfile")
    web = [p for p in found if WEB_SDK in (src.text(p) or "")]
    chosen = (web or found)[0]
    others = [p for p in found if p != chosen]
    note = f" (also: {', '.join(others)}; set --root-dir to choose)" if others else ""
    ctx.reasons.append(f"project {chosen}{' (web)' if chosen in web else ''}{note}")
    return chosen


def _assembly_name(project: str, text: str) -> str:
    match = _ASSEMBLY.search(text)
    return match.group(1) if match else project.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _runtime_version(ctx: Context, src: Source, project: str) -> str:
    target = read_source(src, f"regex:{project}#{_TARGET}")
    if not target:
        return ctx.version("dotnet")
    version = pick(target, ctx.pack.versions["dotnet"])
    ctx.versions["dotnet"] = version
    ctx.reasons.append(f"dotnet {version} from <TargetFramework> of {project}")
    return version


def _sdk_version(src: Source, runtime: str) -> str:
    """global.json's SDK when it is at least the target's version (a newer SDK builds older targets)."""
    pinned = read_source(src, r'regex:global.json#"version"\s*:\s*"(\d+\.\d+)')
    if pinned and tuple(map(int, pinned.split("."))) >= tuple(map(int, runtime.split("."))):
        return pinned
    return runtime


def _runtime_user(ctx: Context, version: str) -> tuple[bool, str]:
    """(create a user?, user): the image's own `app` user from .NET 8 on, a created one before."""
    image_user = ctx.pack.data.get("image_user") or {}
    since = str(image_user.get("since", "8.0"))
    if version_key(version) >= version_key(since):
        ctx.reasons.append(f"runs as the image's app user (uid {image_user['uid']}, .NET {since} and later)")
        return False, str(image_user["uid"])
    return True, "app"


def _install_files(src: Source, shared: list[str]) -> list[str]:
    present = {name.lower(): name for name in src.list_dir()}
    files = [present[name.lower()] for name in shared if name.lower() in present and src.exists(present[name.lower()])]
    files += [name for name in src.list_dir() if name.endswith((".sln", ".slnx"))]
    for project in projects(src):
        directory = project.rpartition("/")[0]
        lock = f"{directory}/packages.lock.json" if directory else "packages.lock.json"
        files += [project, lock] if src.exists(lock) else [project]
    return files
