"""Which build backend runs the build: the Docker engine (BuildKit), or daemonless buildah or podman.

`--builder-backend` (env UNKEY_BUILDER_BACKEND, unkey.yaml `build.backend`) names one; `auto` (the
default) takes docker when an engine answers, else buildah, else podman, and says which and why. An
explicit DOCKER_HOST, --builder or --docker-bin asks for the Docker engine, so `auto` keeps to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from unkey_deploy.errors import UsageError

Kind = Literal["docker", "buildah", "podman"]

BACKENDS = ("auto", "docker", "buildah", "podman")
ENV_VAR = "UNKEY_BUILDER_BACKEND"
DAEMONLESS: tuple[Kind, ...] = ("buildah", "podman")
INSTALL_HINT = "install buildah or podman (e.g. `apt-get install buildah podman`) or start Docker"


@dataclass(frozen=True)
class Backend:
    """The chosen backend, its program (None for docker: see builders.select_builder) and why."""

    kind: Kind
    binary: str | None = None
    reason: str = ""

    @property
    def daemonless(self) -> bool:
        return self.kind in DAEMONLESS

    def to_json(self) -> dict[str, Any]:
        return {"backend": self.kind, "binary": self.binary, "reason": self.reason}


def requested(flag: str | None, config: Mapping[str, Any] | None = None, source: str = "unkey.yaml") -> str:
    """The requested backend name: --builder-backend, else UNKEY_BUILDER_BACKEND, else `build.backend`."""
    value: Any = flag or os.environ.get(ENV_VAR) or None
    where = "--builder-backend" if flag else ENV_VAR
    if value is None and config:
        build = config.get("build")
        value = build.get("backend") if isinstance(build, Mapping) else None
        where = f"{source} build.backend"
    if value is None:
        return "auto"
    if not isinstance(value, str) or value.strip().lower() not in BACKENDS:
        raise UsageError(f"{where}: unknown build backend {value!r}; use one of {', '.join(BACKENDS)}")
    return value.strip().lower()


def resolve(name: str, *, docker_bin: str | None = None, builder: str | None = None) -> Backend:
    """The backend to build with; UsageError when the named one is not installed."""
    if name == "docker":
        return Backend("docker", None, "--builder-backend docker")
    for kind in DAEMONLESS:
        if kind == name:
            if builder:
                raise UsageError(f"--builder {builder} names a buildx builder; it needs --builder-backend docker")
            return Backend(kind, _program(kind, required=True), f"--builder-backend {kind}")
    return _auto(docker_bin, builder)


def _auto(docker_bin: str | None, builder: str | None) -> Backend:
    explicit = (
        "--builder" if builder else "--docker-bin" if docker_bin or os.environ.get("UNKEY_DOCKER_BIN")
        else "DOCKER_HOST" if os.environ.get("DOCKER_HOST") else None
    )  # fmt: skip
    if explicit:
        return Backend("docker", None, f"{explicit} is set")
    problem = docker_problem()
    if problem is None:
        return Backend("docker", None, "a Docker engine answers")
    for name in DAEMONLESS:
        program = _program(name, required=False)
        if program:
            return Backend(name, program, f"no Docker engine ({problem}) and {name} is installed")
    return Backend("docker", None, f"no Docker engine ({problem}), and neither buildah nor podman is installed")


def docker_problem() -> str | None:
    """None when a Docker engine answers the docker client, else why not (one short phrase)."""
    from unkey_deploy.image.builders import docker_clients

    clients = docker_clients()
    if not clients:
        return "no docker client"
    try:
        result = subprocess.run(
            [clients[0], "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, timeout=15
        )
    except (OSError, subprocess.TimeoutExpired):
        return "the engine did not answer"
    if result.returncode == 0 and result.stdout.strip():
        return None
    reason = next((line.strip() for line in result.stderr.splitlines() if line.strip()), "no answer")
    return reason[:160]


def _program(name: str, *, required: bool) -> str | None:
    found = shutil.which(name)
    if found or not required:
        return found
    raise UsageError(f"--builder-backend {name}: {name} is not installed; {INSTALL_HINT}")
