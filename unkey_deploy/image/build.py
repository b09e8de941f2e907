"""Build an image with BuildKit through the docker CLI, the build variables mounted as a secret.

The secret is registered twice over the same file: under the variables' hash (the value of the
`UNKEY_SECRETS_ID` build argument) and under the literal id `${UNKEY_SECRETS_ID}`, for builders whose
Dockerfile frontend does not expand build arguments in mount options (Docker 20.10's built-in BuildKit).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from unkey_deploy.errors import BuildError, UsageError
from unkey_deploy.image.backends import resolve as resolve_backend
from unkey_deploy.image.builders import Builder, select_builder
from unkey_deploy.image.lint import secret_arg_warnings
from unkey_deploy.image.progress import Masker, PlainProgress
from unkey_deploy.image.secrets import BuildVariables, secret_files, secrets_id
from unkey_deploy.report import Reporter

__all__ = ["BuildRequest", "BuiltImage", "build_command", "build_image", "select_builder"]

LITERAL_SECRET_ID = "${UNKEY_SECRETS_ID}"


@dataclass(frozen=True)
class BuildRequest:
    """What to build. Give `dockerfile` (a path) or `dockerfile_text` (generated), not both; with
    neither, `context/Dockerfile` is used. `dockerignore_text` applies on top of the context's own."""

    context: Path
    tag: str
    dockerfile: Path | None = None
    dockerfile_text: str | None = None
    dockerignore_text: str | None = None
    variables: BuildVariables = field(default_factory=BuildVariables)
    platform: str = "linux/amd64"
    build_args: Mapping[str, str] = field(default_factory=dict)
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    builder: str | None = None
    docker_bin: str | None = None
    backend: str = "auto"  # docker, buildah, podman or auto: see image/backends.py

    def to_json(self) -> dict[str, Any]:
        return {
            "context": str(self.context),
            "dockerfile": "(generated)" if self.dockerfile_text is not None else str(self.dockerfile_path()),
            "tag": self.tag,
            "platform": self.platform,
            "buildArgs": dict(self.build_args),
            "cacheFrom": list(self.cache_from),
            "cacheTo": list(self.cache_to),
            "builder": self.builder,
            "backend": self.backend,
            "variables": self.variables.to_json(),
        }

    def dockerfile_path(self) -> Path:
        return self.dockerfile or self.context / "Dockerfile"


@dataclass(frozen=True)
class BuiltImage:
    ref: str
    image_id: str
    context_bytes: int | None = None
    backend: str = "docker"

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "imageId": self.image_id, "contextBytes": self.context_bytes, "backend": self.backend}


def build_image(request: BuildRequest, reporter: Reporter) -> BuiltImage:
    """Build `request.tag`; BuildError (exit 4) with the failing step and its last log lines."""
    if not request.context.is_dir():
        raise UsageError(f"build context {request.context} is not a directory")
    if request.dockerfile is not None and request.dockerfile_text is not None:
        raise UsageError("give a Dockerfile path or generated Dockerfile text, not both")
    backend = resolve_backend(request.backend, docker_bin=request.docker_bin, builder=request.builder)
    builder = None if backend.daemonless else select_builder(request.docker_bin, request.builder)
    if request.cache_to and builder is not None and builder.kind != "buildx":
        raise UsageError("--cache-to needs docker buildx; install the buildx plugin or drop --cache-to")
    if request.dockerfile_text is None:
        path = request.dockerfile_path()
        if not path.is_file():
            raise UsageError(f"Dockerfile {path} not found; pass --dockerfile PATH")
        for warning in secret_arg_warnings(path.read_text(encoding="utf-8", errors="replace"), str(path)):
            reporter.warn(warning)
    if request.backend == "auto" or backend.daemonless:
        reporter.info(f"building with {backend.kind}: {backend.reason}")
    if builder is None:
        from unkey_deploy.image import daemonless

        image_id, context_bytes = daemonless.build(backend, request, reporter)
        return BuiltImage(request.tag, image_id, context_bytes, backend.kind)
    if request.builder is None:
        check_engine(builder)
    with _dockerfile(request) as dockerfile, secret_files(request.variables) as env_file:
        iidfile = env_file.parent / "image-id"
        command = build_command(builder, request, dockerfile, env_file, iidfile)
        progress = PlainProgress(reporter, Masker(request.variables.as_dict().values()))
        code = _stream(command, _environment(builder), progress)
        if code != 0:
            message, log = progress.failure()
            raise BuildError(message, details=log)
        image_id = iidfile.read_text().strip() if iidfile.is_file() else ""
    return BuiltImage(request.tag, image_id, progress.context_bytes)


def build_command(
    builder: Builder, request: BuildRequest, dockerfile: Path, env_file: Path, iidfile: Path
) -> list[str]:
    """The docker CLI invocation. It names the secret file, never a variable value."""
    if builder.kind == "buildx":
        command = [builder.docker_bin, "buildx", "build", "--load"]
        if request.builder:
            command += ["--builder", request.builder]
    else:
        command = [builder.docker_bin, "build"]
    command += ["--progress=plain", *request_flags(request, dockerfile, env_file, iidfile)]
    for name, value in request.build_args.items():
        command += ["--build-arg", f"{name}={value}"]
    for source in request.cache_from:
        command += ["--cache-from", source]
    for target in request.cache_to:
        command += ["--cache-to", target]
    return [*command, str(request.context)]


def request_flags(request: BuildRequest, dockerfile: Path, env_file: Path, iidfile: Path) -> list[str]:
    """The flags every backend's build takes alike: the Dockerfile, tag, platform, image-id file and the build
    secret, by the file that holds it (never a variable value)."""
    secret_id = secrets_id(request.variables)
    return [
        "--file", str(dockerfile),
        "--tag", request.tag,
        "--platform", request.platform,
        "--iidfile", str(iidfile),
        "--build-arg", f"UNKEY_SECRETS_ID={secret_id}",
        "--secret", f"id={secret_id},src={env_file}",
        "--secret", f"id={LITERAL_SECRET_ID},src={env_file}",
    ]  # fmt: skip


def check_engine(builder: Builder) -> None:
    """BuildError (exit 4) when the Docker engine does not answer: the build cannot run."""
    try:
        result = subprocess.run(
            [builder.docker_bin, "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise BuildError("the Docker engine did not answer within 30 s; check that dockerd is running") from None
    if result.returncode != 0:
        reason = next((line for line in result.stderr.splitlines() if line.strip()), "no answer")
        host = os.environ.get("DOCKER_HOST")
        where = f" at DOCKER_HOST={host}" if host else ""
        raise BuildError(
            f"cannot reach the Docker engine{where}: {reason.strip()}; start Docker or set DOCKER_HOST"
        )


@contextlib.contextmanager
def _dockerfile(request: BuildRequest) -> Iterator[Path]:
    """The Dockerfile to pass with --file; generated text goes to a temp dir outside the context,
    next to a `Dockerfile.dockerignore` (which BuildKit then uses instead of the context's own)."""
    if request.dockerfile_text is None:
        yield request.dockerfile_path()
        return
    directory = Path(tempfile.mkdtemp(prefix="unkey-dockerfile-"))
    try:
        path = directory / "Dockerfile"
        path.write_text(request.dockerfile_text, encoding="utf-8")
        ignore = _merged_dockerignore(request.context, request.dockerignore_text)
        if ignore:
            (directory / "Dockerfile.dockerignore").write_text(ignore, encoding="utf-8")
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _merged_dockerignore(context: Path, generated: str | None) -> str:
    """Generated rules, then what git ignores, then the context's own .dockerignore (its `!` rules win)."""
    own = context / ".dockerignore"
    parts = [
        generated or "",
        "\n".join(git_ignored(context)),
        own.read_text(encoding="utf-8", errors="replace") if own.is_file() else "",
    ]
    kept = [part.rstrip("\n") for part in parts if part.strip()]
    return "\n".join(kept) + "\n" if kept else ""


def git_ignored(context: Path) -> list[str]:
    """Paths under `context` that git ignores (a whole directory as one entry), as .dockerignore lines.

    Keeps local virtualenvs, caches and build output out of the context of a generated Dockerfile.
    Outside a git work tree, or without git, there are none.
    """
    try:
        result = subprocess.run(
            ["git", "-C", str(context), "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
            capture_output=True, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    paths = (raw.decode("utf-8", "replace").rstrip("/") for raw in result.stdout.split(b"\0") if raw)
    return ["/" + path for path in paths if path and not any(c in path for c in "*?[]\\!#\n")]


def _environment(builder: Builder) -> dict[str, str]:
    env = dict(os.environ)
    if builder.kind == "buildkit":
        env["DOCKER_BUILDKIT"] = "1"
    return env


class _Feeds(Protocol):
    def feed(self, raw: str) -> None: ...


def _stream(command: list[str], env: dict[str, str], progress: _Feeds) -> int:
    """Run the build, feeding its output to `progress`; on any interruption stop it and re-raise."""
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            progress.feed(line)
        return process.wait()
    except BaseException:
        _stop(process)
        raise


def _stop(process: subprocess.Popen[str]) -> None:
    """Ask the docker client to cancel the build (as Ctrl-C does), then insist."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
