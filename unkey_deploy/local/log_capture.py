"""Runtime logs of the local control plane: each container's stdout and stderr, line by line, into the
`runtime_logs` table with the columns Unkey's docs name.

A JSON object line keeps its fields as attributes, with its `message`/`msg` as the message and its
`level`/`severity` as the severity. A text line takes its severity from a leading level word (`ERROR`,
`[warn]`, `level=info`, ...), else from its stream: stdout INFO, stderr ERROR. Lines longer than
`MAX_MESSAGE` characters are cut; the table keeps the newest `MAX_ROWS` lines.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from unkey_deploy.local.store import Deployment, Store, now_ms

log = logging.getLogger("unkey.local")

MAX_MESSAGE = 16_384
MAX_ROWS = 200_000
REGION = "local"
_LEVELS = {
    "error": "ERROR", "err": "ERROR", "fatal": "ERROR", "critical": "ERROR", "crit": "ERROR", "panic": "ERROR",
    "emerg": "ERROR", "alert": "ERROR", "warn": "WARN", "warning": "WARN", "info": "INFO", "notice": "INFO",
    "debug": "DEBUG", "trace": "DEBUG",
}
_LEVEL_WORD = re.compile(
    r"^\s*(?:\S*\d\S*\s+){0,2}?[\[(<]?(?:level=|lvl=)?\"?(" + "|".join(_LEVELS) + r")\b", re.I
)
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) ?")


def parse_line(text: str, stream: str) -> tuple[str, str, dict[str, Any] | None]:
    """(severity, message, attributes) of one output line."""
    text = text[:MAX_MESSAGE]
    stripped = text.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, dict):
            level = next((value[k] for k in ("level", "severity", "lvl") if isinstance(value.get(k), str)), "")
            message = next((value[k] for k in ("message", "msg") if isinstance(value.get(k), str)), stripped)
            return _LEVELS.get(level.lower(), _stream_severity(stream)), message, value
    match = _LEVEL_WORD.match(text)
    severity = _LEVELS[match.group(1).lower()] if match else _stream_severity(stream)
    return severity, text, None


def _stream_severity(stream: str) -> str:
    return "ERROR" if stream == "stderr" else "INFO"


def split_timestamp(line: str) -> tuple[int, str]:
    """Docker's RFC 3339 (nanosecond) prefix, as Unix ms, and the rest of the line."""
    match = _TIMESTAMP.match(line)
    if not match:
        return now_ms(), line
    base, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return now_ms(), line[match.end():]
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    return int(moment.timestamp()) * 1000 + millis, line[match.end():]


class LogSink:
    """Writes lines of a deployment's output into the store."""

    def __init__(self, store: Store, max_rows: int = MAX_ROWS) -> None:
        self.store = store
        self.max_rows = max_rows
        self._written = 0
        self._lock = threading.Lock()

    def write(self, deployment: Deployment, lines: Iterable[tuple[int, str, str]], instance_id: str = "") -> int:
        """Store (time ms, stream, text) lines; returns how many."""
        from unkey_deploy.local.lookup import environment_ids

        project_id, app_id, environment_id = environment_ids(deployment.project, deployment.app,
                                                             deployment.environment)
        rows = []
        for stamp, stream, text in lines:
            severity, message, attributes = parse_line(text, stream)
            rows.append((stamp, severity, message, json.dumps(attributes) if attributes else None, REGION,
                         project_id, app_id, environment_id, deployment.id, instance_id))
        if not rows:
            return 0
        with self.store.transaction() as db:
            db.executemany(
                "INSERT INTO runtime_logs (time, severity, message, attributes, region, project_id, app_id,"
                " environment_id, deployment_id, instance_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            with self._lock:
                self._written += len(rows)
                trim = self._written >= 1000
                if trim:
                    self._written = 0
            if trim:
                db.execute("DELETE FROM runtime_logs WHERE seq <= (SELECT MAX(seq) FROM runtime_logs) - ?",
                           (self.max_rows,))
        return len(rows)


class ContainerLogs:
    """Follows a container's stdout and stderr (one thread each) until the container stops."""

    def __init__(self, api: Any, container_id: str, deployment: Deployment, sink: LogSink,
                 since: int | None = None) -> None:
        self._threads = [
            threading.Thread(target=self._follow, args=(api, container_id, deployment, sink, stream, since),
                             name=f"logs-{deployment.id}-{stream}", daemon=True)
            for stream in ("stdout", "stderr")
        ]
        for thread in self._threads:
            thread.start()

    def wait(self, timeout: float) -> None:
        """Wait (up to `timeout` seconds) until the output written so far is stored."""
        for thread in self._threads:
            thread.join(timeout)

    @staticmethod
    def _follow(api: Any, container_id: str, deployment: Deployment, sink: LogSink, stream: str,
                since: int | None) -> None:
        instance = container_id[:12]
        pending = ""
        try:
            chunks = api.logs(container_id, stdout=stream == "stdout", stderr=stream == "stderr", stream=True,
                              follow=True, timestamps=True, since=since)
            for chunk in chunks:
                pending += chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else str(chunk)
                *complete, pending = pending.split("\n")
                if len(pending) > MAX_MESSAGE:
                    complete.append(pending)
                    pending = ""
                sink.write(deployment, _entries(complete, stream), instance)
            sink.write(deployment, _entries([pending], stream), instance)
        except Exception as exc:  # the container went away, or the engine: the logs end here
            log.debug("%s: %s log capture ended: %s", deployment.id, stream, exc)


def _entries(lines: list[str], stream: str) -> list[tuple[int, str, str]]:
    out = []
    for line in lines:
        stamp, text = split_timestamp(line.rstrip("\r"))
        if text.strip():
            out.append((stamp, stream, text))
    return out
