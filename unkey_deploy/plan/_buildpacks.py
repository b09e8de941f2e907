"""Loading the buildpack units: one YAML file per ecosystem, data only.

The files ship inside the wheel as `unkey_deploy/buildpacks/`; an editable install reads the
repository's top-level `buildpacks/` directory instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from unkey_deploy.errors import ConfigError
from unkey_deploy.plan._source import Source

PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class VersionRule:
    """How one tool's version is chosen: the first source that pins it, else the default."""

    tool: str
    default: str
    candidates: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageManager:
    name: str
    lockfiles: tuple[str, ...]
    install: str
    install_without_lockfile: str | None = None
    cache: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # ecosystem-specific commands (run, prune, tool, ...)


@dataclass(frozen=True)
class Framework:
    id: str
    dependencies: tuple[str, ...]
    start: str | None = None
    output: str | None = None
    static_output: str | None = None
    server_dependencies: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    spa: bool = False  # its static build is a single-page app: unknown paths answer index.html
    build: str | None = None  # build command the framework needs (asset compilation, ...)
    data: dict[str, Any] = field(default_factory=dict)  # any other key, read by the provider


@dataclass(frozen=True)
class PortRule:
    """A hard-coded port in the source: `pattern`'s first group in files matching `files` (globs, `**` for any
    depth), unless some scanned file matches `reads_port` (the app honours $PORT after all)."""

    files: tuple[str, ...]
    pattern: str
    reads_port: str | None = None
    port: int | None = None  # the port a call without one listens on (`Deno.serve(handler)`: 8000)


@dataclass(frozen=True)
class Buildpack:
    name: str
    title: str
    detect_files: tuple[str, ...]
    versions: dict[str, VersionRule]
    package_managers: tuple[PackageManager, ...]
    images: dict[str, str]
    frameworks: tuple[Framework, ...]
    entry_files: tuple[str, ...]
    dockerignore: tuple[str, ...]
    programs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # image key -> programs on its PATH
    ports: tuple[PortRule, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # the whole unit, for sections only its provider reads

    def package_manager(self, name: str) -> PackageManager:
        return next(pm for pm in self.package_managers if pm.name == name)

    def find_package_manager(self, src: Source, pinned: str = "") -> tuple[PackageManager, str | None] | None:
        """The package manager named `pinned` (package.json's packageManager), else the first whose lockfile
        (or manifest) `src` has, with that file; None when there is neither."""
        for pm in self.package_managers:
            if pm.name == pinned:
                return pm, src.first(pm.lockfiles)
        for pm in self.package_managers:
            lockfile = src.first(pm.lockfiles)
            if lockfile:
                return pm, lockfile
        return None


def buildpacks_dir() -> Path:
    shipped = PACKAGE_DIR / "buildpacks"
    if shipped.is_dir():
        return shipped
    return PACKAGE_DIR.parent / "buildpacks"


@cache
def load_buildpacks() -> dict[str, Buildpack]:
    """Every unit found, keyed by name."""
    import yaml

    packs: dict[str, Buildpack] = {}
    for path in sorted(buildpacks_dir().glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            pack = _parse(data)
        except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"buildpack {path} is malformed ({exc}); reinstall unkey-deploy") from None
        packs[pack.name] = pack
    return packs


def _parse(data: dict[str, Any]) -> Buildpack:
    return Buildpack(
        name=data["name"],
        title=data.get("title", data["name"]),
        detect_files=tuple(data["detect"]["files"]),
        versions={
            tool: VersionRule(
                tool=tool,
                default=str(rule["default"]),
                candidates=tuple(str(c) for c in rule.get("candidates", ())),
                aliases={str(k): str(v) for k, v in rule.get("aliases", {}).items()},
                sources=tuple(rule.get("sources", ())),
            )
            for tool, rule in (data.get("versions") or {}).items()
        },
        package_managers=tuple(_package_manager(pm) for pm in data.get("package_managers") or ()),
        images=dict(data.get("images") or {}),
        frameworks=tuple(_framework(fw) for fw in data.get("frameworks") or ()),
        entry_files=tuple(data.get("entry_files") or ()),
        dockerignore=tuple(data.get("dockerignore") or ()),
        programs={str(k): tuple(str(p) for p in v) for k, v in (data.get("programs") or {}).items()},
        ports=tuple(
            PortRule(files=tuple(rule["files"]), pattern=rule["pattern"], reads_port=rule.get("reads_port"),
                     port=int(rule["port"]) if rule.get("port") else None)
            for rule in data.get("ports") or ()
        ),
        data=data,
    )



def _package_manager(data: dict[str, Any]) -> PackageManager:
    known = {"name", "lockfiles", "install", "install_without_lockfile", "cache"}
    return PackageManager(
        name=data["name"],
        lockfiles=tuple(data.get("lockfiles", ())),
        install=data["install"],
        install_without_lockfile=data.get("install_without_lockfile"),
        cache=data.get("cache"),
        extra={k: str(v) for k, v in data.items() if k not in known},
    )


def _framework(data: dict[str, Any]) -> Framework:
    return Framework(
        id=data["id"],
        dependencies=tuple(data.get("dependencies", ())),
        start=data.get("start"),
        output=data.get("output"),
        static_output=data.get("static_output"),
        server_dependencies=tuple(data.get("server_dependencies", ())),
        env={str(k): str(v) for k, v in (data.get("env") or {}).items()},
        spa=bool(data.get("spa", False)),
        build=data.get("build"),
        data={k: v for k, v in data.items() if k not in _FRAMEWORK_KEYS},
    )


_FRAMEWORK_KEYS = frozenset({"id", "dependencies", "start", "output", "static_output", "server_dependencies", "env",
                             "spa", "build"})
