"""Which docker client builds: `docker buildx` when a client has it, else a client older than 23 with
BuildKit built in (`DOCKER_BUILDKIT=1 docker build`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Literal

from unkey_deploy.errors import UsageError

WELL_KNOWN = ("/usr/bin/docker", "/usr/local/bin/docker")
INSTALL_HINT = (
    "install the Docker buildx plugin (e.g. `apt-get install docker-buildx-plugin`, or Docker Desktop), "
    "or point --docker-bin / UNKEY_DOCKER_BIN at a docker client older than 23, which has BuildKit built in"
)


@dataclass(frozen=True)
class Builder:
    kind: Literal["buildx", "buildkit"]
    docker_bin: str
    client_version: str | None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "dockerBin": self.docker_bin, "clientVersion": self.client_version}


def select_builder(docker_bin: str | None = None, builder: str | None = None) -> Builder:
    """The builder to use; UsageError saying what to install when there is none.

    `builder` names a buildx builder (--builder), which needs buildx.
    """
    explicit = docker_bin or os.environ.get("UNKEY_DOCKER_BIN") or None
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise UsageError(
                f"docker client {explicit!r} not found or not executable; fix --docker-bin / UNKEY_DOCKER_BIN"
            )
        candidates = [found]
    else:
        candidates = docker_clients()
    if not candidates:
        raise UsageError(f"docker not found: building images needs a docker client; {INSTALL_HINT}")
    for binary in candidates:
        if has_buildx(binary):
            return Builder("buildx", binary, client_version(binary))
    tried = []
    for binary in candidates:
        version = client_version(binary)
        if builder is None and version and major(version) < 23:
            return Builder("buildkit", binary, version)
        tried.append(f"{binary} {version or '(version unknown)'} has no buildx")
    if builder:
        raise UsageError(f"--builder {builder} needs docker buildx ({'; '.join(tried)}); install the buildx plugin")
    raise UsageError(f"no docker client here can run BuildKit builds ({'; '.join(tried)}); {INSTALL_HINT}")


def docker_clients() -> list[str]:
    """`docker` on PATH first, then the usual install locations; each binary once."""
    found: dict[str, str] = {}
    for name in (shutil.which("docker"), *WELL_KNOWN):
        if name and os.access(name, os.X_OK):
            found.setdefault(os.path.realpath(name), name)
    return list(found.values())


def has_buildx(binary: str) -> bool:
    return _run([binary, "buildx", "version"]) is not None


def client_version(binary: str) -> str | None:
    """The client's version; printed even when no daemon answers (the command then exits 1)."""
    try:
        result = subprocess.run(
            [binary, "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True, timeout=15
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = result.stdout.strip()
    return version or None


def major(version: str) -> int:
    head = version.lstrip("v").split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def _run(command: list[str]) -> str | None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None
