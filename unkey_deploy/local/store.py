"""SQLite state of the local control plane: deployments and their steps, apps, keys and identities,
projects, app details, environment settings and domains (JSON records),
runtime variables (sealed, see `local.sealed`) and runtime logs (read through the `runtime_logs_v1` view).

One connection in WAL mode shared by the server's threads behind a lock: writes are tiny, so a lock
costs less than a connection per thread and keeps every read consistent with the last write.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unkey_deploy.api import deployments as api

SCHEMA = """
CREATE TABLE IF NOT EXISTS deployments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    project TEXT NOT NULL,
    app TEXT NOT NULL,
    environment TEXT NOT NULL,
    image TEXT NOT NULL,
    branch TEXT,
    commit_sha TEXT,
    git_commit TEXT,
    keyspace_id TEXT,
    status TEXT NOT NULL,
    error_step TEXT,
    error_message TEXT,
    hostnames TEXT NOT NULL DEFAULT '[]',
    port INTEGER,
    container_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ready_at INTEGER
);
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    error_message TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS steps_by_deployment ON steps (deployment_id, seq);
CREATE TABLE IF NOT EXISTS apps (
    project TEXT NOT NULL,
    app TEXT NOT NULL,
    current_deployment_id TEXT,
    rolled_back INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project, app)
);
CREATE TABLE IF NOT EXISTS environments (
    project TEXT NOT NULL,
    app TEXT NOT NULL,
    environment TEXT NOT NULL,
    proxy_port INTEGER,
    PRIMARY KEY (project, app, environment)
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS variables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project TEXT NOT NULL,
    app TEXT NOT NULL,
    environment TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project, app, environment, key)
);
CREATE TABLE IF NOT EXISTS runtime_logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    attributes TEXT,
    region TEXT NOT NULL DEFAULT 'local',
    project_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    instance_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runtime_logs_by_deployment ON runtime_logs (deployment_id, time);
CREATE INDEX IF NOT EXISTS runtime_logs_by_time ON runtime_logs (time);
CREATE VIEW IF NOT EXISTS runtime_logs_v1 AS SELECT time, severity, message, attributes, region, project_id,
    app_id, environment_id, deployment_id, instance_id FROM runtime_logs;
"""

IN_FLIGHT = ("pending", "starting", "building", "deploying", "network", "finalizing")
# A deployment with its app's current deployment and rolled-back state, for isCurrent and availableActions.
_SELECT = (
    "SELECT d.*, a.current_deployment_id AS app_current, a.rolled_back AS app_rolled_back FROM deployments d"
    " LEFT JOIN apps a ON a.project = d.project AND a.app = d.app"
)
_ALPHABET = string.ascii_letters + string.digits


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id(prefix: str, length: int = 16) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True, kw_only=True)
class Deployment(api.Deployment):
    """A deployment as the public API describes it (`api.deployments.Deployment`: the spec's lower-case status,
    isCurrent and availableActions by the platform's rules, its own hostnames as `domains`), plus what the local
    control plane keeps besides: its place in the list, the git commit and keyspace it was created with, its
    container and port, and when it last changed and first became ready; `error_message` holds the failure
    message as recorded."""

    image: str  # every local deployment runs an image (git deployments are built into one first)
    seq: int
    git_commit: dict[str, Any] | None = None
    keyspace_id: str | None = None
    port: int | None = None
    container_id: str | None = None
    updated_at: int = 0
    ready_at: int | None = None


@dataclass
class Step:
    status: str
    message: str
    error_message: str | None
    created_at: int


@dataclass
class AppState:
    current_deployment_id: str | None
    rolled_back: bool


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def check(self) -> str | None:
        """What SQLite's quick check finds wrong with the database file, or None when it is sound."""
        with self._lock:
            rows = self._db.execute("PRAGMA quick_check").fetchall()
        found = [str(row[0]) for row in rows]
        return None if found == ["ok"] else "; ".join(found[:3])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # deployments

    def create_deployment(
        self,
        *,
        project: str,
        app: str,
        environment: str,
        image: str,
        branch: str | None = None,
        commit_sha: str | None = None,
        git_commit: dict[str, Any] | None = None,
        keyspace_id: str | None = None,
    ) -> Deployment:
        deployment_id = new_id("d_")
        created = now_ms()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO deployments (id, project, app, environment, image, branch, commit_sha, git_commit,"
                " keyspace_id, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,'pending',?,?)",
                (deployment_id, project, app, environment, image, branch, commit_sha,
                 json.dumps(git_commit) if git_commit else None, keyspace_id, created, created),
            )
            db.execute("INSERT OR IGNORE INTO apps (project, app) VALUES (?, ?)", (project, app))
            db.execute(
                "INSERT OR IGNORE INTO environments (project, app, environment) VALUES (?, ?, ?)",
                (project, app, environment),
            )
            db.execute(
                "INSERT INTO steps (deployment_id, status, message, created_at) VALUES (?, 'pending', ?, ?)",
                (deployment_id, "Deployment created", created),
            )
        found = self.get_deployment(deployment_id)
        assert found is not None
        return found

    def get_deployment(self, deployment_id: str) -> Deployment | None:
        with self._lock:
            row = self._db.execute(f"{_SELECT} WHERE d.id = ?", (deployment_id,)).fetchone()
        return _deployment(row) if row else None

    def list_deployments(
        self,
        *,
        project: str | None = None,
        app: str | None = None,
        environment: str | None = None,
        statuses: list[str] | None = None,
        before_seq: int | None = None,
        limit: int = 100,
    ) -> list[Deployment]:
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (("project", project), ("app", app), ("environment", environment)):
            if value is not None:
                clauses.append(f"d.{column} = ?")
                args.append(value)
        if statuses:
            clauses.append(f"d.status IN ({','.join('?' * len(statuses))})")
            args.extend(statuses)
        if before_seq is not None:
            clauses.append("d.seq < ?")
            args.append(before_seq)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(f"{_SELECT} {where} ORDER BY d.seq DESC LIMIT ?", (*args, limit)).fetchall()
        return [_deployment(row) for row in rows]

    def in_flight(self) -> list[Deployment]:
        with self._lock:
            rows = self._db.execute(
                f"{_SELECT} WHERE d.status IN ({','.join('?' * len(IN_FLIGHT))})", IN_FLIGHT
            ).fetchall()
        return [_deployment(row) for row in rows]

    def advance(
        self,
        deployment_id: str,
        status: str,
        message: str,
        *,
        error_message: str | None = None,
        claim_current: bool = False,
        **columns: Any,
    ) -> None:
        """Move a deployment to `status`, recording the transition as a step.

        With `claim_current` the deployment also becomes its app's current one, in the same
        transaction, unless the app is rolled back.
        """
        stamp = now_ms()
        updates: dict[str, Any] = {"status": status, "updated_at": stamp, **columns}
        if status == "failed":
            updates["error_message"] = error_message or message
        if "hostnames" in updates:
            updates["hostnames"] = json.dumps(updates["hostnames"])
        assignments = ", ".join(f"{name} = ?" for name in updates)
        with self.transaction() as db:
            db.execute(f"UPDATE deployments SET {assignments} WHERE id = ?", (*updates.values(), deployment_id))
            if status == "ready":  # the first time only: restarts keep the original moment
                db.execute(
                    "UPDATE deployments SET ready_at = COALESCE(ready_at, ?) WHERE id = ?", (stamp, deployment_id)
                )
            if claim_current:
                db.execute(
                    "UPDATE apps SET current_deployment_id = ? WHERE rolled_back = 0 AND (project, app) ="
                    " (SELECT project, app FROM deployments WHERE id = ?)",
                    (deployment_id, deployment_id),
                )
            db.execute(
                "INSERT INTO steps (deployment_id, status, message, error_message, created_at) VALUES (?,?,?,?,?)",
                (deployment_id, status, message, error_message, stamp),
            )

    def steps(self, deployment_id: str) -> list[Step]:
        with self._lock:
            rows = self._db.execute(
                "SELECT status, message, error_message, created_at FROM steps WHERE deployment_id = ? ORDER BY seq",
                (deployment_id,),
            ).fetchall()
        return [Step(row["status"], row["message"], row["error_message"], row["created_at"]) for row in rows]

    # apps and environments

    def app_state(self, project: str, app: str) -> AppState:
        with self._lock:
            row = self._db.execute(
                "SELECT current_deployment_id, rolled_back FROM apps WHERE project = ? AND app = ?", (project, app)
            ).fetchone()
        if not row:
            return AppState(None, False)
        return AppState(row["current_deployment_id"], bool(row["rolled_back"]))

    def set_current(self, project: str, app: str, deployment_id: str, *, rolled_back: bool) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO apps (project, app, current_deployment_id, rolled_back) VALUES (?,?,?,?)"
                " ON CONFLICT (project, app) DO UPDATE SET current_deployment_id = excluded.current_deployment_id,"
                " rolled_back = excluded.rolled_back",
                (project, app, deployment_id, int(rolled_back)),
            )

    def known_projects(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT DISTINCT project FROM apps")}

    def proxy_ports(self) -> dict[tuple[str, str, str], int | None]:
        with self._lock:
            rows = self._db.execute("SELECT project, app, environment, proxy_port FROM environments").fetchall()
        return {(row[0], row[1], row[2]): row[3] for row in rows}

    def set_proxy_port(self, project: str, app: str, environment: str, port: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO environments (project, app, environment, proxy_port) VALUES (?,?,?,?)"
                " ON CONFLICT (project, app, environment) DO UPDATE SET proxy_port = excluded.proxy_port",
                (project, app, environment, port),
            )

    # keys and identities, stored as JSON documents

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id)).fetchone()
        return json.loads(row[0]) if row else None

    def find_record(self, kind: str, field_name: str, value: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM records WHERE kind = ? AND json_extract(data, ?) = ?",
                (kind, f"$.{field_name}", value),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def put_record(self, kind: str, record_id: str, data: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO records (kind, id, data) VALUES (?,?,?)"
                " ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
                (kind, record_id, json.dumps(data)),
            )

    def list_records(self, kind: str) -> list[dict[str, Any]]:
        """Every record of `kind`, in the order of their IDs."""
        with self._lock:
            rows = self._db.execute("SELECT data FROM records WHERE kind = ? ORDER BY id", (kind,)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def delete_record(self, kind: str, record_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id))


def _deployment(row: sqlite3.Row) -> Deployment:
    deployment_id, status, current = row["id"], row["status"], row["app_current"]
    production = row["environment"] == api.PRODUCTION
    actions = tuple(
        action for action in api.ACTIONS
        if api.action_blocker(action, production=production, status=status, current=current == deployment_id,
                              has_current=current is not None, rolled_back=bool(row["app_rolled_back"])) is None
    )
    error = None
    if status == "failed":
        error = {"code": "unknown", "step": row["error_step"] or "deploying",
                 "message": row["error_message"] or "the deployment failed"}
    return Deployment(
        id=deployment_id,
        status=status,
        is_current=production and current == deployment_id,
        project=row["project"],
        app=row["app"],
        environment=row["environment"],
        available_actions=actions,
        domains=tuple(json.loads(row["hostnames"])),
        image=row["image"],
        branch=row["branch"],
        commit_sha=row["commit_sha"],
        created_at=row["created_at"],
        error=error,
        seq=row["seq"],
        git_commit=json.loads(row["git_commit"]) if row["git_commit"] else None,
        keyspace_id=row["keyspace_id"],
        error_message=row["error_message"],
        port=row["port"],
        container_id=row["container_id"],
        updated_at=row["updated_at"],
        ready_at=row["ready_at"],
    )
