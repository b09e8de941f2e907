"""C and C++: CMake or Meson on the gcc image; the executable, with GCC's runtime linked in, on Debian slim."""

from __future__ import annotations

import re

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._buildpacks import PackageManager
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

STATIC_RUNTIME = "-static-libstdc++ -static-libgcc"
_PROJECT = re.compile(r"\bproject\s*\(\s*([A-Za-z0-9_.+-]+)", re.IGNORECASE)
_CMAKE_EXE = re.compile(r"\badd_executable\s*\(\s*([A-Za-z0-9_.+${}-]+)", re.IGNORECASE)
_MESON_EXE = re.compile(r"""\bexecutable\s*\(\s*['"]([^'"]+)['"]""")
BUILD_FILE = {"cmake": "CMakeLists.txt", "meson": "meson.build"}


def plan(ctx: Context) -> Plan:
    src = ctx.src
    pm = next(pm for pm in ctx.pack.package_managers if src.exists(pm.lockfiles[0]))
    ctx.reasons.append(f"build system {pm.name}: {pm.lockfiles[0]} found")
    version = ctx.version("gcc", report=False)
    name, built = executable(ctx, src, pm)
    steps = [pm.install, pm.extra["build"]]
    if pm.name == "meson":
        steps.append(f"install -D {built} /out/{name}")
    build = " && ".join(steps)
    recipe = Recipe(
        build_image=ctx.image("gcc", gcc=version), runtime_image=ctx.image("runtime"), workdir="/app",
        packages=pm.extra["packages"].split(), build_env={"LDFLAGS": STATIC_RUNTIME}, build=[build],
        artifacts=[(f"/out/{name}", f"/app/{name}")], create_user=True, user="app", cmd=[f"/app/{name}"],
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="cpp", package_manager=pm.name, build_command=build, start_command=f"/app/{name}",
                    recipe=recipe)


def executable(ctx: Context, src: Source, pm: PackageManager) -> tuple[str, str]:
    """(executable name, its path in the build directory): the first one the root or src/ build file defines."""
    for directory in (".", "src"):
        rel = BUILD_FILE[pm.name] if directory == "." else f"{directory}/{BUILD_FILE[pm.name]}"
        text = src.text(rel) or ""
        match = (_CMAKE_EXE if pm.name == "cmake" else _MESON_EXE).search(text)
        if match:
            name = match.group(1)
            if "${PROJECT_NAME}" in name:
                project = _PROJECT.search(src.text("CMakeLists.txt") or "")
                name = name.replace("${PROJECT_NAME}", project.group(1) if project else "app")
            ctx.reasons.append(f"start: the {name} executable ({rel})")
            return name, f"build/{name}" if directory == "." else f"build/{directory}/{name}"
    raise UsageError(
        f"no executable in {BUILD_FILE[pm.name]} (looked for "
        f"{'add_executable' if pm.name == 'cmake' else 'executable'} in . and src/); add a Dockerfile"
    )
