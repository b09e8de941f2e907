"""The platform's resources: `projects.*`, `apps.*`, `environments.listEnvironments/getEnvironment/updateSettings`
and `domains.*`.

Every body is checked against the request schemas of `api.schemas` before it is sent. Settings are handled in
the flat field names of `environments.updateSettings` (`port`, `vCpus`, `healthcheck`, ...): `current_settings`
turns a `getEnvironment` answer into them and `settings_diff` keeps only what differs, so an update sends
exactly the fields that change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from unkey_deploy.api.client import Client
from unkey_deploy.api.schemas import SETTINGS_FIELDS, require_valid
from unkey_deploy.errors import UnkeyError

# getEnvironment's `runtime` and `build` fields -> updateSettings fields.
RUNTIME_FIELDS = {
    "port": "port", "vCpus": "vCpus", "memoryMib": "memoryMib", "storageMib": "storageMib", "command": "command",
    "healthcheck": "healthcheck", "shutdownSignal": "shutdownSignal", "upstreamProtocol": "upstreamProtocol",
    "openapiSpecPath": "openapiSpecPath",
}
BUILD_FIELDS = {
    "dockerfile": "dockerfile", "rootDirectory": "rootDirectory", "buildCommand": "buildCommand",
    "watchPaths": "watchPaths", "autoDeploy": "autoDeploy",
}


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None  # pass it back for the next page; None on the last one


class PlatformAPI:
    """Thin, validated calls; answers are returned as the API's `data` objects."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(self, operation: str, body: dict[str, Any], *, idempotent: bool = True) -> Any:
        require_valid(operation, body)
        return self.client.call(operation, body, idempotent=idempotent).data

    def object(self, operation: str, body: dict[str, Any], *, idempotent: bool = True) -> dict[str, Any]:
        data = self.call(operation, body, idempotent=idempotent)
        if not isinstance(data, dict):
            raise UnkeyError(f"{operation} answered without data; retry, or check --api-url")
        return data

    def page(self, operation: str, body: dict[str, Any], cursor: str | None = None) -> Page:
        if cursor:
            body = {**body, "cursor": cursor}
        require_valid(operation, body)
        resp = self.client.call(operation, body)
        data = resp.data if isinstance(resp.data, list) else []
        pagination = resp.envelope.get("pagination")
        pagination = pagination if isinstance(pagination, dict) else {}
        more = bool(pagination.get("hasMore")) and isinstance(pagination.get("cursor"), str)
        return Page([item for item in data if isinstance(item, dict)], str(pagination["cursor"]) if more else None)

    def pages(self, operation: str, body: dict[str, Any], cursor: str | None = None) -> Iterator[Page]:
        """Every page from `cursor` on."""
        while True:
            page = self.page(operation, body, cursor)
            yield page
            if page.cursor is None:
                return
            cursor = page.cursor

    # projects and apps

    def create_project(self, name: str, slug: str) -> str:
        data = self.object("projects.createProject", {"name": name, "slug": slug}, idempotent=False)
        return str(data.get("id") or "")

    def create_app(self, project: str, name: str, slug: str, *, repository: str | None = None,
                   default_branch: str | None = None) -> str:
        body: dict[str, Any] = {"project": project, "name": name, "slug": slug}
        if repository is not None:
            body["git"] = {"repository": repository,
                           **({"defaultBranch": default_branch} if default_branch is not None else {})}
        data = self.object("apps.createApp", body, idempotent=False)
        return str(data.get("appId") or "")

    # environments

    def environment(self, project: str, app: str, environment: str) -> dict[str, Any]:
        return self.object("environments.getEnvironment",
                           {"project": project, "app": app, "environment": environment})

    def environments(self, project: str, app: str) -> list[dict[str, Any]]:
        data = self.call("environments.listEnvironments", {"project": project, "app": app})
        return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []

    def update_settings(self, project: str, app: str, environment: str, changes: dict[str, Any]) -> None:
        self.call("environments.updateSettings",
                  {"project": project, "app": app, "environment": environment, **changes})


def current_settings(environment: dict[str, Any]) -> dict[str, Any]:
    """The settings of a `getEnvironment` answer, in updateSettings' field names (absent ones left out)."""
    out: dict[str, Any] = {}
    for section, fields in (("runtime", RUNTIME_FIELDS), ("build", BUILD_FIELDS)):
        values = environment.get(section)
        if isinstance(values, dict):
            out.update({name: values[key] for key, name in fields.items() if key in values})
    if isinstance(environment.get("regions"), list):
        out["regions"] = environment["regions"]
    return out


def settings_diff(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Field -> (current, wanted) for every wanted field whose value differs from the current one."""
    changes: dict[str, tuple[Any, Any]] = {}
    for name, value in wanted.items():
        if name not in SETTINGS_FIELDS:
            continue
        before = current.get(name)
        if not _same(before, value):
            changes[name] = (before, value)
    return changes


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, dict) and isinstance(after, dict):
        # a wanted health check without timing fields matches one with the platform's defaults
        return all(_same(before.get(k), v) for k, v in after.items())
    if isinstance(before, int | float) and isinstance(after, int | float) and not isinstance(after, bool):
        return float(before) == float(after)
    return bool(before == after)
