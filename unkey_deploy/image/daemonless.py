"""Build and push without a Docker engine: `buildah build` / `podman build`, then `buildah push` / `podman push`.

The build variables reach the build exactly as on docker: a 0600 secret file registered under the
variables' hash and under the literal id `${UNKEY_SECRETS_ID}`, named by path in argv, never by value.
Base images the Docker engine already has (when there is one) are copied into the backend's storage
first (`pull docker-daemon:IMAGE`); nothing is ever pulled with `--pull=always`. A plain-HTTP registry
on a loopback address is pushed to with `--tls-verify=false`, as Docker treats 127.0.0.0/8 as insecure.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from unkey_deploy.errors import BuildError, PushError, UsageError
from unkey_deploy.image.backends import Backend
from unkey_deploy.image.progress import TAIL_LINES, Masker
from unkey_deploy.report import Reporter

if TYPE_CHECKING:
    from unkey_deploy.image.build import BuildRequest
    from unkey_deploy.image.push import RegistryAuth
    from unkey_deploy.imageref import ImageRef

_STEP = re.compile(r"STEP (\d+)(?:/\d+)?: (.*)\Z", re.S)
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.I | re.M)
_AT_STEP = re.compile(r'^building at STEP ".*?": (?:while running runtime: )?', re.S)
_LOOPBACK = re.compile(r"^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?\Z")
ATTEMPTS = 3


class DaemonlessProgress:
    """buildah/podman build output → reporter events (values masked), and what a failure message needs."""

    def __init__(self, reporter: Reporter, mask: Masker) -> None:
        self.reporter = reporter
        self.mask = mask
        self.current: tuple[str, str] | None = None
        self.log: deque[str] = deque(maxlen=TAIL_LINES)
        self.error: str | None = None

    def feed(self, raw: str) -> None:
        line = self.mask(raw.rstrip("\n"))
        match = _STEP.match(line)
        if match:
            self._finish()
            self.current = (f"STEP {match.group(1)}", match.group(2))
            self.log.clear()
            self.reporter.step_started(*self.current)
            return
        if not line.strip():
            return
        if line.startswith("Error:"):
            self.error = _AT_STEP.sub("", line.removeprefix("Error:").strip())
            return
        if self.current and line.startswith("--> Using cache"):
            self.reporter.step_finished(self.current[0], cached=True)
            self.current = None
            return
        self.log.append(line)
        if self.current:
            self.reporter.step_log(self.current[0], line)

    def _finish(self) -> None:
        if self.current:
            self.reporter.step_finished(self.current[0])
            self.current = None

    def done(self) -> None:
        self._finish()

    def failure(self) -> tuple[str, list[str]]:
        where = f"build step `{self.current[1]}` failed" if self.current else "build failed"
        if self.current:
            self.reporter.step_finished(self.current[0], ok=False, detail=self.error or "")
        log = list(self.log)
        if self.current and self.current[1].upper().startswith("FROM "):
            log.append("the base image could not be pulled: map it to an image the backend has or can reach with "
                       "build.baseImages in unkey.yaml or UNKEY_BASE_IMAGES (e.g. a mirror), or use a full name "
                       "such as docker.io/library/node:22")  # fmt: skip
        return f"{where}: {self.error or 'the builder gave no reason'}", log


def build_command(
    backend: Backend, request: BuildRequest, dockerfile: Path, env_file: Path, iidfile: Path,
    ignorefile: Path | None,
) -> list[str]:
    """The buildah/podman invocation. It names the secret file, never a variable value."""
    from unkey_deploy.image.build import request_flags

    assert backend.binary
    command = [backend.binary, "build", "--layers", "--force-rm", "--format", "docker"]
    command += request_flags(request, dockerfile, env_file, iidfile)
    if ignorefile is not None:
        command += ["--ignorefile", str(ignorefile)]
    for name, value in request.build_args.items():
        command += ["--build-arg", f"{name}={value}"]
    for spec in request.cache_from:
        command += ["--cache-from", cache_repository(spec, "--cache-from")]
    for spec in request.cache_to:
        command += ["--cache-to", cache_repository(spec, "--cache-to")]
    return [*command, str(request.context)]


def cache_repository(spec: str, flag: str) -> str:
    """A docker cache spec (`type=registry,ref=REPO` or plain `REPO`) as the repository buildah/podman take."""
    if "=" not in spec:
        return spec
    fields = dict(part.partition("=")[::2] for part in spec.split(","))
    if fields.get("type", "registry") == "registry" and fields.get("ref"):
        return fields["ref"]
    raise UsageError(f"{flag} {spec!r}: buildah and podman take only a registry cache (type=registry,ref=REPO)")


def ignore_file(request: BuildRequest, dockerfile: Path) -> Path | None:
    """The .dockerignore to pass with --ignorefile: `<Dockerfile>.dockerignore` beside the Dockerfile
    (the generated one's), else the context's own."""
    for candidate in (dockerfile.with_name(dockerfile.name + ".dockerignore"), request.context / ".dockerignore"):
        if candidate.is_file():
            return candidate
    return None


def base_images(dockerfile_text: str) -> list[str]:
    """The images the Dockerfile's FROM lines name (stages and `$ARG` references left out), in order."""
    stages: set[str] = set()
    images: list[str] = []
    for match in _FROM.finditer(dockerfile_text):
        ref, alias = match.group(1), match.group(2)
        if ref.lower() not in stages and "$" not in ref and ref.lower() != "scratch" and ref not in images:
            images.append(ref)
        if alias:
            stages.add(alias.lower())
    return images


def qualified(ref: str) -> str:
    """`ref` as Docker reads it: a name without a registry is on docker.io (official images under library/).

    buildah and podman resolve short names through registries.conf, which often names no registry at all."""
    first, slash, rest = ref.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return ref
    return f"docker.io/{ref}" if slash else f"docker.io/library/{ref}"


def qualify_from(dockerfile_text: str) -> str:
    """The Dockerfile with every FROM image (not a stage, `$ARG` or scratch) given its full name."""
    stages: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        ref, alias = match.group(1), match.group(2)
        keep = ref.lower() in stages or "$" in ref or ref.lower() == "scratch"
        if alias:
            stages.add(alias.lower())
        if keep:
            return match.group(0)
        start, end = match.span(1)
        whole = match.group(0)
        return whole[: start - match.start()] + qualified(ref) + whole[end - match.start() :]

    return _FROM.sub(replace, dockerfile_text)


def import_from_docker(backend: Backend, images: Iterable[str], reporter: Reporter) -> None:
    """Copy base images the Docker engine has, and the backend's storage lacks, into that storage."""
    from unkey_deploy.image.backends import docker_problem
    from unkey_deploy.image.builders import docker_clients

    assert backend.binary
    wanted = [image for image in images if not _backend_has(backend, qualified(image))]
    if not wanted or docker_problem() is not None:
        return
    docker = docker_clients()[0]
    for image in wanted:
        if subprocess.run([docker, "image", "inspect", image], capture_output=True, timeout=60).returncode != 0:
            continue
        reporter.info(f"copying base image {image} from the Docker engine into {backend.kind}")
        result = subprocess.run([backend.binary, "pull", "--quiet", f"docker-daemon:{image}"],
                                capture_output=True, text=True, timeout=900)  # fmt: skip
        if result.returncode != 0:
            reporter.warn(f"could not copy {image} from the Docker engine: {_last_line(result.stderr)}")


def copy_to_docker(kind: str, ref: str, reporter: Reporter) -> None:
    """Copy a built image into the Docker engine (for `unkey local`, which runs images there)."""
    from unkey_deploy.image.backends import resolve

    backend = resolve(kind)
    assert backend.binary
    reporter.info(f"copying {ref} from {kind} into the Docker engine")
    result = subprocess.run([backend.binary, "push", "--quiet", ref, f"docker-daemon:{ref}"],
                            capture_output=True, text=True, timeout=1800)  # fmt: skip
    if result.returncode != 0:
        raise BuildError(f"could not copy {ref} into the Docker engine: {_last_line(result.stderr)}; "
                         "push it to a registry instead (give IMAGE or --registry)")  # fmt: skip


def _backend_has(backend: Backend, image: str) -> bool:
    assert backend.binary
    command = [backend.binary, "inspect", "--type", "image", image] if backend.kind == "buildah" else [
        backend.binary, "image", "exists", image]  # fmt: skip
    try:
        return subprocess.run(command, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def push(backend: Backend, image: ImageRef, auth: RegistryAuth | None, reporter: Reporter) -> str:
    """Push `image` (an ImageRef with a tag) with the backend's own push; the digest the registry stored."""
    from unkey_deploy.image.push import _failure, _Transient, registry_of

    assert backend.binary
    registry = registry_of(image)
    ref = str(image)
    with _private_dir() as directory:
        digestfile = directory / "digest"
        command = [backend.binary, "push", "--digestfile", str(digestfile)]
        authfile = _authfile(directory, registry, auth)
        if authfile:
            command += ["--authfile", str(authfile)]
        if _LOOPBACK.match(registry):
            command.append("--tls-verify=false")
        command += [ref, f"docker://{ref}"]
        for attempt in range(1, ATTEMPTS + 1):
            reporter.info(f"pushing {ref} with {backend.kind}")
            result = subprocess.run(command, capture_output=True, text=True, timeout=3600, stdin=subprocess.DEVNULL)
            if result.returncode == 0 and digestfile.is_file():
                digest = digestfile.read_text().strip()
                if digest.startswith("sha256:"):
                    return digest
                raise PushError(f"{backend.kind} did not report a digest for {ref}; push it again")
            problem = _failure(_last_line(result.stderr) or "no reason given", image, registry)
            if not isinstance(problem, _Transient):
                raise problem
            if attempt == ATTEMPTS:
                raise PushError(f"push of {ref} failed after {ATTEMPTS} attempts: {problem}")
            wait = 2.0**attempt
            reporter.warn(f"push of {ref} failed ({problem}); retrying in {wait:.0f}s")
            time.sleep(wait)
    raise PushError(f"push of {ref} failed")  # not reached


def _authfile(directory: Path, registry: str, auth: RegistryAuth | None) -> Path | None:
    """A 0600 auth file for explicit credentials; else $DOCKER_CONFIG/config.json when set (the backend
    reads ~/.docker/config.json and its credential helpers by itself)."""
    if auth is not None:
        path = directory / "auth.json"
        token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"auths": {registry: {"auth": token}}}, handle)
        return path
    config = os.environ.get("DOCKER_CONFIG")
    if config and (Path(config) / "config.json").is_file():
        return Path(config) / "config.json"
    return None


@contextlib.contextmanager
def _private_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="unkey-push-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1].removeprefix("Error: ")[:300] if lines else ""


def build(backend: Backend, request: BuildRequest, reporter: Reporter) -> tuple[str, int | None]:
    """Run the build; (image id, None). BuildError (exit 4) with the failing step and its last lines."""
    from unkey_deploy.image.build import _dockerfile, _stream
    from unkey_deploy.image.secrets import secret_files

    with _dockerfile(request) as dockerfile, secret_files(request.variables) as env_file:
        text = dockerfile.read_text(encoding="utf-8", errors="replace")
        import_from_docker(backend, base_images(text), reporter)
        iidfile = env_file.parent / "image-id"
        ignore = ignore_file(request, dockerfile)
        if qualify_from(text) != text:  # a copy with full base image names, next to the secret (removed with it)
            dockerfile = env_file.parent / "Dockerfile"
            dockerfile.write_text(qualify_from(text), encoding="utf-8")
        command = build_command(backend, request, dockerfile, env_file, iidfile, ignore)
        progress = DaemonlessProgress(reporter, Masker(request.variables.as_dict().values()))
        code = _stream(command, dict(os.environ), progress)
        if code != 0:
            message, log = progress.failure()
            raise BuildError(message, details=log)
        progress.done()
        image_id = iidfile.read_text().strip() if iidfile.is_file() else ""
    return image_id, None
