"""Deployments: the one seam between `unkey deploy` and Unkey's two endpoint families.

`deploy.*` (createDeployment/getDeployment) is internal and deprecated but carries git metadata;
`deployments.*` is the public API. Callers use `DeploymentsAPI.create()` and `.get()` and see one shape,
`Deployment`, whichever family answered. When `deploy.*` is gone (410, or a 404 whose error type says
the route does not exist) the seam says so once and falls back to `deployments.*`.

`Deployment` is the program's one model of a deployment: statuses in the public spec's lower case, whichever
family answered (the report layer turns them into what the CLI prints); `unkey local` serves the same model.
The lifecycle actions and when each applies (`action_blocker`) are stated here once, for the CLI's refusals
and for `unkey local`, which answers with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from unkey_deploy.errors import DeadlineExceeded, RouteGoneError
from unkey_deploy.report.safe import text

if TYPE_CHECKING:  # the lifecycle rules below are read by `unkey local` too, which needs no HTTP client
    from unkey_deploy.api.client import Client, Response
    from unkey_deploy.source import GitCommit

Family = Literal["deploy", "deployments"]

TERMINAL = frozenset({"ready", "failed", "cancelled", "superseded", "skipped", "stopped"})


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
    """One step a deployment went through, as deploy.getDeployment reports it (status in lower case)."""

    status: str
    message: str
    error_message: str | None = None
    created_at: int | None = None


# Answers are checked against what the API promises: a missing field or a wrong type is one clear error,
# never a success. Strings shown to people go through report.safe.text; `raw` keeps the answer as sent.


class _Shape:
    """Reads the fields of one answer, raising `malformed` for the first one that is not as promised."""

    def __init__(self, operation: str, request_id: str | None = None) -> None:
        self.operation = operation
        self.request_id = request_id

    def fail(self, problem: str) -> Exception:
        from unkey_deploy.api.client import malformed

        return malformed(self.operation, problem, self.request_id)

    def mapping(self, value: Any, name: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"`{name}` must be an object, got {_kind(value)}")
        return value

    def optional_mapping(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        value = data.get(name)
        return {} if value is None else self.mapping(value, name)

    def string(self, data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value):
            raise self.fail(f"`{name}` must be a{' non-empty' if required else ''} string, got {_kind(value)}")
        return value

    def strings(self, data: dict[str, Any], name: str) -> tuple[str, ...]:
        value = data.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(f"`{name}` must be a list of strings, got {_kind(value)}")
        return tuple(value)

    def integer(self, data: dict[str, Any], name: str) -> int | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"`{name}` must be an integer, got {_kind(value)}")
        return value

    def boolean(self, data: dict[str, Any], name: str) -> bool:
        value = data.get(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(f"`{name}` must be true or false, got {_kind(value)}")
        return value

    def objects(self, data: dict[str, Any], name: str) -> list[dict[str, Any]]:
        value = data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.fail(f"`{name}` must be a list of objects, got {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return "a list with other things in it" if value else "an empty list"
    return {dict: "an object", int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _shown(value: str | None, limit: int = 500) -> str | None:
    return text(value, limit) if value else None


def created_id(resp: Response, operation: str) -> str:
    """The deploymentId of a createDeployment answer."""
    shape = _Shape(operation, resp.request_id)
    return text(shape.string(shape.mapping(resp.data, "data"), "deploymentId", required=True), 200)


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
        try:
            return self._create(request)
        except DeadlineExceeded as exc:
            if exc.not_sent:
                raise
            raise DeadlineExceeded(
                f"{exc.message}; a deployment may have been created: look for it with `unkey deployments list "
                f"--project={request.project}` before deploying again",
                operation=exc.operation,
            ) from None

    def _create(self, request: DeploymentRequest) -> str:
        if self.family == "deploy":
            try:
                resp = self.client.call("deploy.createDeployment", request.deploy_body(), idempotent=False)
                return created_id(resp, "deploy.createDeployment")
            except RouteGoneError as exc:
                self._fall_back(f"deploy.createDeployment is gone ({exc.status}); using deployments.*")
        resp = self.client.call("deployments.createDeployment", request.deployments_body(), idempotent=False)
        return created_id(resp, "deployments.createDeployment")

    def redeploy(self, deployment_id: str, project: str, app: str, environment: str) -> str:
        """Re-run a deployment (createDeployment with the `deployment` source) in `environment`."""
        body = redeploy_body(deployment_id, project, app, environment)
        resp = self.client.call("deployments.createDeployment", body, idempotent=False)
        return created_id(resp, "deployments.createDeployment")

    def get(self, deployment_id: str) -> Deployment:
        if self.family == "deploy":
            try:
                resp = self.client.call("deploy.getDeployment", {"deploymentId": deployment_id})
                return Deployment.from_deploy(resp.data, "deploy.getDeployment", resp.request_id)
            except RouteGoneError as exc:
                self._fall_back(f"deploy.getDeployment is gone ({exc.status}); using deployments.*")
        resp = self.client.call("deployments.getDeployment", {"deploymentId": deployment_id})
        return Deployment.from_api(resp.data, "deployments.getDeployment", resp.request_id)

    def _fall_back(self, message: str) -> None:
        self.family = "deployments"
        if self.on_fallback:
            self.on_fallback(message)


# The public deployments.* API: reading, listing and the lifecycle actions.

Action = Literal["promote", "rollback", "stop", "start"]
ACTIONS: tuple[Action, ...] = ("promote", "rollback", "stop", "start")
PRODUCTION = "production"
# Promote and rollback choose what serves production; stop and start are for preview deployments.
PRODUCTION_ACTIONS: tuple[Action, ...] = ("promote", "rollback")
NEEDS_STATUS: dict[Action, str] = {"promote": "ready", "rollback": "ready", "stop": "ready", "start": "stopped"}

# Why an action does not apply: the deployment's environment, its status, the app has no current deployment
# (promote, rollback), or the deployment is the current one.
Blocker = Literal["environment", "status", "no_current", "current"]


def action_blocker(
    action: Action, *, production: bool, status: str, current: bool, has_current: bool, rolled_back: bool
) -> Blocker | None:
    """What keeps `action` from applying to a deployment, or None when it applies (the platform's rules).

    Promote and rollback take a ready production deployment of an app that has a current one, other than
    the current one (promote takes the current one too while the app is rolled back, to end the rollback);
    stop takes a ready preview deployment, start a stopped one.
    """
    if (action in PRODUCTION_ACTIONS) != production:
        return "environment"
    if status != NEEDS_STATUS[action]:
        return "status"
    if action in PRODUCTION_ACTIONS:
        if not has_current:
            return "no_current"
        if current and (action == "rollback" or not rolled_back):
            return "current"
    return None


@dataclass(frozen=True)
class Deployment:
    """A deployment as deployments.getDeployment and listDeployments describe it, or as deploy.getDeployment
    does (which tells only the id, status, hostnames as `domains`, steps and error message). What following a
    deployment needs besides (its steps, the failed step, the error message) is optional."""

    id: str
    status: str  # lower case, as the public API reports it, whichever family answered
    is_current: bool = False
    project: str = ""
    app: str = ""
    environment: str = ""
    available_actions: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    image: str | None = None
    branch: str | None = None
    commit_sha: str | None = None
    created_at: int | None = None
    error: dict[str, Any] | None = None
    error_message: str | None = None
    failed_step: str | None = None
    steps: tuple[Step, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_api(cls, data: Any, operation: str = "deployments.getDeployment",
                 request_id: str | None = None) -> Deployment:
        """A deployment from the public API's answer; strings meant for people are made safe to print."""
        shape = _Shape(operation, request_id)
        data = shape.mapping(data, "data")
        git, docker, error = (shape.optional_mapping(data, name) for name in ("git", "docker", "error"))
        error_shown = {name: text(value) for name, value in error.items()} if error else None
        return cls(
            id=text(shape.string(data, "id", required=True), 200),
            status=_status(shape, data),
            is_current=shape.boolean(data, "isCurrent"),
            project=text(shape.string(data, "project") or "", 300),
            app=text(shape.string(data, "app") or "", 300),
            environment=text(shape.string(data, "environment") or "", 300),
            available_actions=tuple(text(a, 100) for a in shape.strings(data, "availableActions")),
            domains=tuple(text(d, 300) for d in shape.strings(data, "domains")),
            image=_shown(shape.string(docker, "image")),
            branch=_shown(shape.string(git, "branch"), 300),
            commit_sha=_shown(shape.string(git, "commitSha"), 100),
            created_at=shape.integer(data, "createdAt"),
            error=error_shown,
            error_message=_shown(shape.string(error, "message"), 2000),
            failed_step=_shown(shape.string(error, "step"), 200),
            raw=data,
        )

    @classmethod
    def from_deploy(cls, data: Any, operation: str = "deploy.getDeployment",
                    request_id: str | None = None) -> Deployment:
        """A deployment from deploy.getDeployment's answer (upper-case statuses, `hostnames`, `steps`)."""
        shape = _Shape(operation, request_id)
        data = shape.mapping(data, "data")
        steps = tuple(
            Step(
                status=(shape.string(s, "status") or "").lower(),
                message=shape.string(s, "message") or "",
                error_message=shape.string(s, "errorMessage") or None,
                created_at=shape.integer(s, "createdAt"),
            )
            for s in shape.objects(data, "steps")
        )
        failed = next((s for s in steps if s.error_message), None)
        error_message = shape.string(data, "errorMessage") or (failed.error_message if failed else None)
        return cls(
            id=text(shape.string(data, "id", required=True), 200),
            status=_status(shape, data),
            error_message=_shown(error_message, 2000),
            domains=tuple(text(h, 300) for h in shape.strings(data, "hostnames")),
            steps=steps,
            raw=data,
        )

    @property
    def is_production(self) -> bool:
        return self.environment == PRODUCTION

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _status(shape: _Shape, data: dict[str, Any]) -> str:
    """The answer's status in the program's one casing, the public spec's lower case."""
    return text(shape.string(data, "status", required=True), 100).lower()


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


def redeploy_body(deployment_id: str, project: str, app: str, environment: str) -> dict[str, Any]:
    """The deployments.createDeployment body with the `deployment` source, checked against the schema."""
    from unkey_deploy.api.schemas import require_valid

    body = {"project": project, "app": app, "environment": environment, "deployment": {"deploymentId": deployment_id}}
    return require_valid("deployments.createDeployment", body)


TARGET_FLAGS = {"project": "--project", "app": "--app", "environment": "--env"}


def target_slugs(project: str, app: str, environment: str) -> dict[str, Any]:
    """Project, app and environment checked with the rule deployments.* states for them (ResourceIdentifier:
    3-255 letters, digits, `_` and `-`), for every command, so `deploy` and `deployments list` agree."""
    from unkey_deploy.api.schemas import RESOURCE_IDENTIFIER, InvalidBody, validate

    body = {"project": project, "app": app, "environment": environment}
    problems = [p for name, value in body.items() for p in validate(RESOURCE_IDENTIFIER, value, (name,))]
    if problems:
        raise InvalidBody("deployment target", problems)
    return body


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
        return Deployment.from_api(resp.data, operation, resp.request_id)

    def page(self, filters: ListFilters, cursor: str | None = None) -> Page:
        operation = "deployments.listDeployments"
        resp = self.client.call(operation, filters.body(cursor))
        shape = _Shape(operation, resp.request_id)
        pagination = shape.optional_mapping(resp.envelope, "pagination")
        if not isinstance(resp.data, list):
            raise shape.fail(f"`data` must be a list of deployments, got {_kind(resp.data)}")
        next_cursor = shape.string(pagination, "cursor")
        more = shape.boolean(pagination, "hasMore") and bool(next_cursor)
        items = tuple(Deployment.from_api(item, operation, resp.request_id) for item in resp.data)
        return Page(items, text(next_cursor, 1000) if more and next_cursor else None)

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
