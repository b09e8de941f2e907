"""The deploy pipeline from a pushed image onwards: request → deployment → outcome.

`deploy_image` is what `unkey deploy IMAGE` runs; the build stages hand it their pushed image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from unkey_deploy.api.deployments import DeploymentRequest, DeploymentsAPI, Family
from unkey_deploy.errors import DeploymentFailed, Interrupted
from unkey_deploy.report import Reporter
from unkey_deploy.rollout import Outcome, watch
from unkey_deploy.source import Source


@dataclass(frozen=True)
class Target:
    """Where a deployment goes and how to reach the API."""

    project: str
    app: str
    environment: str
    api_url: str
    root_key: str
    keyspace_id: str | None = None
    family: Family = "deploy"
    timeout: float = 600.0


def deployment_request(target: Target, source: Source, image: str) -> DeploymentRequest:
    return DeploymentRequest(
        project=target.project,
        app=target.app,
        environment=target.environment,
        image=image,
        branch=source.branch,
        keyspace_id=target.keyspace_id,
        git_commit=source.commit,
    )


def url_for(hostname: str) -> str:
    """Domains as URLs: https://, but http:// for localhost hostnames."""
    if "://" in hostname:
        return hostname
    host = hostname.split(":", 1)[0]
    local = host in ("localhost", "127.0.0.1", "[::1]") or host.endswith(".localhost")
    return f"{'http' if local else 'https'}://{hostname}"


def summary(target: Target, source: Source, image: str, outcome: Outcome) -> dict[str, Any]:
    """The result as `--output json` prints it."""
    state = outcome.state
    result: dict[str, Any] = {
        "deploymentId": outcome.deployment_id,
        "status": state.status,
        "project": target.project,
        "app": target.app,
        "environment": target.environment,
        "branch": source.branch,
        "commit": source.commit.commit_sha if source.commit else None,
        "image": image,
        "hostnames": list(state.hostnames),
        "urls": [url_for(h) for h in state.hostnames],
        "durationMs": outcome.duration_ms,
    }
    if state.status != "READY":
        result["error"] = failure_message(outcome)
    return result


def failure_message(outcome: Outcome) -> str:
    state = outcome.state
    if state.status == "FAILED":
        reason = state.error_message or "no reason given"
        where = f" at {state.failed_step}" if state.failed_step else ""
        return f"deployment {outcome.deployment_id} failed{where}: {reason}"
    return f"deployment {outcome.deployment_id} ended {state.status.lower()} instead of ready"


def deploy_image(
    api: DeploymentsAPI, request: DeploymentRequest, target: Target, reporter: Reporter
) -> Outcome:
    """Create the deployment and watch it until it is ready, fails or time runs out."""
    started = time.monotonic()
    deployment_id = api.create(request)
    return follow(api, deployment_id, target, reporter, started)


def follow(api: DeploymentsAPI, deployment_id: str, target: Target, reporter: Reporter, started: float) -> Outcome:
    """Watch a created deployment (`started`: monotonic time of its creation); Ctrl-C leaves it running."""
    reporter.info(f"✓ Deployment created: {deployment_id}")
    try:
        outcome = watch(api, deployment_id, reporter, timeout=target.timeout, started=started)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted; deployment {deployment_id} keeps running: "
            f"check it with `unkey deployments get {deployment_id}`"
        ) from None
    return outcome


def raise_if_failed(outcome: Outcome) -> None:
    if not outcome.ready:
        raise DeploymentFailed(failure_message(outcome))
