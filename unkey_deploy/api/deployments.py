"""Deployments: the one seam between `unkey deploy` and Unkey's two endpoint families.

`deploy.*` (createDeployment/getDeployment) is internal and deprecated but carries git metadata;
`deployments.*` is the public API. Callers use `DeploymentsAPI.create()` and `.get()` and see one shape,
`DeploymentState`, whichever family answered. When `deploy.*` is gone (410, or a 404 whose error type says
the route does not exist) the seam says so once and falls back to `deployments.*`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from unkey_deploy.api._client import Client
from unkey_deploy.errors import RouteGoneError

Family = Literal["deploy", "deployments"]

TERMINAL = frozenset({"READY", "FAILED", "CANCELLED", "SUPERSEDED", "SKIPPED", "STOPPED"})


@dataclass(frozen=True)
class GitCommit:
    commit_sha: str
    commit_message: str | None = None
    author_handle: str | None = None
    author_avatar_url: str | None = None
    timestamp_ms: int | None = None

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"commitSha": self.commit_sha}
        for key, value in (
            ("commitMessage", self.commit_message),
            ("authorHandle", self.author_handle),
            ("authorAvatarUrl", self.author_avatar_url),
            ("timestamp", self.timestamp_ms),
        ):
            if value not in (None, ""):
                body[key] = value
        return body


@dataclass(frozen=True)
class DeploymentRequest:
    project: str
    app: str
    environment: str
    image: str
    branch: str
    keyspace_id: str | None = None
    git_commit: GitCommit | None = None

    def deploy_body(self) -> dict[str, Any]:
        """The body of deploy.createDeployment (V2DeployCreateDeploymentRequestBody)."""
        body: dict[str, Any] = {
            "project": self.project,
            "app": self.app,
            "branch": self.branch,
            "environmentSlug": self.environment,
            "dockerImage": self.image,
        }
        if self.keyspace_id:
            body["keyspaceId"] = self.keyspace_id
        if self.git_commit:
            body["gitCommit"] = self.git_commit.to_body()
        return body

    def deployments_body(self) -> dict[str, Any]:
        """The body of deployments.createDeployment with the `image` source."""
        return {
            "project": self.project,
            "app": self.app,
            "environment": self.environment,
            "image": {"dockerImage": self.image},
        }


@dataclass(frozen=True)
class Step:
    status: str
    message: str
    error_message: str | None = None
    created_at: int | None = None


@dataclass(frozen=True)
class DeploymentState:
    id: str
    status: str  # upper case, as deploy.getDeployment reports it
    error_message: str | None = None
    failed_step: str | None = None
    hostnames: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def state_from_deploy(data: dict[str, Any]) -> DeploymentState:
    steps = tuple(
        Step(
            status=str(s.get("status") or ""),
            message=str(s.get("message") or ""),
            error_message=s.get("errorMessage") or None,
            created_at=s.get("createdAt"),
        )
        for s in data.get("steps") or []
        if isinstance(s, dict)
    )
    failed = next((s for s in steps if s.error_message), None)
    return DeploymentState(
        id=str(data.get("id") or ""),
        status=str(data.get("status") or "UNSPECIFIED").upper(),
        error_message=data.get("errorMessage") or (failed.error_message if failed else None),
        hostnames=tuple(data.get("hostnames") or ()),
        steps=steps,
        raw=data,
    )


def state_from_public(data: dict[str, Any]) -> DeploymentState:
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    return DeploymentState(
        id=str(data.get("id") or ""),
        status=str(data.get("status") or "unspecified").upper(),
        error_message=error.get("message") if error else None,
        failed_step=error.get("step") if error else None,
        hostnames=tuple(data.get("domains") or ()),
        raw=data,
    )


class DeploymentsAPI:
    def __init__(
        self,
        client: Client,
        family: Family = "deploy",
        on_fallback: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.family: Family = family
        self.on_fallback = on_fallback

    def create(self, request: DeploymentRequest) -> str:
        """Create a deployment; never retried once the request may have reached the server."""
        if self.family == "deploy":
            try:
                resp = self.client.call("deploy.createDeployment", request.deploy_body(), idempotent=False)
                return str(resp.data["deploymentId"])
            except RouteGoneError as exc:
                self._fall_back(f"deploy.createDeployment is gone ({exc.status}); using deployments.*")
        resp = self.client.call("deployments.createDeployment", request.deployments_body(), idempotent=False)
        return str(resp.data["deploymentId"])

    def redeploy(self, deployment_id: str, project: str, app: str, environment: str) -> str:
        """Re-run a deployment (createDeployment with the `deployment` source) in `environment`."""
        body = redeploy_body(deployment_id, project, app, environment)
        resp = self.client.call("deployments.createDeployment", body, idempotent=False)
        return str(resp.data["deploymentId"])

    def get(self, deployment_id: str) -> DeploymentState:
        if self.family == "deploy":
            try:
                resp = self.client.call("deploy.getDeployment", {"deploymentId": deployment_id})
                return state_from_deploy(resp.data or {})
            except RouteGoneError as exc:
                self._fall_back(f"deploy.getDeployment is gone ({exc.status}); using deployments.*")
        resp = self.client.call("deployments.getDeployment", {"deploymentId": deployment_id})
        return state_from_public(resp.data or {})

    def _fall_back(self, message: str) -> None:
        self.family = "deployments"
        if self.on_fallback:
            self.on_fallback(message)


# The public deployments.* API: reading, listing and the lifecycle actions.

Action = Literal["promote", "rollback", "stop", "start"]
ACTIONS: tuple[Action, ...] = ("promote", "rollback", "stop", "start")
PRODUCTION = "production"


@dataclass(frozen=True)
class Deployment:
    """A deployment as deployments.getDeployment and deployments.listDeployments describe it."""

    id: str
    status: str  # lower case, as the public API reports it
    is_current: bool
    project: str
    app: str
    environment: str
    available_actions: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    image: str | None = None
    branch: str | None = None
    commit_sha: str | None = None
    created_at: int | None = None
    error: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Deployment:
        git, docker, error = (_mapping(data.get(name)) for name in ("git", "docker", "error"))
        return cls(
            id=str(data.get("id") or ""),
            status=str(data.get("status") or "unspecified").lower(),
            is_current=bool(data.get("isCurrent")),
            project=str(data.get("project") or ""),
            app=str(data.get("app") or ""),
            environment=str(data.get("environment") or ""),
            available_actions=tuple(data.get("availableActions") or ()),
            domains=tuple(data.get("domains") or ()),
            image=docker.get("image") or None,
            branch=git.get("branch") or None,
            commit_sha=git.get("commitSha") or None,
            created_at=data.get("createdAt"),
            error=error or None,
            raw=data,
        )

    @property
    def is_production(self) -> bool:
        return self.environment == PRODUCTION


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class ListFilters:
    project: str | None = None
    app: str | None = None
    environment: str | None = None
    statuses: tuple[str, ...] = ()
    limit: int | None = None

    def body(self, cursor: str | None = None) -> dict[str, Any]:
        """The deployments.listDeployments body, checked against the request schema."""
        from unkey_deploy.api.schemas import require_valid

        body: dict[str, Any] = {
            name: value
            for name, value in (("project", self.project), ("app", self.app), ("environment", self.environment))
            if value is not None
        }
        if self.statuses:
            body["status"] = list(self.statuses)
        if self.limit is not None:
            body["limit"] = self.limit
        if cursor is not None:
            body["cursor"] = cursor
        return require_valid("deployments.listDeployments", body)


@dataclass(frozen=True)
class Page:
    deployments: tuple[Deployment, ...]
    cursor: str | None  # pass it back to get the next page; None on the last page

    @property
    def has_more(self) -> bool:
        return self.cursor is not None


def redeploy_body(deployment_id: str, project: str, app: str, environment: str) -> dict[str, Any]:
    """The deployments.createDeployment body with the `deployment` source, checked against the schema."""
    from unkey_deploy.api.schemas import require_valid

    body = {"project": project, "app": app, "environment": environment, "deployment": {"deploymentId": deployment_id}}
    return require_valid("deployments.createDeployment", body)


def deployment_id_body(operation: str, deployment_id: str) -> dict[str, Any]:
    from unkey_deploy.api.schemas import require_valid

    return require_valid(operation, {"deploymentId": deployment_id})


def action_operation(action: Action) -> str:
    return f"deployments.{action}Deployment"


class PublicDeployments:
    """deployments.getDeployment, listDeployments and the four lifecycle actions."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def describe(self, deployment_id: str) -> Deployment:
        operation = "deployments.getDeployment"
        resp = self.client.call(operation, deployment_id_body(operation, deployment_id))
        return Deployment.from_api(resp.data or {})

    def page(self, filters: ListFilters, cursor: str | None = None) -> Page:
        resp = self.client.call("deployments.listDeployments", filters.body(cursor))
        pagination = resp.envelope.get("pagination") or {}
        more = bool(pagination.get("hasMore")) and bool(pagination.get("cursor"))
        items = tuple(Deployment.from_api(item) for item in resp.data or [] if isinstance(item, dict))
        return Page(items, str(pagination["cursor"]) if more else None)

    def pages(self, filters: ListFilters, cursor: str | None = None) -> Iterator[Page]:
        """Every page from `cursor` on, following the cursor until the last one."""
        while True:
            page = self.page(filters, cursor)
            yield page
            if page.cursor is None:
                return
            cursor = page.cursor

    def current(self, project: str, app: str, environment: str = PRODUCTION) -> Deployment | None:
        """The deployment serving `environment` of the app, if any (only production has one)."""
        filters = ListFilters(project, app, environment, statuses=("ready",))
        for page in self.pages(filters):
            for deployment in page.deployments:
                if deployment.is_current:
                    return deployment
        return None

    def act(self, action: Action, deployment_id: str) -> None:
        """Ask for `action`; the API answers 202 and the change shows in getDeployment shortly after.
        Not retried once the request may have reached the server."""
        operation = action_operation(action)
        self.client.call(operation, deployment_id_body(operation, deployment_id), idempotent=False)
