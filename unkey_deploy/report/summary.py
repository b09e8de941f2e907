"""What a deploy prints besides progress: the header, the request of a dry run, the detached notice, and the
result (the text summary or `--output json`), all rendered from the stage's own types (`DeployResult`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from unkey_deploy.api.deployments import DeploymentRequest
    from unkey_deploy.pipeline import DeployResult, Target
    from unkey_deploy.source import Source

RULE = "─" * 50


def print_header(stream: TextIO, source: Source, image: str) -> None:
    """Where the deployment comes from: branch, commit (dirty or not) and image."""
    commit = source.short_sha or "none"
    if source.dirty:
        commit += " (dirty)"
    text = [
        "Deployment Progress",
        RULE,
        "Source Information:",
        f"    Branch: {source.branch}",
        f"    Commit: {commit}",
        f"    Image: {image}",
        "",
    ]
    print("\n".join(text), file=stream, flush=True)


def print_dry_run_request(stream: TextIO, request: DeploymentRequest, target: Target) -> None:
    """--dry-run: the deployment request that would be sent."""
    body = request.deploy_body() if target.family == "deploy" else request.deployments_body()
    operation = "deploy.createDeployment" if target.family == "deploy" else "deployments.createDeployment"
    print(f"\nDeployment request (POST /v2/{operation}, not sent):", file=stream)
    print(json.dumps(body, indent=2), file=stream, flush=True)


def print_detached(stream: TextIO, as_json: bool, deployment_id: str, target: Target, image: str) -> None:
    """--detach: the new deployment's ID, and how to follow it."""
    if as_json:
        print(json.dumps({"deploymentId": deployment_id, "status": "PENDING", "project": target.project,
                          "app": target.app, "environment": target.environment, "image": image,
                          "detached": True}, indent=2))  # fmt: skip
        return
    print(f"✓ Deployment created: {deployment_id} (not waiting)", file=stream)
    print(f"    Follow it with: unkey deployments wait {deployment_id}", file=stream)
    print(deployment_id)


def print_result(stream: TextIO, result: DeployResult, *, as_json: bool) -> None:
    """The end of a deploy: `--output json` on stdout, else the summary of a deployment that passed (a failure
    is told by the error that follows)."""
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    elif result.ready and result.error is None:
        print_summary(stream, result)


def print_summary(stream: TextIO, result: DeployResult) -> None:
    """The text summary of a deployment that is READY (and passed its checks)."""
    from unkey_deploy.report.safe import lines
    from unkey_deploy.report.urls import url_for

    urls = [url_for(h) for h in result.hostnames]
    commit = (result.commit or "")[:7] or "none"
    text = [
        "✓ Deployment completed successfully",
        "",
        "Deployment Complete",
        f"    Deployment ID: {result.deployment_id}",
        f"    Status: {result.status.title()}",
        f"    Environment: {result.environment.replace('-', ' ').title()}",
        f"    Branch: {result.branch}",
        f"    Commit: {commit}",
        f"    Image: {result.image}",
        f"    Duration: {result.duration_ms / 1000:.1f}s",
        "",
        "Domains",
        *(f"    {url}" for url in lines(urls, what="domains")),
    ]
    if not urls:
        text.append("    (none assigned)")
    if result.verification is not None:
        checks: list[dict[str, Any]] = result.verification.to_json()["checks"]
        text += ["", "Verified", *(f"    {c['path']}: {c['status']} ({c['latencyMs']} ms)" for c in checks)]
    print("\n".join(text), file=stream, flush=True)
