"""Plumbing the commands that deploy share (`unkey deploy`, `deploy --git`, `deployments redeploy` and
`wait`, `unkey build`): the deploy itself once its flags are read, following an existing deployment to its
end, the end of a deploy (CI outputs, summary or JSON, exit status with the crash log and the rollback), the
checks of unkey.yaml, and flags read from stdin."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from unkey_deploy.cli.options import Output
from unkey_deploy.errors import DeploymentFailed, UnkeyError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client
    from unkey_deploy.api.deployments import DeploymentsAPI
    from unkey_deploy.build_stage import BuildSettings
    from unkey_deploy.cli._common import ApiAccess
    from unkey_deploy.config import ProjectConfig
    from unkey_deploy.pipeline import DeployResult, Target
    from unkey_deploy.recovery import Recovery
    from unkey_deploy.report import Reporter
    from unkey_deploy.source import Source
    from unkey_deploy.verify import CheckSettings

LOG_TAIL_LINES = 20


@dataclass(frozen=True)
class Deploy:
    """One `unkey deploy IMAGE` or `unkey deploy --build`, its flags read and checked."""

    target: Target
    source: Source
    image: str | None  # None: built from `build`
    build: BuildSettings | None
    project: ProjectConfig  # the unkey.yaml of the build (the app's, else the repository root's)
    app_config: ProjectConfig  # the unkey.yaml of the app's own directory: its environment settings
    checks: CheckSettings | None
    rollback_on_failure: bool = False
    detach: bool = False
    dry_run: bool = False
    set_port: bool = False


def deploy(job: Deploy, api: ApiAccess, reporter: Reporter, output: Output, human: TextIO) -> None:
    """Build when asked, apply the environment's settings, create the deployment, follow and verify it (and
    roll back when asked), then report; --dry-run prints the request instead and --detach stops at creation."""
    import time

    from unkey_deploy.api.client import open_client
    from unkey_deploy.api.deployments import DeploymentsAPI
    from unkey_deploy.cli._before_deploy import before_deploy, print_planned_settings
    from unkey_deploy.cli._common import resolve_target_api
    from unkey_deploy.pipeline import deploy_result, deployment_request, follow_guarded
    from unkey_deploy.report import close_reporter
    from unkey_deploy.report.ci import publish_checks
    from unkey_deploy.report.summary import print_detached, print_dry_run_request, print_header

    target, source, image = job.target, job.source, job.image
    names = (target.project, target.app, target.environment)
    api_url, key = ("(dry run)", "") if job.dry_run else resolve_target_api(api.local, api.root_key, api.api_url,
                                                                            api.config, reporter)  # fmt: skip
    plan_port = None
    try:
        if job.build is not None:
            from unkey_deploy.build_stage import prepare_build, run_build
            from unkey_deploy.report.plan import print_build_dry_run

            prepared = prepare_build(job.build, source, job.project)
            plan_port = prepared.plan.port
            print_header(human, source, prepared.ref)
            if job.dry_run:
                print_build_dry_run(human, prepared.plan, prepared.request)
                print_dry_run_request(human, deployment_request(target, source, prepared.ref), target)
                print_planned_settings(job.app_config, target.environment, plan_port, human)
            image = run_build(prepared, reporter).ref
            if job.dry_run:
                print(f"\nBuilt {image} locally; nothing was pushed or deployed.", file=human)
                return
        assert image is not None
        if job.build is None:
            print_header(human, source, image)
            if job.dry_run:
                print_dry_run_request(human, deployment_request(target, source, image), target)
                print_planned_settings(job.app_config, target.environment, None, human)
                return
        client = open_client(api_url, key, reporter.warn)
        client.set_deadline(target.timeout)  # no answer, slow body or Retry-After outlives --timeout
        deployments = DeploymentsAPI(client, target.family, on_fallback=reporter.warn)
        try:
            before_deploy(client, names, job.app_config, plan_port=plan_port, set_port=job.set_port, human=human)
            guard = None
            if job.rollback_on_failure:
                from unkey_deploy.recovery import RollbackGuard

                guard = RollbackGuard.prepare(client, *names)
                reporter.info(guard.describe_before())
            started = time.monotonic()
            deployment_id = deployments.create(deployment_request(target, source, image))
            if job.detach:
                close_reporter(reporter)
                print_detached(human, output is Output.json, deployment_id, target, image)
                return
            guarded = follow_guarded(deployments, deployment_id, target, reporter, started, checks=job.checks,
                                     guard=guard)  # fmt: skip
            result = deploy_result(target, source, image, guarded.outcome, guarded=guarded) if guarded.outcome else None
            log_tail = crash_log_tail(client, result) if result is not None else []
        finally:
            client.close()
    finally:
        close_reporter(reporter)
    if result is None:  # timed out: no final state to summarise
        assert guarded.error is not None
        publish_checks(guarded.verification, guarded.recovery)
        raise with_recovery(guarded.error, guarded.recovery)
    finish(result, output, human, log_tail, error=guarded.error)


def follow_to_end(client: Client, names: tuple[str, str, str], source: Source, image: str,
                  start: Callable[[DeploymentsAPI], str], *, timeout: float, verbose: bool, output: Output,
                  human: TextIO, redeploy_of: str | None = None) -> None:  # fmt: skip
    """`deployments redeploy` and `wait`: the header, then `start` (which creates or names the deployment),
    then follow it to its end and report it like `unkey deploy`."""
    import time

    from unkey_deploy.api.deployments import DeploymentsAPI
    from unkey_deploy.pipeline import Target, deploy_result, follow
    from unkey_deploy.report import close_reporter, make_reporter
    from unkey_deploy.report.summary import print_header

    target = Target(*names, family="deployments", timeout=timeout)
    print_header(human, source, image)
    reporter = make_reporter(human, verbose=verbose)
    try:
        api = DeploymentsAPI(client, "deployments")
        started = time.monotonic()
        outcome = follow(api, start(api), target, reporter, started)
    finally:
        close_reporter(reporter)
    finish(deploy_result(target, source, image, outcome, redeploy_of=redeploy_of), output, human)


def finish(result: DeployResult, output: Output, human: TextIO, log_tail: list[str] | None = None, *,
           error: UnkeyError | None = None) -> None:  # fmt: skip
    """The end of a deploy: CI outputs and job summary, the summary or JSON, the exit status. `error` is why
    the command fails besides the deployment's own failure (its checks, say)."""
    from unkey_deploy.report.ci import publish_checks, publish_result
    from unkey_deploy.report.summary import print_result

    publish_result(result)  # no-op outside CI
    publish_checks(result.verification, result.rollback)
    print_result(human, result, as_json=output is Output.json)
    if error is None and not result.ready:
        error = DeploymentFailed(result.error or "")
    if error is None:
        return
    if log_tail:
        error.details.extend([f"last {len(log_tail)} runtime log lines (`unkey logs {result.deployment_id}`):",
                              *(f"  {line}" for line in log_tail)])
    raise with_recovery(error, result.rollback) from None


def with_recovery(error: UnkeyError, recovery: Recovery | None) -> UnkeyError:
    """The error, with what a rollback did as its details."""
    if recovery is not None:
        error.details.extend(["rollback:", *(f"  {line}" for line in recovery.lines)])
    return error


def crash_log_tail(client: Client, result: DeployResult) -> list[str]:
    """The last runtime log lines of a deployment that did not become ready (empty when it did)."""
    if result.ready:
        return []
    return recent_lines(client, result.deployment_id)


def recent_lines(client: Client, deployment_id: str, count: int = LOG_TAIL_LINES) -> list[str]:
    """The last `count` runtime log lines of a deployment, formatted; empty when the API has none or
    cannot answer (a root key without the read_runtime_logs permission, say)."""
    from unkey_deploy.api.logs import LogFilter, build_query, query
    from unkey_deploy.cli._log_lines import format_line

    try:
        sql = build_query(LogFilter(deployment_id=deployment_id), limit=count)
        lines = query(client, sql)
    except (UnkeyError, ValueError):
        return []
    return [format_line(line) for line in reversed(lines)]


def check_settings(paths: list[str], status: str, timeout: float, interval: float, headers: list[str],
                   project: ProjectConfig) -> CheckSettings | None:  # fmt: skip
    """The checks to run after READY (`--check` and unkey.yaml `check:`), validated before anything is built
    or deployed."""
    from unkey_deploy.verify import check_settings as checks_of
    from unkey_deploy.verify import configured_checks

    configured = configured_checks({"check": project.checks}, project.source) if project.path else []
    return checks_of(paths, status=status, timeout=timeout, interval=interval, headers=headers,
                     configured=configured)  # fmt: skip


def read_password_stdin() -> str:
    """--registry-password-stdin: the registry password piped in."""
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("--registry-password-stdin reads the password from stdin; pipe it in, e.g. `echo $PW | ...`")
    password = sys.stdin.read().rstrip("\r\n")
    if not password:
        raise UsageError("--registry-password-stdin: stdin was empty; pipe the registry password in")
    return password
