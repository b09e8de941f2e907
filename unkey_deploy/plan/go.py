"""Go: a static binary from the module's main package (the root, or one of cmd/<name>).

With cgo (a module listed in go.yaml's `cgo_packages`, or `import "C"` in the main package) the binary
links against glibc, so it builds with CGO_ENABLED=1 and runs on Debian slim instead of distroless.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._buildpacks import Buildpack
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import IGNORED_DIRS, Source
from unkey_deploy.plan._versions import pick, read_source

_PACKAGE_MAIN = re.compile(r"^package main\b", re.MULTILINE)
_MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
_REQUIRE = re.compile(r"^(?:require\s+)?\s*([A-Za-z0-9][\w.~/-]*\.[\w.~/-]+)\s+v\d", re.MULTILINE)
_IMPORT_BLOCK = re.compile(r"^import\s*\((.*?)\)", re.MULTILINE | re.DOTALL)
_IMPORT_LINE = re.compile(r'^import\s+(?:[\w.]+\s+)?"([^"]+)"', re.MULTILINE)
# A relative path written as a string literal: "view/main.html", "./static", "templates/*.html".
_PATH_LITERAL = re.compile(r'"(?:\./)?([A-Za-z0-9_][\w.-]*(?:/[^"\s]*)?)"')
_REPLACE = re.compile(r"=>\s*(\.{1,2}/\S*)\s*$", re.MULTILINE)  # local targets in replace lines and blocks
_MAX_GO_FILES = 400  # .go files read when looking for the main package and its imports


def detect(src: Source, pack: Buildpack) -> str | None:
    """go.mod; else (a GOPATH-era app) a `package main` file at the root, or a pre-modules manifest."""
    found = src.first(pack.detect_files)
    if found:
        return found
    legacy = src.first(tuple(pack.data.get("gopath_manifests") or ()))
    main = next((name for name in src.list_dir() if name.endswith(".go") and _is_main_file(src, name)), None)
    return main or legacy


def plan(ctx: Context) -> Plan:
    src = ctx.src
    if not src.exists("go.mod"):
        return gopath_plan(ctx, src)
    workspace = find_go_work(src)
    top = src.at(workspace) if workspace else src
    member = src.app.relative_to(workspace).as_posix() if workspace else "."
    if workspace:
        ctx.reasons.append(f"go.work lists {member}: the build context is the workspace root")
    version = go_version(ctx, src)
    package, name = main_package(ctx, src)
    cgo = cgo_needs(ctx, src, package)
    pm = ctx.pack.package_manager("go")
    vendored = src.exists("vendor/modules.txt")
    if vendored:
        ctx.reasons.append("dependencies: vendor/ (go build -mod=vendor; nothing is downloaded)")
    else:
        ctx.reasons.append("dependencies: go.sum found" if src.exists("go.sum") else "dependencies: no go.sum")
    install = "" if vendored else pm.install if member == "." else f"go -C {member} mod download"
    vendor_flag = " -mod=vendor" if vendored else ""
    build = f"go build{vendor_flag} -trimpath -ldflags='-s -w' -o /out/{name} {package}"
    workdir = "/src" if member == "." else f"/src/{member}"
    recipe = Recipe(
        build_image=ctx.image("go", go=version), runtime_image=ctx.image("runtime_cgo" if cgo else "runtime"),
        workdir="/src",
        build_env={"CGO_ENABLED": "1" if cgo else "0", "GOMODCACHE": "/go/pkg/mod", "GOCACHE": "/root/.cache/go-build"},
        packages=cgo.build if cgo else [],
        install_files=_install_files(top, member) if install else [], install=[install] if install else [],
        caches=["/go/pkg/mod", "/root/.cache/go-build"], build=[build], build_workdir=workdir,
        artifacts=_artifacts(src, name) + _runtime_files(ctx, src, workdir), runtime_workdir="/app",
        runtime_env=_runtime_env(ctx),
        runtime_packages=cgo.runtime if cgo else [], create_user=cgo is not None,
        user="app" if cgo else _image_user(ctx), cmd=[f"/app/{name}"],
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="go", package_manager="go", install_command=install or None, build_command=build,
                    start_command=f"/app/{name}", context_dir=top.app, recipe=recipe)


def _artifacts(src: Source, name: str) -> list[tuple[str, str]]:
    """The binary in /app; also in /app/bin when a Procfile starts it from there (Heroku's layout)."""
    found = [(f"/out/{name}", f"/app/{name}")]
    if re.search(rf"^web:\s*(?:\./)?bin/{re.escape(name)}\b", src.text("Procfile") or "", re.MULTILINE):
        found.append((f"/out/{name}", f"/app/bin/{name}"))
    return found


def _runtime_files(ctx: Context, src: Source, workdir: str) -> list[tuple[str, str]]:
    """Files and folders the program opens by a relative path at run time (`template.ParseFiles("view/x.html")`,
    `http.Dir("./static")`, `os.ReadFile("config.json")`): copied beside the binary, which starts in /app,
    so the runtime image has them. Files compiled in with //go:embed are not string literals and need nothing."""
    skip = set(ctx.pack.data.get("runtime_files_skip") or ())
    found: list[str] = []
    for rel in _go_files(src):
        code = _IMPORT_LINE.sub("", _IMPORT_BLOCK.sub("", src.text(rel) or ""))
        for literal in _PATH_LITERAL.findall(code):
            name = _runtime_path(src, literal, skip)
            if name and not any(name == f or name.startswith(f"{f}/") for f in found):
                found = [f for f in found if not f.startswith(f"{name}/")] + [name]
    if found:
        names = ", ".join(f"{name}/" if src.path(name).is_dir() else name for name in found)
        ctx.reasons.append(f"runtime files: {names} read by the program at run time, copied beside the binary")
    return [(f"{workdir}/{name}", f"/app/{name}") for name in found]


def _runtime_path(src: Source, literal: str, skip: set[str]) -> str | None:
    """What to copy for one literal: its top folder or file; under a code folder (internal/, cmd/), the
    deepest folder of the literal that exists (internal/web/templates)."""
    parts = [p for p in literal.split("/") if p and p != "."]
    parts = parts[: next((i for i, p in enumerate(parts) if any(c in p for c in "*?[{")), len(parts))]
    if not parts or parts[0] in IGNORED_DIRS or parts[0].endswith(".go"):
        return None
    if parts[0] not in skip:
        top = parts[0]
        if src.exists(top) or (src.path(top).is_dir() and _has_assets(src, top)):
            return top
        return None
    for depth in range(len(parts), 1, -1):
        rel = "/".join(parts[:depth])
        if (src.exists(rel) and not rel.endswith(".go")) or (src.path(rel).is_dir() and _has_assets(src, rel, 0)):
            return rel
    return None


def _go_files(src: Source) -> list[str]:
    """Non-test .go files of the root and of package folders two levels down (cmd/web, internal/x)."""
    dirs = ["."] + [d for d in src.subdirs() if d != "testdata"]
    dirs += [f"{d}/{sub}" for d in dirs[1:] for sub in src.subdirs(d) if sub != "testdata"]
    files = [name if d == "." else f"{d}/{name}" for d in dirs for name in src.list_dir(d)
             if name.endswith(".go") and not name.endswith("_test.go")]
    return files[:_MAX_GO_FILES]


def _has_assets(src: Source, rel: str, depth: int = 2) -> bool:
    """A folder holding something other than Go code (templates, static files), a level or two down."""
    for name in src.list_dir(rel):
        path = f"{rel}/{name}"
        if src.exists(path) and not name.endswith(".go"):
            return True
        if depth and src.path(path).is_dir() and _has_assets(src, path, depth - 1):
            return True
    return False


def _image_user(ctx: Context) -> str:
    return str(ctx.pack.data.get("image_user") or "65532")


def _runtime_env(ctx: Context) -> dict[str, str]:
    path = ctx.pack.data.get("runtime_path")
    return {"PATH": str(path)} if path else {}


def go_version(ctx: Context, src: Source) -> str:
    """An exact pin (toolchain directive, .tool-versions, mise) as written; else the oldest Go the `go`
    directive allows is a floor: the default when it is new enough, else the newest candidate that is."""
    rule = ctx.pack.versions["go"]
    minimum_source = (ctx.pack.data.get("minimum") or {}).get("go")
    if any(read_source(src, source) for source in rule.sources) or not minimum_source:
        return ctx.version("go", src)
    minimum = read_source(src, minimum_source)
    if not minimum:
        return ctx.version("go", src)
    version = pick(f">={minimum}", rule)
    ctx.versions["go"] = version
    ctx.reasons.append(f"go {version} satisfies the `go {minimum}` directive of go.mod (a minimum Go version)")
    return version


@dataclass
class Cgo:
    """Debian packages a cgo build needs in the build stage and at run time."""

    build: list[str] = field(default_factory=list)
    runtime: list[str] = field(default_factory=list)


def cgo_needs(ctx: Context, src: Source, package: str) -> Cgo | None:
    """What the build needs for cgo, or None when the binary can be static (CGO_ENABLED=0)."""
    table: dict[str, dict[str, list[str]]] = ctx.pack.data.get("cgo_packages") or {}
    directory = package.removeprefix("./") or "."
    modules = set(_REQUIRE.findall(src.text("go.mod") or ""))
    imports = _imports(src, directory) | (_imports(src, ".") if directory != "." else set())
    hits = [
        key for key in table
        if key in modules or any(imp == key or imp.startswith(key + "/") for imp in imports)
    ]
    if not hits and "C" not in imports:
        return None
    why = ", ".join(hits) if hits else 'import "C"'
    ctx.reasons.append(f"cgo: {why} needs it; CGO_ENABLED=1 and a runtime image with glibc")
    cgo = Cgo(runtime=list(ctx.pack.data.get("cgo_runtime_packages") or []))
    for key in hits:
        cgo.build += [p for p in table[key].get("build") or [] if p not in cgo.build]
        cgo.runtime += [p for p in table[key].get("runtime") or [] if p not in cgo.runtime]
    return cgo


def _imports(src: Source, rel: str) -> set[str]:
    found: set[str] = set()
    for name in src.list_dir(rel):
        if name.endswith(".go") and not name.endswith("_test.go"):
            text = src.text(name if rel == "." else f"{rel}/{name}") or ""
            found.update(_IMPORT_LINE.findall(text))
            for block in _IMPORT_BLOCK.findall(text):
                found.update(re.findall(r'"([^"]+)"', block))
    return found


def find_go_work(src: Source) -> Path | None:
    """The directory above the app whose go.work `use`s it."""
    for top, member in src.enclosing():
        uses = {path.strip("./") or "." for path in _uses(top.text("go.work") or "")}
        if member in uses:
            return top.app
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
        scores = {name: _server_score(ctx, src, f"cmd/{name}", name) for name in commands}
        best = max(scores.values())
        pool = [name for name in commands if scores[name] == best]
        chosen = module_name if module_name in pool else pool[0]
        others = [c for c in commands if c != chosen]
        why = " (it looks like the server)" if best and len(commands) > 1 else ""
        note = f" (also: {', '.join(others)}; set --root-dir to cmd/<name> or add a Dockerfile)" if others else ""
        ctx.reasons.append(f"main package: cmd/{chosen}{why}{note}")
        return f"./cmd/{chosen}", _binary(chosen)
    for name in src.subdirs():
        if _is_main(src, name):
            ctx.reasons.append(f"main package: {name}/")
            return f"./{name}", _binary(name)
    raise UsageError(
        "no main package found in this Go module (looked in ., cmd/*, */); set --root-dir or add a Dockerfile"
    )


def _server_score(ctx: Context, src: Source, rel: str, name: str) -> int:
    """How much a command looks like the server: named like a daemon (2), starts a listener (1)."""
    hints = ctx.pack.data.get("server_hints") or {}
    named = name in (hints.get("names") or ()) or any(name.endswith(x) for x in hints.get("name_suffixes") or ())
    calls = re.compile(str(hints.get("calls") or r"ListenAndServe"))
    listens = any(calls.search(src.text(f"{rel}/{n}") or "") for n in src.list_dir(rel)
                  if n.endswith(".go") and not n.endswith("_test.go"))
    return 2 * named + listens


def _is_main(src: Source, rel: str) -> bool:
    return any(_is_main_file(src, f"{rel}/{name}") for name in src.list_dir(rel))


def _is_main_file(src: Source, rel: str) -> bool:
    return rel.endswith(".go") and not rel.endswith("_test.go") and bool(_PACKAGE_MAIN.search(src.text(rel) or ""))


def gopath_plan(ctx: Context, src: Source) -> Plan:
    """An app without go.mod builds in GOPATH mode (GO111MODULE=off) at its import path under /go/src;
    dependencies come from vendor/ or, when it has none, `go get -d`."""
    ctx.reasons.append("no go.mod: building in GOPATH mode (GO111MODULE=off); add a go.mod to use modules")
    path = import_path(ctx, src)
    package, name = main_package(ctx, src)
    if name == "app" and path != "app":
        name = _binary(path.rsplit("/", 1)[-1])
    cgo = cgo_needs(ctx, src, package)
    workdir = f"/go/src/{path}"
    external = sorted(
        imp for rel in [".", *src.subdirs()] for imp in _imports(src, rel)
        if "." in imp.split("/", 1)[0] and imp != path and not imp.startswith(path + "/")
    )
    install = None
    if external and not src.subdirs("vendor"):
        install = "go get -d ./..."
        ctx.reasons.append(f"dependencies: go get -d fetches {len(external)} imported packages (no vendor/)")
    else:
        ctx.reasons.append("dependencies: vendor/" if external else "dependencies: the standard library only")
    rule = ctx.pack.versions["go"]
    last_get = str(ctx.pack.data.get("gopath_get_go") or rule.default)
    if install and not any(read_source(src, source) for source in rule.sources):
        version = last_get
        ctx.versions["go"] = version
        ctx.reasons.append(f"go {version}: the last Go whose `go get` works in GOPATH mode")
    else:
        version = ctx.version("go", src)
    build = f"go build -trimpath -ldflags='-s -w' -o /out/{name} {package}"
    recipe = Recipe(
        build_image=ctx.image("go", go=version), runtime_image=ctx.image("runtime_cgo" if cgo else "runtime"),
        workdir=workdir,
        build_env={"GO111MODULE": "off", "GOPATH": "/go", "GOFLAGS": "", "CGO_ENABLED": "1" if cgo else "0",
                   "GOCACHE": "/root/.cache/go-build"},
        packages=cgo.build if cgo else [], install=[install] if install else [],
        caches=["/root/.cache/go-build"], build=[build], artifacts=_artifacts(src, name),
        runtime_workdir="/app", runtime_env=_runtime_env(ctx), runtime_packages=cgo.runtime if cgo else [],
        create_user=cgo is not None,
        user="app" if cgo else _image_user(ctx), cmd=[f"/app/{name}"],
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="go", package_manager="go", install_command=install, build_command=build,
                    start_command=f"/app/{name}", recipe=recipe)


def import_path(ctx: Context, src: Source) -> str:
    """The app's import path: from a pre-modules manifest, else from imports of its own subdirectories
    (`github.com/me/app/models` with a models/ directory here), else `app`."""
    godeps = src.json("Godeps/Godeps.json").get("ImportPath")
    glide = re.search(r"^package:\s*(\S+)", src.text("glide.yaml") or "", re.MULTILINE)
    declared = godeps if isinstance(godeps, str) and godeps else (glide.group(1) if glide else None)
    if declared:
        ctx.reasons.append(f"import path {declared} (from its dependency manifest)")
        return declared
    local = set(src.subdirs())
    for rel in [".", *sorted(local)]:
        for imp in sorted(_imports(src, rel)):
            parts = imp.split("/")
            for depth in range(1, len(parts)):
                prefix, rest = "/".join(parts[:-depth]), "/".join(parts[-depth:])
                if "." in prefix.split("/", 1)[0] and rest.split("/", 1)[0] in local and src.subdirs(rest) is not None \
                        and any(n.endswith(".go") for n in src.list_dir(rest)):
                    ctx.reasons.append(f"import path {prefix} (it imports {imp} from ./{rest})")
                    return prefix
    return "app"


def _binary(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name) or "app"
