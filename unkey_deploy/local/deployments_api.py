"""`deploy.*` (internal, upper-case statuses) and `deployments.*` (public) over the local store.

Each handler checks the parsed JSON body against its operation's schema in `unkey_deploy.api.schemas`
and returns (HTTP status, response body without `meta`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unkey_deploy.api.deployments import Action
from unkey_deploy.local import problems
from unkey_deploy.local.lifecycle import Controller, refusal
from unkey_deploy.local.lookup import decode_cursor, encode_cursor, require_project
from unkey_deploy.local.problems import ValidationIssue, valid_body
from unkey_deploy.local.store import Deployment, Step

RUNTIME = {
    "vCpus": 0.25,
    "memoryMib": 256,
    "storageMib": 0,
    "port": 8080,
    "command": [],
    "shutdownSignal": "SIGTERM",
    "upstreamProtocol": "http1",
}


@dataclass
class Context:
    controller: Controller
    projects: frozenset[str] | None = None  # None: projects are created on first use
    debug_timestamps: bool = False
    git_builds: Callable[[dict[str, Any]], Deployment] | None = None  # `git` deployments (local.git_builds)


# deploy.* (internal)


def legacy_create(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("deploy.createDeployment", body)
    require_project(ctx, body["project"])
    commit = body.get("gitCommit") or None
    deployment = ctx.controller.store.create_deployment(
        project=body["project"],
        app=body["app"],
        environment=body["environmentSlug"],
        image=body["dockerImage"],
        branch=body["branch"],
        commit_sha=(commit or {}).get("commitSha") or None,
        git_commit=commit,
        keyspace_id=body.get("keyspaceId"),
    )
    ctx.controller.submit(deployment)
    return 201, {"data": {"deploymentId": deployment.id}}


def legacy_get(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("deploy.getDeployment", body)
    deployment = _find(ctx, body["deploymentId"])
    data: dict[str, Any] = {
        "id": deployment.id,
        "status": deployment.status.upper(),
        "hostnames": _domains(ctx, deployment),
        "steps": [_legacy_step(step) for step in ctx.controller.store.steps(deployment.id)],
    }
    if deployment.status == "failed" and deployment.error_message:
        data["errorMessage"] = deployment.error_message
    _add_debug(ctx, deployment, data)
    return 200, {"data": data}


def _legacy_step(step: Step) -> dict[str, Any]:
    item: dict[str, Any] = {"status": step.status, "message": step.message, "createdAt": step.created_at}
    if step.error_message:
        item["errorMessage"] = step.error_message
    return item


# deployments.* (public)


def create(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("deployments.createDeployment", body)
    require_project(ctx, body["project"])
    if "git" in body and ctx.git_builds is not None:
        return 201, {"data": {"deploymentId": ctx.git_builds(body).id}}
    if "git" in body:
        raise problems.precondition_failed(
            f"App {body['app']} has no GitHub repository connected; the local control plane deploys "
            "images only: send the `image` source instead."
        )
    image, branch, commit_sha, git_commit = body.get("image", {}).get("dockerImage"), None, None, None
    if "deployment" in body:
        source = _find(ctx, body["deployment"]["deploymentId"])
        if (source.project, source.app) != (body["project"], body["app"]):
            raise problems.invalid_input(
                [ValidationIssue("body.deployment.deploymentId",
                                 f"belongs to {source.project}/{source.app}, not {body['project']}/{body['app']}",
                                 "re-run a deployment of the same project and app")]
            )
        image, branch, commit_sha, git_commit = source.image, source.branch, source.commit_sha, source.git_commit
    deployment = ctx.controller.store.create_deployment(
        project=body["project"],
        app=body["app"],
        environment=body["environment"],
        image=image,
        branch=branch,
        commit_sha=commit_sha,
        git_commit=git_commit,
    )
    ctx.controller.submit(deployment)
    return 201, {"data": {"deploymentId": deployment.id}}


def get(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("deployments.getDeployment", body)
    return 200, {"data": deployment_json(ctx, _find(ctx, body["deploymentId"]))}


def list_(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("deployments.listDeployments", body)
    if "project" in body:
        require_project(ctx, body["project"])
    before = decode_cursor("seq", body["cursor"]) if "cursor" in body else None
    limit = body.get("limit", 100)
    rows = ctx.controller.store.list_deployments(
        project=body.get("project"),
        app=body.get("app"),
        environment=body.get("environment"),
        statuses=body.get("status") or None,
        before_seq=before,
        limit=limit + 1,
    )
    page, more = rows[:limit], len(rows) > limit
    pagination: dict[str, Any] = {"hasMore": more}
    if more:
        pagination["cursor"] = encode_cursor("seq", page[-1].seq)
    return 200, {"data": [deployment_json(ctx, d) for d in page], "pagination": pagination}


def action(name: Action) -> Callable[[Context, Any], tuple[int, dict[str, Any]]]:
    def handle(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
        valid_body(f"deployments.{name}Deployment", body)
        deployment = _find(ctx, body["deploymentId"])
        reason = refusal(name, deployment, ctx.controller.store.app_state(deployment.project, deployment.app))
        if reason:
            raise problems.precondition_failed(reason[0].upper() + reason[1:] + ".")
        ctx.controller.apply(name, deployment)
        return 202, {"data": {}}

    handle.__name__ = f"{name}_deployment"
    return handle


def deployment_json(ctx: Context, deployment: Deployment) -> dict[str, Any]:
    """The deployment as deployments.getDeployment answers it."""
    data: dict[str, Any] = {
        "id": deployment.id,
        "status": deployment.status,
        "isCurrent": deployment.is_current,
        "environment": deployment.environment,
        "app": deployment.app,
        "project": deployment.project,
    }
    data["docker"] = {"image": deployment.image}  # every local deployment is image-sourced
    data["availableActions"] = list(deployment.available_actions)
    data["regions"] = ["local"]
    if deployment.error is not None:
        data["error"] = dict(deployment.error)
    data["domains"] = _domains(ctx, deployment)
    data["runtime"] = dict(RUNTIME)
    data["createdAt"] = deployment.created_at
    data["updatedAt"] = deployment.updated_at
    _add_debug(ctx, deployment, data)
    return data


def _domains(ctx: Context, deployment: Deployment) -> list[str]:
    """The deployment's own hostnames, plus its environment's stable URL while it is current."""
    stable = ctx.controller.stable_url_port(deployment)
    return [*deployment.domains, f"localhost:{stable}"] if stable else list(deployment.domains)


def _add_debug(ctx: Context, deployment: Deployment, data: dict[str, Any]) -> None:
    """With --debug-timestamps only: when the deployment became READY (ms), for latency benchmarks."""
    if ctx.debug_timestamps and deployment.ready_at is not None:
        data["readyAt"] = deployment.ready_at


def _find(ctx: Context, deployment_id: str) -> Deployment:
    deployment = ctx.controller.store.get_deployment(deployment_id)
    if deployment is None:
        raise problems.not_found("deployment", f"The deployment {deployment_id} does not exist.")
    return deployment


ROUTES = {
    "deploy.createDeployment": legacy_create,
    "deploy.getDeployment": legacy_get,
    "deployments.createDeployment": create,
    "deployments.getDeployment": get,
    "deployments.listDeployments": list_,
    "deployments.promoteDeployment": action("promote"),
    "deployments.rollbackDeployment": action("rollback"),
    "deployments.startDeployment": action("start"),
    "deployments.stopDeployment": action("stop"),
}
