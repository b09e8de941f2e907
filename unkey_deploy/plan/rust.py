"""Rust: a release binary of a Cargo package (or of one member of a Cargo workspace)."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source
from unkey_deploy.plan._versions import pick, read_source


def plan(ctx: Context) -> Plan:
    src = ctx.src
    workspace = find_workspace(src)
    top = src.at(workspace) if workspace else src
    if workspace:
        member = src.app.relative_to(workspace).as_posix()
        ctx.reasons.append(f"Cargo workspace member {member}: the build context is the workspace root")
    elif "package" in src.toml("Cargo.toml"):
        member = "."
    else:
        member = _pick_member(ctx, src)
    package, binary = binary_target(ctx, top.at(top.app / member) if member != "." else top, member)
    version = _toolchain(ctx, top, member)
    pm = ctx.pack.package_manager("cargo")
    locked = top.exists("Cargo.lock")
    ctx.reasons.append("dependencies: Cargo.lock found" if locked else "dependencies: no Cargo.lock (builds unlocked)")
    fetch = pm.install if locked else str(pm.install_without_lockfile)
    selector = f"--bin {binary}" if member == "." else f"-p {package} --bin {binary}"
    build = f"{pm.extra['build']}{' --locked' if locked else ''} {selector}"
    packages = package_dirs(top)
    runtime_packages = _runtime_packages(ctx, top)
    recipe = Recipe(
        build_image=ctx.image("rust", rust=version), runtime_image=ctx.image("runtime"), workdir="/app",
        install_files=_install_files(top, packages), install=[_stubbed(fetch, packages)],
        caches=[str(pm.cache), pm.extra["git_cache"], "/app/target"],
        build=[f"{build} && install -D target/release/{binary} /out/{binary}"],
        artifacts=[(f"/out/{binary}", f"/app/{binary}")], runtime_packages=runtime_packages,
        create_user=True, user="app", cmd=[f"/app/{binary}"], dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="rust", package_manager="cargo", install_command=fetch, build_command=build,
                    start_command=f"/app/{binary}", context_dir=top.app, recipe=recipe)


def find_workspace(src: Source) -> Path | None:
    """The directory above the app whose Cargo.toml [workspace] lists it as a member."""
    for top, member in src.enclosing():
        if "workspace" in top.toml("Cargo.toml") and member in members(top):
            return top.app
    return None


def members(top: Source) -> list[str]:
    """Member directories of the workspace whose Cargo.toml is at `top` (globs expanded)."""
    workspace: dict[str, Any] = top.toml("Cargo.toml").get("workspace", {})
    excluded = {str(e).strip("./") for e in workspace.get("exclude", []) or []}
    found: list[str] = []
    for pattern in workspace.get("members", []) or []:
        pattern = str(pattern).strip("./")
        if any(ch in pattern for ch in "*?["):
            parent, _, leaf = pattern.rpartition("/")
            found += [f"{parent}/{d}" if parent else d for d in top.subdirs(parent or ".") if fnmatch(d, leaf)]
        else:
            found.append(pattern)
    return [m for m in dict.fromkeys(found) if m not in excluded and top.exists(f"{m}/Cargo.toml")]


def package_dirs(top: Source) -> list[str]:
    """Every directory with a package manifest: the root (unless virtual) and the workspace members."""
    root = ["."] if "package" in top.toml("Cargo.toml") else []
    return root + members(top)


def binary_target(ctx: Context, pkg: Source, member: str) -> tuple[str, str]:
    """(package name, binary name): default-run, else the binary named after the package, else the first."""
    manifest = pkg.toml("Cargo.toml")
    package = manifest.get("package", {})
    name = str(package.get("name") or pkg.app.name)
    bins = binaries(pkg)
    where = "Cargo.toml" if member == "." else f"{member}/Cargo.toml"
    if not bins:
        raise UsageError(
            f"no binary target in {where} (no src/main.rs, src/bin/*.rs or [[bin]]); "
            "set --root-dir to the crate that builds the server, or add a Dockerfile"
        )
    default_run = package.get("default-run")
    if default_run in bins:
        ctx.reasons.append(f"binary {default_run}: default-run of {where}")
        return name, str(default_run)
    chosen = name if name in bins else bins[0]
    others = [b for b in bins if b != chosen]
    note = f" (also: {', '.join(others)}; set default-run in {where} to choose)" if others else ""
    ctx.reasons.append(f"binary {chosen}: {'the package name' if chosen == name else 'first [[bin]]'}{note}")
    return name, chosen


def binaries(pkg: Source) -> list[str]:
    """Binary targets of a package: [[bin]] entries, src/main.rs, src/bin/<name>.rs and src/bin/<name>/main.rs."""
    manifest = pkg.toml("Cargo.toml")
    name = str(manifest.get("package", {}).get("name") or pkg.app.name)
    explicit = {str(b["name"]): _bin_path(b, name) for b in manifest.get("bin", []) or []
                if isinstance(b, dict) and b.get("name")}
    found = list(explicit)
    if manifest.get("package", {}).get("autobins", True):
        inferred = {name: "src/main.rs"} if pkg.exists("src/main.rs") else {}
        inferred |= {f.removesuffix(".rs"): f"src/bin/{f}" for f in pkg.list_dir("src/bin") if f.endswith(".rs")}
        inferred |= {d: f"src/bin/{d}/main.rs" for d in pkg.subdirs("src/bin") if pkg.exists(f"src/bin/{d}/main.rs")}
        claimed = set(explicit.values())
        found += [target for target, path in inferred.items() if path not in claimed]
    return list(dict.fromkeys(found))


def _bin_path(target: dict[str, Any], package: str) -> str:
    if target.get("path"):
        return str(target["path"])
    return "src/main.rs" if target["name"] == package else f"src/bin/{target['name']}.rs"


def _pick_member(ctx: Context, src: Source) -> str:
    runnable = [m for m in members(src) if binaries(src.at(src.app / m))]
    if not runnable:
        raise UsageError(
            "this Cargo workspace has no member with a binary target; "
            "set --root-dir to the crate that builds the server, or add a Dockerfile"
        )
    others = f" (also: {', '.join(runnable[1:])}; set --root-dir to choose)" if len(runnable) > 1 else ""
    ctx.reasons.append(f"Cargo workspace: building member {runnable[0]}, the first with a binary{others}")
    return runnable[0]


def _toolchain(ctx: Context, top: Source, member: str) -> str:
    """The pinned toolchain, else a version satisfying rust-version (a minimum), else the default."""
    rule = ctx.pack.versions["rust"]
    if any(read_source(top, source) for source in rule.sources):
        return ctx.version("rust", top)
    manifest = top.toml("Cargo.toml" if member == "." else f"{member}/Cargo.toml")
    minimum = manifest.get("package", {}).get("rust-version")
    where = "Cargo.toml" if member == "." else f"{member}/Cargo.toml"
    if not isinstance(minimum, str):
        minimum = top.toml("Cargo.toml").get("workspace", {}).get("package", {}).get("rust-version")
        where = "Cargo.toml [workspace.package]"
    if not isinstance(minimum, str):
        return ctx.version("rust", top)
    version = pick(f">={minimum}", rule)
    ctx.versions["rust"] = version
    ctx.reasons.append(f"rust {version} satisfies rust-version {minimum} (a minimum) from {where}")
    return version


def _install_files(top: Source, packages: list[str]) -> list[str]:
    files = [name for name in ("Cargo.toml", "Cargo.lock", "rust-toolchain.toml", "rust-toolchain") if top.exists(name)]
    files += [".cargo/config.toml"] if top.exists(".cargo/config.toml") else []
    return files + [f"{p}/Cargo.toml" for p in packages if p != "."]


def _stubbed(fetch: str, packages: list[str]) -> str:
    """`cargo fetch` with only the manifests copied: each package gets an empty src/lib.rs so it parses."""
    dirs = [("" if p == "." else f"{p}/") + "src" for p in packages]
    stubs = " ".join(f"{d}/lib.rs" for d in dirs)
    return f"mkdir -p {' '.join(dirs)} && touch {stubs} && {fetch} && rm -rf {' '.join(dirs)}"


def _runtime_packages(ctx: Context, top: Source) -> list[str]:
    lock = top.text("Cargo.lock") or ""
    packages: list[str] = []
    table: dict[str, list[str]] = ctx.pack.data.get("runtime_packages") or {}
    for crate, needs in table.items():
        if f'name = "{crate}"' in lock:
            ctx.reasons.append(f"runtime packages {', '.join(needs)}: {crate} is in Cargo.lock")
            packages += needs
    return sorted(set(packages))
