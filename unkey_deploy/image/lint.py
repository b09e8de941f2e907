"""Checks of a user's Dockerfile that catch build variables silently not reaching a step."""

from __future__ import annotations

import re
from collections.abc import Iterator

_SECRET_MOUNT = re.compile(r"--mount=(\S*type=secret\S*)")
_ARG_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)")


def instructions(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, instruction with continuation lines joined); comments and blanks skipped."""
    start = 0
    parts: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not parts and (not stripped or stripped.startswith("#")):
            continue
        if parts and stripped.startswith("#"):
            continue
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(stripped[:-1])
            continue
        parts.append(stripped)
        yield start, " ".join(parts)
        parts = []
    if parts:
        yield start, " ".join(parts)


def secret_arg_warnings(text: str, path: str = "Dockerfile") -> list[str]:
    """One warning per RUN that mounts the build variables secret in a stage without `ARG UNKEY_SECRETS_ID`."""
    warnings: list[str] = []
    stage, declared, index = "", False, -1
    for number, instruction in instructions(text):
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            index += 1
            words = rest.split()
            alias = words[-1] if len(words) >= 3 and words[-2].upper() == "AS" else None
            stage, declared = alias or f"#{index + 1}", False
        elif keyword == "ARG" and index >= 0:
            names = [m.group(1) for m in map(_ARG_NAME.match, rest.split()) if m]
            declared = declared or "UNKEY_SECRETS_ID" in names
        elif keyword == "RUN" and not declared:
            for mount in _SECRET_MOUNT.findall(rest):
                if "UNKEY_SECRETS_ID" in mount or "/run/secrets/.env" in mount:
                    warnings.append(
                        f"{path}:{number}: RUN mounts the build variables secret but stage {stage} has no "
                        "`ARG UNKEY_SECRETS_ID`; add it after the stage's FROM line (ARG values are not "
                        "inherited across stages), or the step may see no variables"
                    )
                    break
    return warnings
