"""`environments.*Variables` over the local store.

Variables are stored per environment, sealed at rest (`local.sealed`); writeonly values are never
returned. The docker runtime reads them when it starts a deployment's container, so a change applies to
the next deployment, as on Unkey. Setting a variable makes its project, app and environment known
(`local.lookup`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unkey_deploy.local import problems
from unkey_deploy.local.deployments_api import Context
from unkey_deploy.local.lookup import decode_cursor, encode_cursor, existing_environment, require_project
from unkey_deploy.local.problems import valid_body
from unkey_deploy.local.sealed import Sealer, SealError
from unkey_deploy.local.store import Deployment, Store, now_ms

Handler = Callable[[Context, Any], tuple[int, dict[str, Any]]]


class Variables:
    """The variables table: sealed values, one row per (project, app, environment, key)."""

    def __init__(self, store: Store, sealer: Sealer) -> None:
        self.store = store
        self.sealer = sealer

    def page(self, project: str, app: str, environment: str, after: int, limit: int) -> list[dict[str, Any]]:
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT seq, key, kind, sealed, created_at FROM variables WHERE project = ? AND app = ?"
                " AND environment = ? AND seq > ? ORDER BY seq LIMIT ?",
                (project, app, environment, after, limit),
            ).fetchall()
        out = []
        for row in rows:
            item: dict[str, Any] = {"seq": row["seq"], "key": row["key"], "kind": row["kind"],
                                    "createdAt": row["created_at"]}
            if row["kind"] == "recoverable":
                item["value"] = self._open(row["sealed"], project, app, environment, row["key"])
            out.append(item)
        return out

    def set(self, project: str, app: str, environment: str, items: list[dict[str, Any]], prune: bool) -> None:
        stamp = now_ms()
        with self.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO apps (project, app) VALUES (?, ?)", (project, app))
            db.execute("INSERT OR IGNORE INTO environments (project, app, environment) VALUES (?, ?, ?)",
                       (project, app, environment))
            for item in items:
                key = item["key"]
                sealed = self.sealer.seal(item["value"], _context(project, app, environment, key))
                db.execute(
                    "INSERT INTO variables (project, app, environment, key, kind, sealed, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (project, app, environment, key) DO UPDATE SET"
                    " kind = excluded.kind, sealed = excluded.sealed, updated_at = excluded.updated_at",
                    (project, app, environment, key, item.get("kind", "writeonly"), sealed, stamp, stamp),
                )
            if prune:
                keep = sorted({item["key"] for item in items})
                db.execute(
                    "DELETE FROM variables WHERE project = ? AND app = ? AND environment = ?"
                    f" AND key NOT IN ({','.join('?' * len(keep))})",
                    (project, app, environment, *keep),
                )

    def remove(self, project: str, app: str, environment: str, keys: list[str]) -> None:
        unique = sorted(set(keys))
        with self.store.transaction() as db:
            db.execute(
                "DELETE FROM variables WHERE project = ? AND app = ? AND environment = ?"
                f" AND key IN ({','.join('?' * len(unique))})",
                (project, app, environment, *unique),
            )

    def for_deployment(self, deployment: Deployment) -> dict[str, str]:
        """Every variable of the deployment's environment, opened: what its container gets."""
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT key, sealed FROM variables WHERE project = ? AND app = ? AND environment = ? ORDER BY seq",
                (deployment.project, deployment.app, deployment.environment),
            ).fetchall()
        return {
            row["key"]: self._open(row["sealed"], deployment.project, deployment.app, deployment.environment,
                                   row["key"])
            for row in rows
        }

    def _open(self, sealed: str, project: str, app: str, environment: str, key: str) -> str:
        try:
            return self.sealer.open(sealed, _context(project, app, environment, key))
        except SealError as exc:
            raise problems.unexpected(
                f"The value of {key} cannot be read with this data dir's variables.key ({exc}); set it again."
            ) from None


def _context(project: str, app: str, environment: str, key: str) -> str:
    return "\0".join((project, app, environment, key))


def routes(variables: Variables) -> dict[str, Handler]:
    """The handlers, bound to the variables table."""

    def list_variables(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.listEnvironmentVariables", body)
        project, app, environment = existing_environment(ctx, body)
        after = decode_cursor("var", body["cursor"]) if "cursor" in body else 0
        limit = body.get("limit", 100)
        rows = variables.page(project, app, environment, after, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        pagination: dict[str, Any] = {"hasMore": more}
        if more:
            pagination["cursor"] = encode_cursor("var", page[-1]["seq"])
        data = [{k: v for k, v in row.items() if k != "seq"} for row in page]
        return 200, {"data": data, "pagination": pagination}

    def set_variables(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.setEnvironmentVariables", body)
        require_project(ctx, body["project"])
        latest = {item["key"]: item for item in body["variables"]}  # a repeated key: the last one wins
        variables.set(body["project"], body["app"], body["environment"], list(latest.values()),
                      bool(body.get("prune")))
        return 200, {"data": {}}

    def remove_variables(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.removeEnvironmentVariables", body)
        project, app, environment = existing_environment(ctx, body)
        variables.remove(project, app, environment, body["variables"])
        return 200, {"data": {}}

    return {
        "environments.listEnvironmentVariables": list_variables,
        "environments.setEnvironmentVariables": set_variables,
        "environments.removeEnvironmentVariables": remove_variables,
    }
