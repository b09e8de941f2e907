"""Go: a static binary from the module's main package (the root, or one of cmd/<name>)."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

_PACKAGE_MAIN = re.compile(r"^package main\b", re.MULTILINE)
_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
_REPLACE = re.compile(r"=>\s*(\.{1,2}/\S*)\s*$", re.MULTILINE)  # local targets in replace lines and blocks
NONROOT = "65532"  # the nonroot user of distroless images


def plan(ctx: Context) -> Plan:
    src = ctx.src
    workspace = find_go_work(src)
    top = src.at(workspace) if workspace else src
    member = src.app.relative_to(workspace).as_posix() if workspace else "."
    if workspace:
        ctx.reasons.append(f"go.work lists {member}: the build context is the workspace root")
    version = ctx.version("go", src)
    package, name = main_package(ctx, src)
    pm = ctx.pack.package_manager("go")
    ctx.reasons.append("dependencies: go.sum found" if src.exists("go.sum") else "dependencies: no go.sum")
    install = pm.install if member == "." else f"go -C {member} mod download"
    build = f"go build -trimpath -ldflags='-s -w' -o /out/{name} {package}"
    workdir = "/src" if member == "." else f"/src/{member}"
    recipe = Recipe(
        build_image=ctx.image("go", go=version), runtime_image=ctx.image("runtime"), workdir="/src",
        build_env={"CGO_ENABLED": "0", "GOMODCACHE": "/go/pkg/mod", "GOCACHE": "/root/.cache/go-build"},
        install_files=_install_files(top, member), install=[install],
        caches=["/go/pkg/mod", "/root/.cache/go-build"], build=[build], build_workdir=workdir,
        artifacts=[(f"/out/{name}", f"/app/{name}")], runtime_workdir="/app", user=NONROOT,
        cmd=[f"/app/{name}"], dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="go", package_manager="go", install_command=install, build_command=build,
                    start_command=f"/app/{name}", context_dir=top.app, recipe=recipe)


def find_go_work(src: Source) -> Path | None:
    """The directory above the app whose go.work `use`s it."""
    directory = src.app.parent
    while directory.is_relative_to(src.root):
        text = src.at(directory).text("go.work") or ""
        member = src.app.relative_to(directory).as_posix()
        uses = {path.strip("./") or "." for path in _uses(text)}
        if member in uses:
            return directory
        if directory == src.root:
            break
        directory = directory.parent
    return None


def _uses(text: str) -> list[str]:
    block = re.search(r"^use\s*\((.*?)\)", text, re.MULTILINE | re.DOTALL)
    single = re.findall(r"^use\s+(\S+)", text, re.MULTILINE)
    return (block.group(1).split() if block else []) + [s for s in single if s != "("]


def _install_files(top: Source, member: str) -> list[str]:
    """go.mod and go.sum of each module the build reads (workspace members, local replace targets)."""
    modules = [use.strip("./") or "." for use in _uses(top.text("go.work") or "")] if member != "." else ["."]
    files = [name for name in ("go.work", "go.work.sum") if member != "." and top.exists(name)]
    while modules:
        module = modules.pop(0)
        prefix = "" if module == "." else f"{module}/"
        for name in ("go.mod", "go.sum"):
            if top.exists(prefix + name) and prefix + name not in files:
                files.append(prefix + name)
                if name == "go.mod":
                    modules += _local_replacements(top, module)
    return files


def _local_replacements(top: Source, module: str) -> list[str]:
    """Directories (relative to the context) that `replace ... => ./dir` in a module's go.mod points at."""
    text = top.text("go.mod" if module == "." else f"{module}/go.mod") or ""
    found = []
    for target in _REPLACE.findall(text):
        path = posixpath.normpath(posixpath.join(module, target))
        if not path.startswith("..") and top.exists(f"{path}/go.mod"):
            found.append(path)
    return found


def main_package(ctx: Context, src: Source) -> tuple[str, str]:
    """(package path to build, binary name)."""
    module = _MODULE.search(src.text("go.mod") or "")
    module_name = module.group(1).rsplit("/", 1)[-1] if module else "app"
    if _is_main(src, "."):
        ctx.reasons.append("main package: the module root")
        return ".", _binary(module_name)
    commands = [name for name in src.subdirs("cmd") if _is_main(src, f"cmd/{name}")]
    if commands:
        chosen = module_name if module_name in commands else commands[0]
        others = [c for c in commands if c != chosen]
        note = f" (also: {', '.join(others)}; set --root-dir to cmd/<name> or add a Dockerfile)" if others else ""
        ctx.reasons.append(f"main package: cmd/{chosen}{note}")
        return f"./cmd/{chosen}", _binary(chosen)
    for name in src.subdirs():
        if _is_main(src, name):
            ctx.reasons.append(f"main package: {name}/")
            return f"./{name}", _binary(name)
    raise UsageError(
        "no main package found in this Go module (looked in ., cmd/*, */); set --root-dir or add a Dockerfile"
    )


def _is_main(src: Source, rel: str) -> bool:
    return any(
        name.endswith(".go") and not name.endswith("_test.go") and _PACKAGE_MAIN.search(src.text(f"{rel}/{name}") or "")
        for name in src.list_dir(rel)
    )


def _binary(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name) or "app"
