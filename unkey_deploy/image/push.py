"""Push a built image with the Docker Engine SDK and read back its digest.

Credentials, first match wins: explicit (--registry-username + --registry-password-stdin),
UNKEY_REGISTRY_USERNAME / UNKEY_REGISTRY_PASSWORD, ~/.docker/config.json (and its credential helpers,
read by the SDK), and on GitHub Actions GITHUB_TOKEN for ghcr.io.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from unkey_deploy.errors import PushError, UsageError
from unkey_deploy.imageref import ImageRef, parse_image
from unkey_deploy.report import Reporter

ATTEMPTS = 3
PUBLIC_BY_DEFAULT = ("docker.io", "public.ecr.aws")
_DENIED = ("unauthorized", "denied", "authentication required", "no basic auth credentials", "forbidden", "401", "403")
_TRANSIENT = (
    "connection refused", "connection reset", "timeout", "timed out", "eof", "broken pipe",
    "500 internal", "502", "503", "504", "too many requests", "429", "tls handshake",
)  # fmt: skip
CREDENTIALS_HINT = (
    "check the credentials: --registry-username with --registry-password-stdin, "
    "UNKEY_REGISTRY_USERNAME / UNKEY_REGISTRY_PASSWORD, or `docker login {registry}`"
)


@dataclass(frozen=True)
class RegistryAuth:
    username: str
    password: str = field(repr=False)
    source: str = "flag"

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "password": "***", "source": self.source}

    @classmethod
    def resolve(
        cls,
        registry: str,
        *,
        username: str | None = None,
        password: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> RegistryAuth | None:
        """Explicit or environment credentials; None means the Docker config (or anonymous) is used."""
        env = os.environ if environ is None else environ
        if password is not None and not username:
            raise UsageError("--registry-password-stdin needs --registry-username (or UNKEY_REGISTRY_USERNAME)")
        if username and password is not None:
            return cls(username, password, "flag")
        env_user, env_password = env.get("UNKEY_REGISTRY_USERNAME"), env.get("UNKEY_REGISTRY_PASSWORD")
        user = username or env_user
        if user and env_password is not None:
            return cls(user, env_password, "env")
        if user:
            raise UsageError(
                f"registry username {user!r} given without a password: pipe it to --registry-password-stdin "
                "or set UNKEY_REGISTRY_PASSWORD"
            )
        token = env.get("GITHUB_TOKEN")
        if registry == "ghcr.io" and token and env.get("GITHUB_ACTIONS") == "true" and not _docker_config_has(registry):
            return cls(env.get("GITHUB_ACTOR") or "x-access-token", token, "GITHUB_TOKEN")
        return None


@dataclass(frozen=True)
class PushedImage:
    ref: str
    digest: str
    ref_with_digest: str

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "digest": self.digest, "refWithDigest": self.ref_with_digest}


def registry_of(ref: ImageRef) -> str:
    return ref.registry or "docker.io"


def public_registry_warning(ref: ImageRef) -> str | None:
    """A warning when Unkey may not be able to pull from the image's registry (it pulls public images only)."""
    registry = registry_of(ref)
    host = registry.rsplit(":", 1)[0].strip("[]") if registry.count(":") <= 1 else registry.strip("[]")
    if host == "localhost" or host.endswith((".local", ".localhost", ".internal")) or _private_ip(host):
        return (
            f"{registry} is a local or private registry: Unkey pulls only public images today, so only "
            "`unkey local` can run this image"
        )
    if registry in PUBLIC_BY_DEFAULT:
        return None
    return f"Unkey pulls only public images today: make sure {ref.repository} is public on {registry}"


def push_image(ref: str, auth: RegistryAuth | None, reporter: Reporter, backend: str = "docker") -> PushedImage:
    """Push `ref` (repo:tag); PushError (exit 5) for refused credentials, denied pushes and lasting errors.

    `backend` is the one that built the image: buildah and podman push from their own storage."""
    image = parse_image(ref)
    if not image.tag or image.digest:
        raise UsageError(f"cannot push {ref}: give a tag, e.g. {image.repository}:v1")
    if warning := public_registry_warning(image):
        reporter.warn(warning)
    if backend != "docker":
        from unkey_deploy.image import daemonless
        from unkey_deploy.image.backends import resolve

        digest = daemonless.push(resolve(backend), image, auth, reporter)
        return PushedImage(str(image), digest, f"{image.repository}:{image.tag}@{digest}")
    client = _client()
    try:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                digest = _push_once(client, image, auth, reporter)
                break
            except _Transient as exc:
                if attempt == ATTEMPTS:
                    raise PushError(f"push of {ref} failed after {ATTEMPTS} attempts: {exc}") from None
                wait = 2.0 ** attempt
                reporter.warn(f"push of {ref} failed ({exc}); retrying in {wait:.0f}s")
                time.sleep(wait)
    finally:
        client.close()
    return PushedImage(str(image), digest, f"{image.repository}:{image.tag}@{digest}")


class _Transient(Exception):
    pass


def _client() -> Any:
    import docker

    try:
        # ssh:// engines go through the system ssh client, as the docker CLI does (no paramiko needed)
        client = docker.from_env(timeout=300, use_ssh_client=os.environ.get("DOCKER_HOST", "").startswith("ssh://"))
        client.ping()
    except docker.errors.DockerException as exc:
        raise PushError(f"cannot reach the Docker engine to push: {exc}; start Docker or set DOCKER_HOST") from None
    return client


def _push_once(client: Any, image: ImageRef, auth: RegistryAuth | None, reporter: Reporter) -> str:
    import docker

    registry = registry_of(image)
    auth_config = {"username": auth.username, "password": auth.password} if auth else None
    digest: str | None = None
    try:
        stream = client.api.push(image.repository, tag=image.tag, stream=True, decode=True, auth_config=auth_config)
        for event in stream:
            if "error" in event or "errorDetail" in event:
                message = (event.get("errorDetail") or {}).get("message") or event.get("error") or "unknown error"
                raise _failure(str(message), image, registry)
            digest = (event.get("aux") or {}).get("Digest") or digest
            _report_layer(event, reporter)
    except docker.errors.APIError as exc:
        raise _failure(str(exc.explanation or exc), image, registry) from None
    except (docker.errors.DockerException, OSError) as exc:
        raise _Transient(str(exc)) from None
    if not digest:
        raise PushError(f"the registry did not report a digest for {image}; push it again")
    return digest


def _failure(message: str, image: ImageRef, registry: str) -> Exception:
    lowered = message.lower()
    if "does not exist locally" in lowered or "no such image" in lowered:
        return PushError(f"cannot push {image}: no local image with that tag; build it first")
    if any(word in lowered for word in _DENIED):
        return PushError(
            f"{registry} refused the push of {image} ({message.strip()}); {CREDENTIALS_HINT.format(registry=registry)}"
        )
    if any(word in lowered for word in _TRANSIENT):
        return _Transient(message.strip())
    return PushError(f"push of {image} failed: {message.strip()}")


def _report_layer(event: Mapping[str, Any], reporter: Reporter) -> None:
    layer, status = event.get("id"), event.get("status", "")
    if not layer or not isinstance(layer, str) or ":" in layer:
        return
    detail = event.get("progressDetail") or {}
    if status == "Pushing" and detail.get("total"):
        reporter.progress(f"layer {layer}", int(detail.get("current", 0)), int(detail["total"]))
    elif status.startswith(("Pushed", "Layer already exists", "Mounted from")):
        reporter.progress(f"layer {layer}", 1, 1)


def _private_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _docker_config_has(registry: str) -> bool:
    try:
        from docker.auth import load_config, resolve_authconfig

        return bool(resolve_authconfig(load_config(), registry))
    except Exception:  # an unreadable config means "no credentials there", not a failure
        return False
