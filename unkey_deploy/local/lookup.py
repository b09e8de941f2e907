"""Finding what a request names on the local control plane: its project, app and environment (a 404 naming the
part that is missing), the stable IDs they are answered with, and the pagination cursors of the list operations.

Projects, apps and environments are created on first use (a deployment, a variable or settings) or explicitly
(`local.platform_api`); their IDs are derived from their slugs, so they stay the same across restarts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, Any

from unkey_deploy.local import problems
from unkey_deploy.local.problems import ValidationIssue
from unkey_deploy.local.store import Store, now_ms

if TYPE_CHECKING:
    from unkey_deploy.local.deployments_api import Context

DEFAULT_ENVIRONMENTS = ("production", "preview")  # every app has them


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


def require_project(ctx: Context, project: str) -> None:
    """A 404 for a project outside the ones this control plane serves (`--project`)."""
    if ctx.projects is not None and project not in ctx.projects:
        raise problems.not_found("project", f"The project {project} does not exist.")


def known(store: Store, project: str, app: str | None = None, environment: str | None = None) -> bool:
    """Whether a deployment, a variable, settings or a create call ever named this project (app, environment)."""
    clauses, args = ["project = ?"], [project]
    if app is not None:
        clauses.append("app = ?")
        args.append(app)
    where = " AND ".join(clauses)
    with store.transaction() as db:
        if app is None and db.execute("SELECT 1 FROM records WHERE kind = 'project' AND id = ?",
                                      (project,)).fetchone():
            return True  # created with projects.createProject, no app yet
        if environment is None:
            row = db.execute(f"SELECT 1 FROM apps WHERE {where} LIMIT 1", args).fetchone()
        else:
            row = db.execute(f"SELECT 1 FROM environments WHERE {where} AND environment = ? LIMIT 1",
                             (*args, environment)).fetchone()
    return row is not None


def created_at(store: Store, project: str, app: str | None = None) -> int:
    """When the project (app) was first used: its first deployment or variable, else now."""
    clauses, args = ["project = ?"], [project]
    if app is not None:
        clauses.append("app = ?")
        args.append(app)
    with store.transaction() as db:
        row = db.execute(f"SELECT MIN(created_at) FROM deployments WHERE {' AND '.join(clauses)}",
                         args).fetchone()
        first_variable = db.execute(f"SELECT MIN(created_at) FROM variables WHERE {' AND '.join(clauses)}",
                                    args).fetchone()
    stamps = [v for v in (row[0], first_variable[0]) if v is not None]
    return min(stamps) if stamps else now_ms()


def require_app(store: Store, project: str, app: str, hint: str = "") -> None:
    """A 404 for an app nothing has named yet; `hint` follows the sentence (e.g. how to create it)."""
    if not known(store, project, app):
        raise problems.not_found("app", f"The app {app} does not exist in project {project}{hint}.")


def existing_environment(ctx: Context, body: dict[str, Any]) -> tuple[str, str, str]:
    """The (project, app, environment) a body names, when it exists (every app has production and preview);
    otherwise a 404 naming what is missing."""
    store = ctx.controller.store
    project, app, environment = body["project"], body["app"], body["environment"]
    require_project(ctx, project)
    require_app(store, project, app, "; deploy it or set a variable first")
    if environment not in DEFAULT_ENVIRONMENTS and not known(store, project, app, environment):
        raise problems.not_found("environment", f"The environment {environment} does not exist in {project}/{app}.")
    return project, app, environment


def encode_cursor(kind: str, position: int) -> str:
    """An opaque pagination cursor: which list it belongs to (`kind`) and where the next page starts."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> int:
    """The position in a cursor from `encode_cursor(kind, ...)`; a 400 for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, _, value = text.partition(":")
        if found != kind or not value.isdigit():
            raise ValueError(text)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise problems.invalid_input(
            [ValidationIssue("body.cursor", "is not a cursor this API returned",
                             "pass pagination.cursor from the previous page unchanged, or omit it")],
            "The pagination cursor is invalid.",
        ) from None
