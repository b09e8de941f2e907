"""Runtime logs through `analytics.getRuntimeLogs`: one read-only SQL query over `runtime_logs_v1`.

The query is built here and nowhere else. It keeps to plain SELECT/WHERE/ORDER BY/LIMIT so it runs on
Unkey (ClickHouse) and on `unkey local` (SQLite behind a parser) alike, and every user value in it is
either validated (IDs, severities, times, the limit) or a string literal escaped for ClickHouse, so a
`--grep` of `'; DROP TABLE x` is only ever text to look for. `time` is Unix milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from unkey_deploy.api.client import Client
from unkey_deploy.api.schemas import require_valid
from unkey_deploy.api.times import iso_ms
from unkey_deploy.errors import UsageError

TABLE = "runtime_logs_v1"
SEVERITIES = ("ERROR", "WARN", "INFO", "DEBUG")
SEVERITY_ALIASES = {"warning": "WARN", "err": "ERROR", "fatal": "ERROR", "critical": "ERROR"}
MAX_LIMIT = 10_000
_ID = re.compile(r"[A-Za-z0-9_-]{1,255}\Z")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?\Z")


@dataclass(frozen=True)
class LogFilter:
    """What to fetch. IDs filter on their columns; `since_ms` <= time < `until_ms`."""

    project_id: str | None = None
    app_id: str | None = None
    environment_id: str | None = None
    deployment_id: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    severities: tuple[str, ...] = ()
    grep: str | None = None


def build_query(where: LogFilter, *, limit: int, newest_first: bool = True) -> str:
    """The SQL text for `where`: the newest `limit` lines (or the oldest, for following)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, got {limit}")
    clauses = []
    for column, value in (("project_id", where.project_id), ("app_id", where.app_id),
                          ("environment_id", where.environment_id), ("deployment_id", where.deployment_id)):
        if value is not None:
            if not _ID.match(value):
                raise UsageError(f"{value!r} is not a valid {column.removesuffix('_id')} ID "
                                 "(letters, digits, '_' and '-')")
            clauses.append(f"{column} = {quote(value)}")
    if where.since_ms is not None:
        clauses.append(f"time >= {int(where.since_ms)}")
    if where.until_ms is not None:
        clauses.append(f"time < {int(where.until_ms)}")
    if where.severities:
        unknown = [s for s in where.severities if s not in SEVERITIES]
        if unknown:
            raise UsageError(f"unknown severity {unknown[0]!r}: use any of {', '.join(SEVERITIES)}")
        clauses.append(f"upper(severity) IN ({', '.join(quote(s) for s in where.severities)})")
    if where.grep:
        clauses.append(f"lower(message) LIKE {quote('%' + like_escape(ascii_lower(where.grep)) + '%')}")
    sql = f"SELECT * FROM {TABLE}"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    return sql + f" ORDER BY time {'DESC' if newest_first else 'ASC'} LIMIT {limit}"


def quote(text: str) -> str:
    """A ClickHouse string literal: backslash and quote escaped, control characters as escapes."""
    out = []
    for char in text:
        if char in ("\\", "'"):
            out.append("\\" + char)
        elif char in _LITERAL_ESCAPES:
            out.append(_LITERAL_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02X}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


_LITERAL_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def like_escape(text: str) -> str:
    """Text matched literally by LIKE: `%`, `_` and `\\` escaped with a backslash (ClickHouse's rule)."""
    return re.sub(r"([%_\\])", r"\\\1", text)


def ascii_lower(text: str) -> str:
    """lower() of ClickHouse and SQLite alike changes ASCII letters only."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def parse_severities(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    found = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        upper = SEVERITY_ALIASES.get(name.lower(), name.upper())
        if upper not in SEVERITIES:
            raise UsageError(f"--severity: unknown severity {name!r}; use any of "
                             f"{', '.join(s.lower() for s in SEVERITIES)}, comma separated")
        if upper not in found:
            found.append(upper)
    return tuple(found)


def parse_time(flag: str, text: str, *, now_ms: int) -> int:
    """`15m`, `2h`, `1h30m`, `7d`, `45s` ago, or an RFC 3339 time (UTC when it has no offset), as Unix ms."""
    stripped = text.strip()
    match = _DURATION.match(stripped)
    if stripped and match and any(match.groups()):
        days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return now_ms - ((days * 24 + hours) * 3600 + minutes * 60 + seconds) * 1000
    try:
        return iso_ms(stripped.replace("z", "Z"))
    except ValueError:
        raise UsageError(
            f"{flag} must be a duration like 15m, 2h or 1d, or an RFC 3339 time like 2026-01-02T15:04:05Z; "
            f"got {text!r}"
        ) from None


@dataclass(frozen=True)
class LogLine:
    time_ms: int | None
    severity: str
    message: str
    attributes: dict[str, Any] | None
    deployment_id: str | None
    raw: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, default=str).encode()).hexdigest()


def parse_row(row: dict[str, Any]) -> LogLine:
    """One result row, whatever types the server used (time as a number, a numeric string or a date)."""
    attributes = row.get("attributes")
    if isinstance(attributes, str) and attributes.strip().startswith("{"):
        try:
            attributes = json.loads(attributes)
        except ValueError:
            attributes = None
    deployment = row.get("deployment_id")
    return LogLine(
        time_ms=_time_ms(row.get("time")),
        severity=str(row.get("severity") or "").upper() or "INFO",
        message=str(row.get("message") if row.get("message") is not None else ""),
        attributes=attributes if isinstance(attributes, dict) and attributes else None,
        deployment_id=deployment if isinstance(deployment, str) else None,
        raw=row,
    )


def _time_ms(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        if value.strip().isdigit():
            return int(value.strip())
        try:
            return iso_ms(value.strip().replace(" ", "T").replace("z", "Z"))
        except ValueError:
            return None
    return None


def query(client: Client, sql: str) -> list[LogLine]:
    body = require_valid("analytics.getRuntimeLogs", {"query": sql})
    data = client.call("analytics.getRuntimeLogs", body).data
    return [parse_row(row) for row in data if isinstance(row, dict)] if isinstance(data, list) else []


class FollowCursor:
    """Hands out each line once while following: polls ask again from a little before the newest time seen
    (late lines still show), and lines already printed there are dropped, counting identical lines so
    that a line printed twice by the app shows twice."""

    def __init__(self, start_ms: int, overlap_ms: int = 5000) -> None:
        self.newest_ms = start_ms
        self.overlap_ms = overlap_ms
        self._seen: dict[int, Counter[str]] = {}

    @property
    def since_ms(self) -> int:
        return self.newest_ms - self.overlap_ms

    def remember(self, lines: Sequence[LogLine]) -> None:
        for line in lines:
            self._seen.setdefault(line.time_ms or 0, Counter())[line.fingerprint] += 1
            self.newest_ms = max(self.newest_ms, line.time_ms or 0)

    def fresh(self, lines: Sequence[LogLine]) -> list[LogLine]:
        """The lines not handed out before, in order; remembers them."""
        counts: dict[int, Counter[str]] = {}
        out = []
        for line in lines:
            when = line.time_ms or 0
            seen = self._seen.get(when, Counter())
            now = counts.setdefault(when, Counter())
            now[line.fingerprint] += 1
            if now[line.fingerprint] > seen[line.fingerprint]:
                out.append(line)
        self.remember(out)
        horizon = self.since_ms - self.overlap_ms
        self._seen = {t: c for t, c in self._seen.items() if t >= horizon}
        return out
