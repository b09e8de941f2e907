"""Base image remapping: every FROM goes through `ImageMap.remap`.

The map merges `build.baseImages` of the project's unkey.yaml with the UNKEY_BASE_IMAGES
environment variable (a JSON object, or `from=to,from=to`); the environment wins. A key is an exact
reference (`python:3.12-slim`) or a bare repository (`python`, any tag); a value without a tag then
keeps the original tag. This is how a mirror, an internal registry or local stand-in images are used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import ConfigError

if TYPE_CHECKING:
    from unkey_deploy.config import ProjectConfig

ENV_VAR = "UNKEY_BASE_IMAGES"


def split_ref(ref: str) -> tuple[str, str | None]:
    """`repo[:tag]` → (repo, tag); a registry port is not a tag."""
    name = ref.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :]
    return name, None


@dataclass
class ImageMap:
    mapping: dict[str, str] = field(default_factory=dict)

    def remap(self, ref: str) -> str:
        if ref in self.mapping:
            return self.mapping[ref]
        repo, tag = split_ref(ref)
        target = self.mapping.get(repo)
        if target is None:
            return ref
        if split_ref(target)[1] is None and "@" not in target and tag:
            return f"{target}:{tag}"
        return target


def checked_map(mapping: Mapping[Any, Any], source: str) -> dict[str, str]:
    """`mapping` when every key and value is an image reference (a newline or a number is not: values end
    up in `FROM` lines of the generated Dockerfile); a clear ConfigError naming the entry otherwise."""
    from unkey_deploy.config import yaml_kind
    from unkey_deploy.errors import UsageError
    from unkey_deploy.imageref import parse_image

    def reference(role: str, item: object) -> str:
        if not isinstance(item, str):
            raise ConfigError(f"{source}: the {role} {item!r} is {yaml_kind(item)}, not an image reference; "
                              "write a name such as python or mirror.acme.dev/python:3.12")
        try:
            return str(parse_image(item))
        except UsageError as exc:
            raise ConfigError(f"{source}: the {role} is not an image reference: {exc.message}") from None

    return {reference("key", key): reference("value", value) for key, value in mapping.items()}


def parse_env(value: str) -> dict[str, str]:
    value = value.strip()
    if not value:
        return {}
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ConfigError(f"{ENV_VAR} must be a JSON object of strings or `from=to,from=to`")
        return checked_map(data, ENV_VAR)
    pairs: dict[str, str] = {}
    for item in value.split(","):
        source, sep, target = item.strip().partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ConfigError(f"{ENV_VAR} entry {item.strip()!r} is not `from=to`; e.g. python=mirror.local/python")
        pairs[source.strip()] = target.strip()
    return checked_map(pairs, ENV_VAR)


def load_image_map(project: ProjectConfig, explicit: dict[str, str] | None = None) -> ImageMap:
    """The merged map: the project's unkey.yaml, then the environment, then `explicit`."""
    mapping: dict[str, str] = {}
    if project.path is not None:
        images = project.section("build").get("baseImages") or {}
        if not isinstance(images, dict):
            raise ConfigError(f"{project.path}: build.baseImages must be a mapping of image → replacement")
        mapping.update(checked_map(images, f"{project.path}: build.baseImages"))
    mapping.update(parse_env(os.environ.get(ENV_VAR, "")))
    mapping.update(explicit or {})
    return ImageMap(mapping)
