"""make_plan: find the app's ecosystem in a fixed order and let its provider plan the build."""

from __future__ import annotations

import importlib
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import AppNotDetected, ConfigError, UsageError
from unkey_deploy.plan._buildpacks import Buildpack, Framework, PackageManager, load_buildpacks
from unkey_deploy.plan._checks import check_ports, check_start
from unkey_deploy.plan._images import ImageMap, load_image_map
from unkey_deploy.plan._model import DEFAULT_PORT, Plan
from unkey_deploy.plan._source import Source
from unkey_deploy.plan._versions import resolve

if TYPE_CHECKING:
    from unkey_deploy.config import ProjectConfig

# Tried in this order; the first ecosystem whose files are present wins. Ecosystems whose manifest
# often sits beside a package.json (Rails, Laravel, Django with asset tooling) come before node, so a
# package.json kept for front-end assets does not take over. An ecosystem without a buildpack unit
# (buildpacks/<name>.yaml) and a provider module (unkey_deploy/plan/<name>.py) is skipped.
DETECTION_ORDER: tuple[str, ...] = (
    "php",
    "go",
    "java",
    "rust",
    "ruby",
    "elixir",
    "python",
    "deno",
    "dotnet",
    "node",
    "gleam",
    "cpp",
    "static",
    "shell",
    "procfile",
)


@dataclass
class Context:
    """What a provider gets: the tree, its unit, the image map, and a list to explain its choices in."""

    src: Source
    pack: Buildpack
    images: ImageMap
    reasons: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # the project's unkey.yaml
    config_name: str = "unkey.yaml"
    programs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # image ref -> programs on its PATH
    warnings: list[str] = field(default_factory=list)

    def version(self, tool: str, src: Source | None = None, *, report: bool = True) -> str:
        """The tool's version; `report=False` keeps it out of plan.versions (a package manager's own)."""
        pin = resolve(src or self.src, self.pack.versions[tool])
        if report:
            self.versions[tool] = pin.version
        self.reasons.append(pin.reason)
        return pin.version

    def image(self, key: str, **values: str) -> str:
        return self.image_of(self.pack, key, **values)

    def image_of(self, pack: Buildpack, key: str, **values: str) -> str:
        """Image `key` of any unit (the static server's, say), remapped; remembers the programs it has."""
        ref = pack.images[key].format(**values)
        mapped = self.images.remap(ref)
        if mapped != ref:
            self.reasons.append(f"base image {ref} remapped to {mapped}")
        if key in pack.programs:
            self.programs[mapped] = pack.programs[key]
        return mapped

    def setting(self, section: str, key: str, kind: type) -> Any:
        """`section.key` of unkey.yaml when set (None otherwise); a value of the wrong type is a clear error."""
        block = self.config.get(section)
        if block is None:
            return None
        if not isinstance(block, dict):
            raise ConfigError(f"{self.config_name}: `{section}` must be a mapping, e.g. `{section}: {{{key}: ...}}`")
        value = block.get(key)
        if value is not None and not isinstance(value, kind):
            raise ConfigError(f"{self.config_name}: `{section}.{key}` must be {_KINDS.get(kind, kind.__name__)}")
        return value

    def package_manager(
        self, src: Source, default: str, missing: str, *, pinned: str = "", pinned_by: str = ""
    ) -> tuple[PackageManager, str | None]:
        """The unit's package manager for `src` with its lockfile: the one `pinned` names, else the first whose
        lockfile `src` has, else `default` (no lockfile). The plan's reasons say which and why: `pinned_by`
        where the pin chose it, `missing` where nothing did."""
        found = self.pack.find_package_manager(src, pinned)
        if found:
            pm, lockfile = found
            why = pinned_by if pinned and pm.name == pinned else f"{lockfile} found"
            self.reasons.append(f"package manager {pm.name}: {why}")
            return found
        self.reasons.append(f"package manager {default}: {missing}")
        return self.pack.package_manager(default), None

    def framework(self, found_in: Container[str], why: str) -> Framework | None:
        """The unit's first framework with a dependency in `found_in`; `why` explains the match in the
        plan's reasons, with `{hit}` standing for the dependency that matched."""
        for framework in self.pack.frameworks:
            hit = next((dep for dep in framework.dependencies if dep in found_in), None)
            if hit:
                self.reasons.append(f"framework {framework.id}: {why.format(hit=hit)}")
                return framework
        return None

    def plan(self, **fields: object) -> Plan:
        fields.setdefault("context_dir", self.src.app)
        fields.update(app_dir=self.src.app, reasons=self.reasons, versions=self.versions, warnings=self.warnings)
        return Plan(**fields)  # type: ignore[arg-type]

    def sibling(self, pack: Buildpack) -> Context:
        """A context for another unit over the same tree, sharing reasons, versions and warnings."""
        return Context(self.src, pack, self.images, self.reasons, self.versions, self.config, self.config_name,
                       self.programs, self.warnings)


_KINDS: dict[type, str] = {bool: "true or false", str: "a string", int: "a number", list: "a list"}


def provider(name: str) -> ModuleType:
    return importlib.import_module(f"unkey_deploy.plan.{name}")


def detect(src: Source) -> list[tuple[str, str]]:
    """Every ecosystem that matches, in detection order, with the file that made it match."""
    packs = load_buildpacks()
    found: list[tuple[str, str]] = []
    for name in DETECTION_ORDER:
        pack = packs.get(name)
        if pack is None:
            continue
        module = provider(name)
        custom = getattr(module, "detect", None)
        hit = custom(src, pack) if custom else src.first(pack.detect_files)
        if hit:
            found.append((name, hit))
    return found


def make_plan(
    path: Path,
    *,
    root_dir: str | None = None,
    dockerfile: Path | None = None,
    ignore_dockerfile: bool = False,
    project: ProjectConfig | None = None,
) -> Plan:
    """The build plan for the app at `path` (or at `path/root_dir`).

    An existing Dockerfile (the app's own, or `dockerfile`) is used as is unless `ignore_dockerfile`.
    `project` is the unkey.yaml the command read; without it the app's, else the repository root's is read
    (only when a Dockerfile is generated).
    """
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise UsageError(f"{path} is not a directory; pass the path of the app's source")
    app = _app_dir(root, root_dir)
    src = Source(root, app)
    matches = detect(src)
    existing = None if ignore_dockerfile else _existing_dockerfile(root, app, dockerfile)
    if existing is not None:
        return _dockerfile_plan(root, app, existing, matches, dockerfile is not None)
    if not matches:
        raise _nothing_detected(root, app)

    packs = load_buildpacks()
    if project is None:
        from unkey_deploy.config import ProjectConfig

        project = ProjectConfig.find([app, root])
    images = load_image_map(project)
    name, hit = matches[0]
    ctx = Context(src, packs[name], images, config=dict(project.data), config_name=project.name_from(root))
    ctx.reasons.append(f"{packs[name].title}: found {hit}")
    for other, other_hit in matches[1:]:
        if other != "procfile":
            ctx.reasons.append(
                f"{other_hit} also present ({packs[other].title}); {packs[name].title} comes first in the "
                "detection order (remove the stray file, set --root-dir, or add a Dockerfile)"
            )
    plan: Plan = provider(name).plan(ctx)
    _entry_pages(plan, packs, matches)
    for other, _ in matches[1:]:
        refine = getattr(provider(other), "refine", None)
        if refine:
            refine(plan, ctx.sibling(packs[other]))
    # Port rules of the ecosystem, and of a Procfile whose web: line starts the app.
    rules = [rule for unit, _ in matches if unit in (name, "procfile") for rule in packs[unit].ports]
    check_ports(plan, app, tuple(rules), DEFAULT_PORT)
    check_start(plan, ctx.programs.get(plan.recipe.runtime_image) if plan.recipe else None)
    plan.root = root
    return plan


def _entry_pages(plan: Plan, packs: dict[str, Buildpack], matches: list[tuple[str, str]]) -> None:
    """A static site's marker beside an app is rarely a stray file: with a build step that makes the site
    (Vite, Parcel, a bundler) index.html is the build's entry page, and public/index.html is a page the server
    serves from its public folder (Sinatra, Express static). Say so instead of asking to remove it."""
    for other, hit in matches[1:]:
        if other != "static":
            continue
        if plan.build_command:
            why = f"{hit}: the entry page of the build (`{plan.build_command}`), not a site of its own"
        elif hit.startswith("public/"):
            why = f"{hit}: a page the app serves from public/, not a site of its own"
        else:
            continue
        stray = f"{hit} also present ({packs[other].title});"
        plan.reasons[:] = [why if reason.startswith(stray) else reason for reason in plan.reasons]


def _app_dir(root: Path, root_dir: str | None) -> Path:
    if not root_dir:
        return root
    app = (root / root_dir).resolve()
    if not app.is_relative_to(root):
        raise UsageError(f"--root-dir {root_dir} points outside {root}; give a directory inside the repository")
    if not app.is_dir():
        raise UsageError(f"--root-dir {root_dir} does not exist in {root}; give the app's directory, e.g. apps/api")
    return app


def _existing_dockerfile(root: Path, app: Path, dockerfile: Path | None) -> Path | None:
    if dockerfile is None:
        found = app / "Dockerfile"
        return found if found.is_file() else None
    candidate = Path(dockerfile).expanduser()
    for base in ((Path.cwd(), root, app) if not candidate.is_absolute() else (Path("/"),)):
        if (base / candidate).is_file():
            return (base / candidate).resolve()
    raise UsageError(f"--dockerfile {dockerfile} not found; give a path to an existing Dockerfile")


def _dockerfile_plan(root: Path, app: Path, path: Path, matches: list[tuple[str, str]], flag: bool) -> Plan:
    why = "--dockerfile given" if flag else f"{path.relative_to(app) if path.is_relative_to(app) else path} found"
    language = next((name for name, _ in matches if name != "procfile"), None)
    plan = Plan(app_dir=app, context_dir=app, language=language, dockerfile_path=path, generated=False, root=root)
    plan.reasons.append(f"{why}: building with the existing Dockerfile, nothing is generated")
    return plan


def looked_for() -> list[str]:
    packs = load_buildpacks()
    return [f for name in DETECTION_ORDER if name in packs for f in packs[name].detect_files]


def _nothing_detected(root: Path, app: Path) -> AppNotDetected:
    where = "." if app == root else str(app.relative_to(root))
    return AppNotDetected(
        f"could not determine how to build this app in {where}: "
        "set --root-dir to the app's directory, or add a Dockerfile",
        details=[f"looked for: {', '.join(looked_for())}"],
    )
