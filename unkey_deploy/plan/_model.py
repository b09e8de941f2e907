"""The build plan: what the app is, how to build and start it, and the recipe for its Dockerfile."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8080
CONTEXT = "."  # as an artifact's source: the build context itself, not the build stage


@dataclass
class FrontendStage:
    """A Node.js stage that builds the front end of an app in another language (Rails, Laravel, Phoenix).

    It copies the install files, installs, copies the whole source and runs `build`, all in /app. Then
    `outputs` (paths relative to the app) are copied into the build stage before its build step
    (`into="build"`), or into the runtime image (`into="runtime"`).
    """

    image: str
    install: list[str]
    install_files: list[str] = field(default_factory=list)  # empty: the whole source before the install
    setup: list[str] = field(default_factory=list)
    build: list[str] = field(default_factory=list)
    caches: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    into: str = "build"


@dataclass
class Recipe:
    """What `dockerfile.render` turns into a Dockerfile.

    With a build image there are two stages: `build` installs and builds, then the runtime stage
    copies `artifacts` out of it. Without one, everything happens in the runtime image.
    Paths in `install_files` are relative to the build context; `workdir` is where the app lives.
    """

    runtime_image: str
    cmd: list[str]
    build_image: str | None = None
    workdir: str = "/app"
    packages: list[str] = field(default_factory=list)  # Debian packages the build stage installs first
    setup: list[str] = field(default_factory=list)  # build-stage RUNs before the dependencies
    build_env: dict[str, str] = field(default_factory=dict)
    install_files: list[str] = field(default_factory=list)
    install: list[str] = field(default_factory=list)
    caches: list[str] = field(default_factory=list)
    build: list[str] = field(default_factory=list)
    build_workdir: str | None = None  # where the build runs (a workspace member), default: workdir
    # (path in build stage, path in runtime); CONTEXT as the path: the source straight from the build context,
    # so a source-only change leaves the layers copied from the build stage (the dependencies) untouched
    artifacts: list[tuple[str, str]] = field(default_factory=list)
    copy_from: str = "."  # what of the context is copied in
    copy_to: str | None = None  # where the source goes (default: workdir)
    runtime_workdir: str | None = None  # where the app starts, default: workdir
    runtime_env: dict[str, str] = field(default_factory=dict)
    runtime_packages: list[str] = field(default_factory=list)  # Debian packages of the runtime stage
    # Programs the build puts on the runtime PATH beyond the image's own (dependency binaries: gunicorn,
    # next, ...), for the start-program check; None: not known, so programs found nowhere else go unchecked
    # when runtime_env adds directories to PATH.
    programs: list[str] | None = None
    runtime_setup: list[str] = field(default_factory=list)  # runtime-stage commands run as root (config files)
    # The runtime user: with create_user, its name (created as uid/gid 10001 with a home in /home/<name>);
    # else a user the runtime image already has, numeric ("1654", "65532:65532") so the host can resolve it.
    # Either way it owns the working directory and everything copied into the runtime stage.
    user: str = "10001"
    create_user: bool = False  # create the user with groupadd/useradd (Debian-based runtime images)
    # An image user's home when the image has none (its passwd names a directory that does not exist): the
    # runtime stage creates it owned by the user and sets HOME. A created user always gets /home/<name>.
    home: str | None = None
    dockerignore: list[str] = field(default_factory=list)
    frontend: FrontendStage | None = None  # a Node.js stage for front-end assets, rendered before `build`


@dataclass
class Plan:
    app_dir: Path
    context_dir: Path
    language: str | None = None
    package_manager: str | None = None
    framework: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    install_command: str | None = None
    build_command: str | None = None
    start_command: str | None = None
    port: int = DEFAULT_PORT
    dockerfile_path: Path | None = None
    generated: bool = True
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what will likely fail; shown by `unkey plan` and builds
    recipe: Recipe | None = None
    root: Path | None = None  # the PATH the plan was made for; JSON paths are relative to it

    def to_json(self) -> dict[str, Any]:
        """Exactly what `unkey plan --output json` prints."""
        recipe = self.recipe
        return {
            "language": self.language,
            "packageManager": self.package_manager,
            "framework": self.framework,
            "versions": dict(self.versions),
            "installCommand": self.install_command,
            "buildCommand": self.build_command,
            "startCommand": self.start_command,
            "port": self.port,
            "dockerfile": {
                "path": self._rel(self.dockerfile_path) if self.dockerfile_path else None,
                "generated": self.generated,
            },
            "appDir": self._rel(self.app_dir),
            "context": self._rel(self.context_dir),
            "baseImages": (
                {"build": recipe.build_image, "runtime": recipe.runtime_image} if recipe and self.generated else None
            ),
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
        }

    def _rel(self, path: Path) -> str:
        base = self.root or self.app_dir
        try:
            rel = path.resolve().relative_to(base.resolve())
        except ValueError:
            return str(path)
        return rel.as_posix() or "."
