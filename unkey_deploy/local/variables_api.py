"""`environments.*Variables`, `environments.getEnvironment`, `projects.getProject` and `apps.getApp` over the
local store.

Variables are stored per environment, sealed at rest (`local.sealed`); writeonly values are never
returned. The docker runtime reads them when it starts a deployment's container, so a change applies to
the next deployment, as on Unkey. Projects, apps and environments are created on first use (a deployment
or a variable) or explicitly (`local.platform_api`); their IDs are derived from their slugs, so they stay
the same across restarts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import Any

from unkey_deploy.local import problems
from unkey_deploy.local.deployments_api import Context
from unkey_deploy.local.problems import ValidationIssue, valid_body
from unkey_deploy.local.sealed import Sealer, SealError
from unkey_deploy.local.store import Deployment, Store, now_ms

Handler = Callable[[Context, Any], tuple[int, dict[str, Any]]]
DEFAULT_ENVIRONMENTS = ("production", "preview")


def resource_id(prefix: str, *slugs: str) -> str:
    """A stable ID for a project (`proj_`), app (`app_`) or environment (`env_`) named by its slugs."""
    digest = hashlib.sha256("\0".join((prefix, *slugs)).encode()).hexdigest()
    return f"{prefix}_{digest[:20]}"


def environment_ids(project: str, app: str, environment: str) -> tuple[str, str, str]:
    return (
        resource_id("proj", project),
        resource_id("app", project, app),
        resource_id("env", project, app, environment),
    )


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

    def known(self, project: str, app: str | None = None, environment: str | None = None) -> bool:
        """Whether a deployment or a variable ever named this project (app, environment)."""
        clauses, args = ["project = ?"], [project]
        if app is not None:
            clauses.append("app = ?")
            args.append(app)
        where = " AND ".join(clauses)
        with self.store.transaction() as db:
            if app is None and db.execute("SELECT 1 FROM records WHERE kind = 'project' AND id = ?",
                                          (project,)).fetchone():
                return True  # created with projects.createProject, no app yet
            if environment is None:
                row = db.execute(f"SELECT 1 FROM apps WHERE {where} LIMIT 1", args).fetchone()
            else:
                row = db.execute(f"SELECT 1 FROM environments WHERE {where} AND environment = ? LIMIT 1",
                                 (*args, environment)).fetchone()
        return row is not None

    def created_at(self, project: str, app: str | None = None) -> int:
        clauses, args = ["project = ?"], [project]
        if app is not None:
            clauses.append("app = ?")
            args.append(app)
        with self.store.transaction() as db:
            row = db.execute(f"SELECT MIN(created_at) FROM deployments WHERE {' AND '.join(clauses)}",
                             args).fetchone()
            first_variable = db.execute(f"SELECT MIN(created_at) FROM variables WHERE {' AND '.join(clauses)}",
                                        args).fetchone()
        stamps = [v for v in (row[0], first_variable[0]) if v is not None]
        return min(stamps) if stamps else now_ms()

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
        project, app, environment = _environment(ctx, variables, body)
        after = _decode_cursor(body["cursor"]) if "cursor" in body else 0
        limit = body.get("limit", 100)
        rows = variables.page(project, app, environment, after, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        pagination: dict[str, Any] = {"hasMore": more}
        if more:
            pagination["cursor"] = _encode_cursor(page[-1]["seq"])
        data = [{k: v for k, v in row.items() if k != "seq"} for row in page]
        return 200, {"data": data, "pagination": pagination}

    def set_variables(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.setEnvironmentVariables", body)
        _require_project(ctx, body["project"])
        latest = {item["key"]: item for item in body["variables"]}  # a repeated key: the last one wins
        variables.set(body["project"], body["app"], body["environment"], list(latest.values()),
                      bool(body.get("prune")))
        return 200, {"data": {}}

    def remove_variables(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.removeEnvironmentVariables", body)
        project, app, environment = _environment(ctx, variables, body)
        variables.remove(project, app, environment, body["variables"])
        return 200, {"data": {}}

    def get_project(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("projects.getProject", body)
        project = body["project"]
        _require_project(ctx, project)
        if not variables.known(project) and ctx.projects is None:
            raise problems.not_found("project", f"The project {project} does not exist; deploy to it first.")
        created = variables.created_at(project)
        from unkey_deploy.local.platform_api import project_details

        return 200, {"data": {"id": resource_id("proj", project), "name": project, "slug": project,
                              "createdAt": created, "deleteProtection": False,
                              **project_details(ctx.controller.store, project)}}

    def get_app(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("apps.getApp", body)
        project, app = body["project"], body["app"]
        _require_project(ctx, project)
        if not variables.known(project, app):
            raise problems.not_found("app", f"The app {app} does not exist in project {project}.")
        state = ctx.controller.store.app_state(project, app)
        data: dict[str, Any] = {"id": resource_id("app", project, app), "name": app, "slug": app,
                                "isRolledBack": state.rolled_back, "deleteProtection": False,
                                "createdAt": variables.created_at(project, app)}
        if state.current_deployment_id:
            data["currentDeploymentId"] = state.current_deployment_id
        from unkey_deploy.local.platform_api import app_details

        data.update(app_details(ctx.controller.store, project, app))
        return 200, {"data": data}

    def get_environment(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        from unkey_deploy.local.platform_api import settings_json

        valid_body("environments.getEnvironment", body)
        project, app, environment = _environment(ctx, variables, body)
        return 200, {"data": {
            "id": resource_id("env", project, app, environment),
            "slug": environment,
            "description": "",
            "kind": "production" if environment == "production" else "preview",
            "deleteProtection": False,
            "createdAt": variables.created_at(project, app),
            **settings_json(ctx.controller.store, project, app, environment),
        }}

    return {
        "environments.listEnvironmentVariables": list_variables,
        "environments.setEnvironmentVariables": set_variables,
        "environments.removeEnvironmentVariables": remove_variables,
        "environments.getEnvironment": get_environment,
        "projects.getProject": get_project,
        "apps.getApp": get_app,
    }


def _environment(ctx: Context, variables: Variables, body: dict[str, Any]) -> tuple[str, str, str]:
    """An existing environment (every app has production and preview), or a 404 naming what is missing."""
    project, app, environment = body["project"], body["app"], body["environment"]
    _require_project(ctx, project)
    if not variables.known(project, app):
        raise problems.not_found(
            "app", f"The app {app} does not exist in project {project}; deploy it or set a variable first."
        )
    if environment not in DEFAULT_ENVIRONMENTS and not variables.known(project, app, environment):
        raise problems.not_found("environment", f"The environment {environment} does not exist in {project}/{app}.")
    return project, app, environment


def _require_project(ctx: Context, project: str) -> None:
    if ctx.projects is not None and project not in ctx.projects:
        raise problems.not_found("project", f"The project {project} does not exist.")


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"var:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "var" or not value.isdigit():
            raise ValueError(text)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise problems.invalid_input(
            [ValidationIssue("body.cursor", "is not a cursor this API returned",
                             "pass pagination.cursor from the previous page unchanged, or omit it")],
            "The pagination cursor is invalid.",
        ) from None
