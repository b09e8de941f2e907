"""Docker image references: `[registry[:port]/]path[:tag][@sha256:digest]`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from unkey_deploy.errors import UsageError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?:(?P<registry>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


@dataclass(frozen=True)
class ImageRef:
    registry: str | None
    path: str
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        return f"{self.registry}/{self.path}" if self.registry else self.path

    def with_tag(self, tag: str) -> ImageRef:
        return ImageRef(self.registry, self.path, tag, None)

    def with_digest(self, digest: str) -> ImageRef:
        return ImageRef(self.registry, self.path, self.tag, digest)

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image(text: str) -> ImageRef:
    """Parse an image reference; a malformed one is a usage error saying what a valid one looks like."""
    candidate = text.strip()
    match = _REFERENCE.match(candidate)
    registry = match.group("registry") if match else None
    # `host/path` where host has no dot/port and is not localhost is really a Docker Hub path component
    if match and registry and not any(c in registry for c in ".:[") and registry != "localhost":
        registry = None
    if not match or len(candidate) > 512:
        raise UsageError(
            f"invalid image reference {text!r}: expected registry/repository:tag or registry/repository@sha256:…"
            " (lower-case repository, e.g. ghcr.io/acme/api:v1.0.0)"
        )
    path = match.group("path")
    if match.group("registry") and registry is None:
        path = f"{match.group('registry')}/{path}"
    return ImageRef(registry, path, match.group("tag"), match.group("digest"))
