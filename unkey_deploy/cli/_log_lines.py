"""One runtime log line as text, shared by `unkey logs` and the log tail `unkey deploy` prints for a
deployment that did not become ready. Every part is made printable: log lines are data from the server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from unkey_deploy.cli import _common as common

if TYPE_CHECKING:
    from unkey_deploy.api.logs import LogLine

SEVERITY_COLORS = {"ERROR": "31", "WARN": "33", "INFO": "32", "DEBUG": "2"}


def format_line(line: LogLine, *, color: bool = False, show_deployment: bool = False) -> str:
    """`2026-01-02T15:04:05.123Z ERROR message key=value ...`, every part made printable."""
    severity = common.printable(line.severity)[:5].ljust(5)
    if color and line.severity in SEVERITY_COLORS:
        severity = f"\x1b[{SEVERITY_COLORS[line.severity]}m{severity}\x1b[0m"
    parts = [_time(line.time_ms), severity]
    if show_deployment:
        parts.append(f"[{common.printable(line.deployment_id or '?')}]")
    parts.append(common.printable(line.message))
    for name, value in (line.attributes or {}).items():
        if name in ("message", "msg", "level", "severity", "lvl"):
            continue
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        parts.append(f"{common.printable(name)}={common.printable(shown)}")
    return " ".join(parts)


def _time(ms: int | None) -> str:
    from datetime import UTC, datetime

    if ms is None:
        return "-".ljust(24)
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
