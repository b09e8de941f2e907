"""Docker image references: `[registry[:port]/]path[:tag][@sha256:digest]`, checked as Docker checks them:
a lower-case repository path, a port from 1 to 65535, at most 255 characters of name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from unkey_deploy.errors import UsageError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?:(?P<registry>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?\Z"
)
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*\Z")
NAME_MAX = 255  # Docker's limit on registry + repository


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

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image(text: str) -> ImageRef:
    """Parse an image reference; a malformed one is a usage error saying what is wrong and what a valid
    one looks like."""
    candidate = text.strip()
    match = _REFERENCE.match(candidate) if len(candidate) <= 512 else None
    if not match:
        raise UsageError(_problem(text, candidate))
    registry = match.group("registry")
    path = match.group("path")
    # `host/path` where host has no dot/port and is not localhost is really a Docker Hub path component
    if registry and not any(c in registry for c in ".:[") and registry != "localhost":
        path, registry = f"{registry}/{path}", None
        if not _PATH.match(path):
            raise UsageError(_problem(text, candidate))
    if registry and ":" in registry.rsplit("]", 1)[-1]:
        port = int(registry.rsplit(":", 1)[1])
        if not 1 <= port <= 65535:
            raise UsageError(f"invalid image reference {_shown(text)}: port {port} of the registry is not between "
                             "1 and 65535")
    name = f"{registry}/{path}" if registry else path
    if len(name) > NAME_MAX:
        raise UsageError(f"invalid image reference {_shown(text)}: the repository name is {len(name)} characters, "
                         f"Docker allows {NAME_MAX}")
    return ImageRef(registry, path, match.group("tag"), match.group("digest"))


def _shown(text: str) -> str:
    from unkey_deploy.report.safe import text as safe_text

    return repr(safe_text(text, 200))


def _problem(text: str, candidate: str) -> str:
    """Why `candidate` is not an image reference, as specific as can be said."""
    base = f"invalid image reference {_shown(text)}"
    example = "expected registry/repository:tag or registry/repository@sha256:… (e.g. ghcr.io/acme/api:v1.0.0)"
    if not candidate:
        return f"{base}: it is empty; {example}"
    if len(candidate) > 512:
        return f"{base}: it is {len(candidate)} characters long; {example}"
    if any(c.isspace() or not c.isprintable() for c in candidate):
        return f"{base}: it contains whitespace or control characters; {example}"
    name = candidate.split("@", 1)[0]
    slash = name.find("/")
    first = name[:slash] if slash > 0 else ""
    has_registry = bool(first) and (any(c in first for c in ".:[") or first == "localhost")
    repository = name[slash + 1 :] if has_registry else name
    repository = repository.rsplit(":", 1)[0] if ":" in repository.rsplit("/", 1)[-1] else repository
    if repository != repository.lower():
        return f"{base}: the repository must be lower-case ({repository.lower()!r}, not {repository!r})"
    return f"{base}: {example}"


def parse_image_argument(text: str) -> ImageRef:
    """The IMAGE argument of `unkey deploy`: an image reference, never a local file that happens to parse."""
    from pathlib import Path

    try:
        is_file = Path(text).is_file()
    except (OSError, ValueError):
        is_file = False
    if is_file:
        raise UsageError(
            f"{_shown(text)} is a file here, not an image reference: deploy an image such as "
            "ghcr.io/acme/api:v1, or build from source with --build (e.g. `unkey deploy . --build`)"
        )
    return parse_image(text)
