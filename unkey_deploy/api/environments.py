"""Slugs to IDs: `projects.getProject`, `apps.getApp` and `environments.getEnvironment`.

Runtime log queries filter on `project_id`, `app_id`, `environment_id` and `deployment_id`, which are IDs;
users name projects, apps and environments by slug. IDs from the API are checked against the
ResourceIdentifier pattern before they go into a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from unkey_deploy.api.client import Client
from unkey_deploy.api.schemas import require_valid
from unkey_deploy.errors import NotFoundError, UnkeyError

IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,255}\Z")


@dataclass(frozen=True)
class ResolvedEnvironment:
    project_id: str
    app_id: str
    environment_id: str
    kind: str  # production or preview
    current_deployment_id: str | None  # the app's current (production) deployment


def resolve(client: Client, project: str, app: str, environment: str) -> ResolvedEnvironment:
    """The IDs of an environment named by slugs (or IDs), with a clear error for the part that is missing."""
    project_data = _get(client, "projects.getProject", {"project": project}, f"project {project!r}",
                        "check --project (UNKEY_PROJECT)")
    app_data = _get(client, "apps.getApp", {"project": project, "app": app}, f"app {app!r} in project {project}",
                    "check --app (UNKEY_APP)")
    env_data = _get(
        client, "environments.getEnvironment", {"project": project, "app": app, "environment": environment},
        f"environment {environment!r} of {project}/{app}", "check --env (UNKEY_ENV)",
    )
    current = app_data.get("currentDeploymentId")
    return ResolvedEnvironment(
        project_id=checked_id(project_data.get("id"), "project"),
        app_id=checked_id(app_data.get("id"), "app"),
        environment_id=checked_id(env_data.get("id"), "environment"),
        kind=str(env_data.get("kind") or ("production" if environment == "production" else "preview")),
        current_deployment_id=checked_id(current, "deployment") if current else None,
    )


def checked_id(value: Any, what: str) -> str:
    """An ID from the API, refused when it is not a plain identifier (it goes into a SQL query)."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise UnkeyError(f"the API returned an unusable {what} ID; it must be letters, digits, '_' and '-'")
    return value


def _get(client: Client, operation: str, body: dict[str, Any], what: str, fix: str) -> dict[str, Any]:
    require_valid(operation, body)
    try:
        data = client.call(operation, body).data
    except NotFoundError as exc:
        raise NotFoundError(
            f"{what} not found: {fix}", status=exc.status, request_id=exc.request_id, error_type=exc.error_type,
            details=exc.details,
        ) from None
    if not isinstance(data, dict):
        raise UnkeyError(f"{operation} answered without data; retry, or check --api-url")
    return data
