"""`projects.*`, `apps.*`, `environments.listEnvironments/getEnvironment/updateSettings` and `domains.*` over the
local store.

Projects and apps are still created on first use (a deployment or a variable); `projects.createProject` and
`apps.createApp` create them explicitly, with a name (and an app's GitHub repository), kept as JSON records
next to the tables `local.lookup` reads. IDs come from `lookup.resource_id`, so a project created
here and one created by a deployment are the same project. Environment settings are stored per environment and
returned by `environments.getEnvironment` over the defaults of `deployments_api.RUNTIME`; the docker runtime
reads them when it starts a container (see `settings_for`). Domains are answered with the DNS record to
create; `*.localhost` names resolve to this machine, so they verify at once, and `local.domain_proxy`
routes them by Host header. Deleting a project or an app
stops its running deployments.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from unkey_deploy.local import problems
from unkey_deploy.local.deployments_api import RUNTIME, Context
from unkey_deploy.local.lookup import (
    DEFAULT_ENVIRONMENTS,
    created_at,
    decode_cursor,
    encode_cursor,
    existing_environment,
    known,
    require_app,
    require_project,
    resource_id,
)
from unkey_deploy.local.problems import valid_body
from unkey_deploy.local.store import IN_FLIGHT, Store, now_ms
from unkey_deploy.local.variables_api import Variables

if TYPE_CHECKING:
    from unkey_deploy.local.domain_proxy import DomainProxy

Handler = Callable[[Context, Any], tuple[int, dict[str, Any]]]
PROJECT, APP, SETTINGS, DOMAIN = "project", "app", "environment_settings", "domain"
BUILD_DEFAULTS: dict[str, Any] = {"rootDirectory": ".", "watchPaths": [], "autoDeploy": True}
REGIONS_DEFAULT = [{"name": "local", "replicas": {"min": 1, "max": 1}}]
RUNTIME_KEYS = (*RUNTIME, "healthcheck", "openapiSpecPath")
BUILD_KEYS = ("dockerfile", "rootDirectory", "buildCommand", "watchPaths", "autoDeploy")
LOCAL_DNS_TARGET = "localhost"


def app_key(project: str, app: str) -> str:
    return f"{project}/{app}"


def environment_key(project: str, app: str, environment: str) -> str:
    return f"{project}/{app}/{environment}"


def stored_settings(store: Store, project: str, app: str, environment: str) -> dict[str, Any]:
    """The settings set with updateSettings, in its field names (null ones removed)."""
    found = store.get_record(SETTINGS, environment_key(project, app, environment)) or {}
    return {name: value for name, value in found.items() if value is not None}


def settings_for(store: Store, project: str, app: str, environment: str) -> dict[str, Any]:
    """The runtime settings a container of this environment runs with: port, command, healthcheck, vCpus,
    memoryMib, over the defaults."""
    return {**RUNTIME, **stored_settings(store, project, app, environment)}


def settings_json(store: Store, project: str, app: str, environment: str) -> dict[str, Any]:
    """The `runtime`, `build` and `regions` fields of a getEnvironment answer."""
    settings = stored_settings(store, project, app, environment)
    runtime = {**RUNTIME, **{k: v for k, v in settings.items() if k in RUNTIME_KEYS}}
    build = {**BUILD_DEFAULTS, **{k: v for k, v in settings.items() if k in BUILD_KEYS}}
    return {"runtime": runtime, "build": build, "regions": settings.get("regions", REGIONS_DEFAULT)}


def project_details(store: Store, project: str) -> dict[str, Any]:
    """Name and creation time of an explicitly created project (empty for one created by a deployment)."""
    found = store.get_record(PROJECT, project) or {}
    return {k: found[k] for k in ("name", "createdAt") if k in found}


def app_details(store: Store, project: str, app: str) -> dict[str, Any]:
    found = store.get_record(APP, app_key(project, app)) or {}
    return {k: found[k] for k in ("name", "createdAt", "git") if k in found}


def routes(variables: Variables, domains: DomainProxy | None = None) -> dict[str, Handler]:
    store = variables.store

    def dns_record(name: str, verified: bool) -> dict[str, Any]:
        return _dns_record(name, verified, domains.port if domains else None)

    def project_json(project: str) -> dict[str, Any]:
        return {"id": resource_id("proj", project), "name": project, "slug": project,
                "createdAt": created_at(store, project), "deleteProtection": False,
                **project_details(store, project)}

    def app_json(project: str, app: str, *, details_first: bool = True) -> dict[str, Any]:
        """An app as listApps (its details before currentDeploymentId) and getApp (after it) answer."""
        state = store.app_state(project, app)
        data: dict[str, Any] = {"id": resource_id("app", project, app), "name": app, "slug": app,
                                "isRolledBack": state.rolled_back, "deleteProtection": False,
                                "createdAt": created_at(store, project, app)}
        current = {"currentDeploymentId": state.current_deployment_id} if state.current_deployment_id else {}
        details = app_details(store, project, app)
        return {**data, **details, **current} if details_first else {**data, **current, **details}

    def all_projects(ctx: Context) -> list[str]:
        names = {record["slug"] for record in store.list_records(PROJECT)} | store.known_projects()
        if ctx.projects is not None:
            names &= set(ctx.projects)
        return sorted(names)

    def require_known_project(ctx: Context, project: str) -> None:
        if ctx.projects is not None and project not in ctx.projects:
            raise problems.not_found("project", f"The project {project} does not exist.")
        if ctx.projects is None and not known(store, project):
            raise problems.not_found("project", f"The project {project} does not exist; create it with "
                                                "`unkey projects create` or deploy to it.")

    def get_project(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("projects.getProject", body)
        project = body["project"]
        require_project(ctx, project)
        if not known(store, project) and ctx.projects is None:
            raise problems.not_found("project", f"The project {project} does not exist; deploy to it first.")
        return 200, {"data": project_json(project)}

    def get_app(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("apps.getApp", body)
        project, app = body["project"], body["app"]
        require_project(ctx, project)
        require_app(store, project, app)
        return 200, {"data": app_json(project, app, details_first=False)}

    def create_project(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("projects.createProject", body)
        slug = body["slug"]
        if ctx.projects is not None and slug not in ctx.projects:
            raise problems.precondition_failed(f"This control plane serves only the projects given with --project; "
                                               f"{slug} is not one of them.")
        if known(store, slug):
            raise problems.conflict("project", f"A project with slug '{slug}' already exists.")
        store.put_record(PROJECT, slug, {"slug": slug, "name": body["name"], "createdAt": now_ms()})
        return 200, {"data": {"id": resource_id("proj", slug)}}

    def list_projects(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("projects.listProjects", body)
        items = [project_json(p) for p in all_projects(ctx)]
        return 200, _paged(_searched(items, body.get("search")), body)

    def delete_project(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("projects.deleteProject", body)
        project = body["project"]
        require_known_project(ctx, project)
        _stop_running(ctx, f"The project {project}", project)
        with store.transaction() as db:
            for table in ("apps", "environments", "variables"):
                db.execute(f"DELETE FROM {table} WHERE project = ?", (project,))  # noqa: S608 - fixed names
            db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (PROJECT, project))
            db.execute("DELETE FROM records WHERE kind IN (?, ?) AND substr(id, 1, ?) = ?",
                       (APP, SETTINGS, len(project) + 1, f"{project}/"))
            db.execute("DELETE FROM records WHERE kind = ? AND json_extract(data, '$.project') = ?",
                       (DOMAIN, project))
        return 202, {"data": {}}

    def create_app(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("apps.createApp", body)
        project, slug = body["project"], body["slug"]
        require_known_project(ctx, project)
        if known(store, project, slug):
            raise problems.conflict("app", f"An app with slug '{slug}' already exists in this project.")
        record: dict[str, Any] = {"project": project, "slug": slug, "name": body["name"], "createdAt": now_ms()}
        if "git" in body:
            record["git"] = body["git"]
        with store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO apps (project, app) VALUES (?, ?)", (project, slug))
        store.put_record(APP, app_key(project, slug), record)
        return 200, {"data": {"appId": resource_id("app", project, slug)}}

    def list_apps(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("apps.listApps", body)
        project = body["project"]
        require_known_project(ctx, project)
        with store.transaction() as db:
            names = [row[0] for row in db.execute("SELECT app FROM apps WHERE project = ? ORDER BY app", (project,))]
        items = [app_json(project, app) for app in names]
        return 200, _paged(_searched(items, body.get("search")), body)

    def delete_app(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("apps.deleteApp", body)
        project, app = body["project"], body["app"]
        require_known_project(ctx, project)
        require_app(store, project, app)
        _stop_running(ctx, f"The app {project}/{app}", project, app)
        with store.transaction() as db:
            for table in ("apps", "environments", "variables"):
                db.execute(f"DELETE FROM {table} WHERE project = ? AND app = ?", (project, app))  # noqa: S608
            db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (APP, app_key(project, app)))
            db.execute("DELETE FROM records WHERE kind = ? AND substr(id, 1, ?) = ?",
                       (SETTINGS, len(project) + len(app) + 2, f"{project}/{app}/"))
            db.execute("DELETE FROM records WHERE kind = ? AND json_extract(data, '$.project') = ?"
                       " AND json_extract(data, '$.app') = ?", (DOMAIN, project, app))
        return 202, {"data": {}}

    def environment_json(project: str, app: str, environment: str) -> dict[str, Any]:
        return {"id": resource_id("env", project, app, environment), "slug": environment, "description": "",
                "kind": "production" if environment == "production" else "preview", "deleteProtection": False,
                "createdAt": created_at(store, project, app), **settings_json(store, project, app, environment)}

    def get_environment(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.getEnvironment", body)
        return 200, {"data": environment_json(*existing_environment(ctx, body))}

    def list_environments(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.listEnvironments", body)
        project, app = body["project"], body["app"]
        require_known_project(ctx, project)
        require_app(store, project, app)
        with store.transaction() as db:
            extra = [row[0] for row in db.execute(
                "SELECT environment FROM environments WHERE project = ? AND app = ? ORDER BY environment",
                (project, app))]
        names = list(dict.fromkeys([*DEFAULT_ENVIRONMENTS, *extra]))
        return 200, {"data": [environment_json(project, app, name) for name in names]}

    def update_settings(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("environments.updateSettings", body)
        # Like deploying or setting a variable, settings given to an app make it known to unkey local.
        project, app, environment = body["project"], body["app"], body["environment"]
        require_project(ctx, project)
        changes = {k: v for k, v in body.items() if k not in ("project", "app", "environment")}
        key = environment_key(project, app, environment)
        with store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO apps (project, app) VALUES (?, ?)", (project, app))
            db.execute("INSERT OR IGNORE INTO environments (project, app, environment) VALUES (?, ?, ?)",
                       (project, app, environment))
        store.put_record(SETTINGS, key, {**(store.get_record(SETTINGS, key) or {}), **changes})
        return 200, {"data": {}}

    def create_domain(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("domains.createDomain", body)
        project, app, environment = existing_environment(ctx, body)
        name = body["domain"].lower()
        if store.get_record(DOMAIN, name):
            raise problems.conflict("domain", f"The domain {name} is already attached to an environment.")
        verified = _points_here(name)
        record = {
            "id": resource_id("dom", name), "domain": name,
            "projectId": resource_id("proj", project), "appId": resource_id("app", project, app),
            "environmentId": resource_id("env", project, app, environment),
            "status": "verified" if verified else "pending",
            "dnsRecords": [dns_record(name, verified)], "createdAt": now_ms(),
            "project": project, "app": app, "environment": environment,
        }
        store.put_record(DOMAIN, name, record)
        return 200, {"data": {"domainId": record["id"], "dnsRecords": record["dnsRecords"]}}

    def get_domain(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("domains.getDomain", body)
        return 200, {"data": _public(_domain(store, body["domain"]))}

    def verify_domain(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("domains.verifyDomain", body)
        record = _domain(store, body["domain"])
        verified = _points_here(record["domain"])
        record.update(status="verified" if verified else "failed", updatedAt=now_ms(),
                      dnsRecords=[dns_record(record["domain"], verified)])
        record.pop("verificationError", None)
        if not verified:
            record["verificationError"] = (f"{record['domain']} does not resolve to this machine; create the "
                                           f"CNAME record to {LOCAL_DNS_TARGET} (or use a *.localhost name).")
        store.put_record(DOMAIN, record["domain"], record)
        return 202, {"data": {}}

    def delete_domain(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("domains.deleteDomain", body)
        record = _domain(store, body["domain"])
        store.delete_record(DOMAIN, record["domain"])
        return 200, {"data": {}}

    def list_domains(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body("domains.listDomains", body)
        project, app, environment = existing_environment(ctx, body)
        items = [_public(r) for r in store.list_records(DOMAIN)
                 if (r.get("project"), r.get("app"), r.get("environment")) == (project, app, environment)]
        if body.get("search"):
            items = [item for item in items if body["search"].lower() in item["domain"]]
        return 200, _paged(items, body)

    return {
        "projects.getProject": get_project,
        "apps.getApp": get_app,
        "environments.getEnvironment": get_environment,
        "projects.createProject": create_project,
        "projects.listProjects": list_projects,
        "projects.deleteProject": delete_project,
        "apps.createApp": create_app,
        "apps.listApps": list_apps,
        "apps.deleteApp": delete_app,
        "environments.listEnvironments": list_environments,
        "environments.updateSettings": update_settings,
        "domains.createDomain": create_domain,
        "domains.getDomain": get_domain,
        "domains.verifyDomain": verify_domain,
        "domains.deleteDomain": delete_domain,
        "domains.listDomains": list_domains,
    }


def _stop_running(ctx: Context, what: str, project: str, app: str | None = None) -> None:
    """Refuse while a deployment is still being rolled out; stop the running ones (as the platform tears an
    app down)."""
    store = ctx.controller.store
    rolling = store.list_deployments(project=project, app=app, statuses=list(IN_FLIGHT), limit=1000)
    if rolling:
        raise problems.precondition_failed(
            f"{what} has {len(rolling)} deployment(s) still rolling out ({rolling[0].id}); wait until they are "
            "ready or failed, then delete it."
        )
    for deployment in store.list_deployments(project=project, app=app, statuses=["ready"], limit=1000):
        ctx.controller.apply("stop", deployment)


def _domain(store: Store, name: str) -> dict[str, Any]:
    record = store.get_record(DOMAIN, name.lower())
    if record is None:
        raise problems.not_found("domain", f"The domain {name} is not attached to any environment.")
    return record


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("project", "app", "environment")}


def _dns_record(name: str, verified: bool, port: int | None) -> dict[str, Any]:
    note = "Local control plane: the name must resolve to this machine (*.localhost always does)"
    if port:
        note += f"; then open http://{name}:{port}/"
    return {"type": "CNAME", "name": name, "value": LOCAL_DNS_TARGET, "ttl": 300, "verified": verified,
            "note": note + "."}


def _points_here(name: str, timeout: float = 2.0) -> bool:
    """Whether `name` resolves only to loopback addresses (`*.localhost` always does, per RFC 6761)."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    found: list[bool] = []

    def look_up() -> None:
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
        except (OSError, UnicodeError):
            return
        found.append(bool(addresses) and all(a.startswith("127.") or a == "::1" for a in addresses))

    worker = threading.Thread(target=look_up, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(found and found[0])


def _searched(items: list[dict[str, Any]], search: str | None) -> list[dict[str, Any]]:
    if not search:
        return items
    needle = search.lower()
    return [item for item in items if needle in str(item.get("slug", "")).lower()
            or needle in str(item.get("name", "")).lower()]


def _paged(items: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """One page of `items` (an offset cursor), as `{data, pagination}`."""
    start = decode_cursor("off", body["cursor"]) if "cursor" in body else 0
    limit = body.get("limit", 100)
    page = items[start:start + limit]
    more = start + limit < len(items)
    pagination: dict[str, Any] = {"hasMore": more}
    if more:
        pagination["cursor"] = encode_cursor("off", start + limit)
    return {"data": page, "pagination": pagination}
