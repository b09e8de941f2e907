"""Environment settings as people write them on the command line (`--healthcheck GET:/healthz`,
`--region us-east-1:1-3`, `--command 'node server.js'`), parsed into the API's shapes; shared by
`unkey environments set` and `unkey init`."""

from __future__ import annotations

import shlex
from typing import Any

from unkey_deploy.errors import UsageError

NONE_WORDS = ("none", "off", "")


def parse_healthcheck(text: str) -> dict[str, Any] | None:
    """`GET:/healthz`, `GET /healthz` or `/healthz` (GET); `none` removes the health check."""
    value = text.strip()
    if value.lower() in NONE_WORDS:
        return None
    method, sep, path = value.replace(" ", ":", 1).partition(":")
    if not sep:
        method, path = "GET", value
    if not path.startswith("/"):
        raise UsageError(f"--healthcheck must be METHOD:PATH such as GET:/healthz, got {text!r}")
    return {"method": method.upper(), "path": path}


def parse_region(text: str) -> dict[str, Any]:
    """`us-east-1` (one replica) or `us-east-1:1-3` (one to three replicas)."""
    name, _, replicas = text.partition(":")
    low, high = 1, 1
    if replicas:
        first, dash, second = replicas.partition("-")
        if not first.isdigit() or (dash and not second.isdigit()):
            raise UsageError(f"--region must be NAME or NAME:MIN-MAX such as us-east-1:1-3, got {text!r}")
        low = int(first)
        high = int(second) if dash else low
        if high < low:
            raise UsageError(f"--region {text}: the maximum replicas must be at least the minimum")
    return {"name": name, "replicas": {"min": low, "max": high}}


def command_words(command: str) -> list[str]:
    """`--command`: shell words, as the platform runs them."""
    try:
        return shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--command cannot be split into words ({exc}); check its quotes") from None
