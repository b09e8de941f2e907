"""The deploy stage: a pushed image (or a git source) → deployment → outcome → `DeployResult`.

`deployment_request` and `follow_guarded` (follow, verify, roll back) are what `unkey deploy IMAGE` runs; with
--build, `build_stage` comes first and hands it the pushed image; `follow` is what `deploy --git`, `deployments
redeploy` and `wait` run. The `DeployResult` is what every report renders: the summary,
`--output json`, GitHub outputs and job summary, GitLab's dotenv report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unkey_deploy.api.deployments import DeploymentRequest, DeploymentsAPI, Family
from unkey_deploy.errors import DeploymentFailed, Interrupted, UnkeyError
from unkey_deploy.report import Reporter
from unkey_deploy.rollout import Outcome, watch
from unkey_deploy.source import Source

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client
    from unkey_deploy.api.deployments import Deployment
    from unkey_deploy.recovery import Recovery, RollbackGuard
    from unkey_deploy.verify import CheckSettings, Verification


@dataclass(frozen=True)
class Target:
    """Where a deployment goes, through which endpoint family, and how long to wait for it."""

    project: str
    app: str
    environment: str
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


@dataclass(frozen=True)
class DeployResult:
    """The result of a deploy that reached an end state, as every report renders it (`to_json` is what
    `--output json` prints)."""

    deployment_id: str
    status: str  # the deployment's, in the program's lower case (reports show it with report.shown_status)
    project: str
    app: str
    environment: str
    branch: str
    commit: str | None
    image: str
    hostnames: tuple[str, ...]
    duration_ms: int
    error: str | None = None  # why it failed (the deployment's own failure, else the checks')
    failed_step: str | None = None  # where a deployment that did not become ready stopped
    redeploy_of: str | None = None
    verification: Verification | None = None
    rollback: Recovery | None = None

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    def to_json(self) -> dict[str, Any]:
        from unkey_deploy.report import shown_status
        from unkey_deploy.report.urls import url_for

        result: dict[str, Any] = dict(  # in the order `--output json` prints them
            deploymentId=self.deployment_id, status=shown_status(self.status), project=self.project, app=self.app,
            environment=self.environment, branch=self.branch, commit=self.commit, image=self.image,
            hostnames=list(self.hostnames), urls=[url_for(h) for h in self.hostnames], durationMs=self.duration_ms,
        )
        if not self.ready and self.error is not None:
            result["error"] = self.error
        if self.redeploy_of is not None:
            result["redeployOf"] = self.redeploy_of
        if self.verification is not None:
            result["verification"] = self.verification.to_json()
        if self.rollback is not None:
            result["rollback"] = self.rollback.to_json()
        if self.ready and self.error is not None:
            result["error"] = self.error
        return result


def deploy_result(target: Target, source: Source, image: str, outcome: Outcome, *, guarded: Guarded | None = None,
                  redeploy_of: str | None = None) -> DeployResult:  # fmt: skip
    """The result of a followed deployment; `guarded` adds the verification results and what a rollback did."""
    state = outcome.state
    error = failure_message(outcome) if not outcome.ready else None
    if error is None and guarded is not None and guarded.error is not None:
        error = guarded.error.message
    return DeployResult(
        deployment_id=outcome.deployment_id,
        status=state.status,
        project=target.project,
        app=target.app,
        environment=target.environment,
        branch=source.branch,
        commit=source.commit.commit_sha if source.commit else None,
        image=image,
        hostnames=state.domains,
        duration_ms=outcome.duration_ms,
        error=error,
        failed_step=failing_step(state) if not outcome.ready else None,
        redeploy_of=redeploy_of,
        verification=guarded.verification if guarded is not None else None,
        rollback=guarded.recovery if guarded is not None else None,
    )


def failing_step(state: Deployment) -> str | None:
    """Where a deployment failed: the API's failed step, else the last step it reached before failing."""
    if state.failed_step:
        return state.failed_step
    reached = [step for step in state.steps if not step.error_message and step.status != "failed"]
    return reached[-1].message if reached else None


def failure_message(outcome: Outcome) -> str:
    state = outcome.state
    if state.status == "failed":
        reason = state.error_message or "no reason given"
        where = f" at {state.failed_step}" if state.failed_step else ""
        return f"deployment {outcome.deployment_id} failed{where}: {reason}"
    return f"deployment {outcome.deployment_id} ended {state.status} instead of ready"


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


@dataclass
class Guarded:
    """A deployment followed to its end, verified and, on failure, rolled back (see `follow_guarded`)."""

    deployment_id: str
    outcome: Outcome | None = None  # None when waiting timed out
    error: UnkeyError | None = None  # why the command fails, if it does
    verification: Verification | None = None
    recovery: Recovery | None = None


def follow_guarded(
    api: DeploymentsAPI,
    deployment_id: str,
    target: Target,
    reporter: Reporter,
    started: float,
    *,
    checks: CheckSettings | None = None,
    guard: RollbackGuard | None = None,
) -> Guarded:
    """Follow a created deployment; once READY run the checks; on failure (FAILED, timeout, checks) put the
    previous deployment back when `guard` says so."""
    from unkey_deploy.errors import DeployTimeout

    guarded = Guarded(deployment_id)
    try:
        guarded.outcome = follow(api, deployment_id, target, reporter, started)
    except DeployTimeout as exc:
        guarded.error = exc
    outcome = guarded.outcome
    if outcome is not None and not outcome.ready:
        guarded.error = DeploymentFailed(failure_message(outcome))
    elif outcome is not None and checks is not None:
        from unkey_deploy.verify import deployment_url, verify

        api.client.set_deadline(checks.timeout + 30)  # the checks' own time, whatever --timeout left
        if checks.wants_health_path:
            checks = _with_health_path(api.client, deployment_id, checks, reporter)
        base = deployment_url(outcome.state.domains, target.environment)
        if base is None:
            guarded.error = UnkeyError(f"deployment {deployment_id} is ready but has no domain to verify; "
                                       "drop --check or check it by hand")  # fmt: skip
        else:
            guarded.verification = verify(base, checks, reporter)
            if not guarded.verification.ok:
                guarded.error = guarded.verification.failure(deployment_id)
    if guarded.error is not None and guard is not None:
        reporter.info(f"Rolling back: {deployment_id} did not pass; looking at what serves {guard.where}")
        guarded.recovery = guard.recover(deployment_id, guarded.error.message, still_running=outcome is None)
    return guarded


def _with_health_path(client: Client, deployment_id: str, checks: CheckSettings, reporter: Reporter) -> CheckSettings:
    """`--check auto` without `check:` in unkey.yaml: add the environment's health check path, else `/`."""
    from dataclasses import replace

    from unkey_deploy.api.deployments import PublicDeployments
    from unkey_deploy.verify import normalise_path

    path: Any = None
    try:
        raw = PublicDeployments(client).describe(deployment_id).raw
    except UnkeyError as exc:
        reporter.warn(f"cannot read the environment's health check ({exc.message}); checking /")
        raw = None
    if raw is not None:
        runtime = raw.get("runtime")
        health = runtime.get("healthcheck") if isinstance(runtime, dict) else None
        path = health.get("path") if isinstance(health, dict) else None
        if not isinstance(path, str) or not path.startswith("/"):
            reporter.info("The environment has no health check path; checking /")
    if not isinstance(path, str) or not path.startswith("/"):
        path = "/"
    paths = tuple(dict.fromkeys([*checks.paths, normalise_path(path, "health check path")]))
    return replace(checks, paths=paths, wants_health_path=False)
