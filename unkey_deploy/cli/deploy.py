"""`unkey deploy`: deploy a pre-built image (or, with --build, build and push it first) and watch it go live."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli import options
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import EXIT_CODES_HELP, UnkeyError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.pipeline import Guarded
    from unkey_deploy.rollout import Outcome
    from unkey_deploy.verify import CheckSettings


class ApiFamily(StrEnum):
    deploy = "deploy"
    deployments = "deployments"


HELP = f"""Deploy a Docker image to Unkey and wait until it is ready.

IMAGE is a fully qualified reference (registry/repository:tag or @sha256:...). The command creates the
deployment, shows its progress live, and ends with the deployment ID, status, branch, commit and domains.

With --build (or when IMAGE is a directory) the app is built first: its Dockerfile is used, or one is
generated from the detected language; build variables reach the build only as the BuildKit secret
UNKEY_SECRETS_ID; the image is pushed and deployed by digest. Without IMAGE the repository comes from
--registry or `image:` in unkey.yaml, tagged with the git short SHA. --dry-run builds locally and prints
the deployment request instead of pushing and deploying. Before a build the context's size is reported:
above 100 MB with its largest paths and the .dockerignore lines that would leave them out; above
--max-context the build is refused.

--check PATH verifies the release after READY: each path is requested on the deployment's own URL until
it answers with a --check-status or --check-timeout passes (exit 7). Paths can also be listed under
`check:` in unkey.yaml. --rollback-on-failure puts back the deployment that served the environment
before when the new one fails, times out or fails its checks.

\b
Examples:
  unkey deploy ghcr.io/acme/api:v1.0.0 --project=acme --app=api --env=production
  UNKEY_PROJECT=acme unkey deploy ghcr.io/acme/api:$GITHUB_SHA --output=json
  unkey deploy --build --registry=ghcr.io/acme/api --project=acme --var NPM_TOKEN
  unkey deploy ghcr.io/acme/api:$GITHUB_SHA --build --context=. --root-dir=apps/api --project=acme
  unkey deploy examples/python-http --project=demo --local     # build and run on the local control plane
  unkey deploy --build --dry-run --registry=ghcr.io/acme/api --project=acme
  unkey deploy ghcr.io/acme/api:v2 --project=acme --env=production --check /healthz --rollback-on-failure
  unkey deploy ghcr.io/acme/api:v2 --project=acme --detach    # then: unkey deployments wait ID

{EXIT_CODES_HELP}
"""


def deploy(
    image: Annotated[
        str | None, typer.Argument(metavar="[IMAGE]", help="Image to deploy, or a directory to build.")
    ] = None,
    project: Annotated[str | None, typer.Option(envvar="UNKEY_PROJECT", help="Project slug (required).")] = None,
    app_: Annotated[str, typer.Option("--app", envvar="UNKEY_APP", help="App slug within the project.")] = "default",
    env: Annotated[str, typer.Option("--env", envvar="UNKEY_ENV", help="Environment slug.")] = "preview",
    branch: Annotated[str | None, typer.Option(envvar="UNKEY_BRANCH", help="Git branch [default: detected].")] = None,
    commit: Annotated[
        str | None, typer.Option(envvar="UNKEY_COMMIT", help="Git commit SHA [default: detected].")
    ] = None,
    keyspace_id: Annotated[str | None, typer.Option(envvar="UNKEY_KEYSPACE_ID", help="Keyspace ID.")] = None,
    root_key: options.RootKey = None,
    api_base_url: options.ApiUrl = None,
    config: options.ConfigPath = None,
    timeout: Annotated[
        float,
        typer.Option(envvar="UNKEY_TIMEOUT", help="Seconds to wait for READY.", callback=options.timeout_seconds),
    ] = 600,
    output: Annotated[
        Output, typer.Option(help="text, or json: one JSON object on stdout at the end.")
    ] = Output.text,
    local: options.Local = False,
    api: Annotated[
        ApiFamily, typer.Option("--api", envvar="UNKEY_DEPLOY_API", help="Endpoint family: deploy or deployments.")
    ] = ApiFamily.deploy,
    build: Annotated[bool, typer.Option("--build", help="Build (and push) the image from source first.")] = False,
    context: Annotated[
        Path | None, typer.Option("--context", metavar="DIR", help="Build context [default: .].")
    ] = None,
    root_dir: options.RootDir = None,
    dockerfile: options.Dockerfile = None,
    registry: Annotated[
        str | None,
        typer.Option("--registry", envvar="UNKEY_REGISTRY", metavar="REPO",
                     help="Repository to push to when IMAGE is omitted, e.g. ghcr.io/acme/api."),
    ] = None,  # fmt: skip
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan and build locally; print the deployment request, send nothing.")
    ] = False,
    env_file: options.EnvFile = None,
    var: options.Var = None,
    build_arg: options.BuildArg = None,
    platform: options.Platform = "linux/amd64",
    cache_from: options.CacheFrom = None,
    cache_to: options.CacheTo = None,
    builder: options.Builder = None,
    docker_bin: options.DockerBin = None,
    builder_backend: options.BuilderBackend = None,
    registry_username: options.RegistryUsername = None,
    registry_password_stdin: options.RegistryPasswordStdin = False,
    verbose: options.Verbose = False,
    check: Annotated[
        list[str] | None,
        typer.Option("--check", metavar="PATH",
                     help="After READY, GET PATH on the deployment's own URL until it answers as expected "
                          "(repeatable; `auto`: unkey.yaml `check:`, else the environment's health check path)."),
    ] = None,  # fmt: skip
    check_status: Annotated[
        str, typer.Option("--check-status", metavar="RANGES", help="Statuses that pass a check, e.g. 200-299,301.")
    ] = "200-399",
    check_timeout: Annotated[
        float, typer.Option("--check-timeout", metavar="SECONDS", help="How long the checks may take in all.")
    ] = 60,
    check_interval: Annotated[
        float, typer.Option("--check-interval", metavar="SECONDS", help="Pause between attempts of a check.")
    ] = 2,
    check_header: Annotated[
        list[str] | None,
        typer.Option("--check-header", metavar="'NAME: VALUE'",
                     help="Header sent with every check (repeatable); values never appear in output."),
    ] = None,  # fmt: skip
    rollback_on_failure: Annotated[
        bool,
        typer.Option("--rollback-on-failure",
                     help="When the deployment fails, times out or fails its checks, put back the deployment "
                          "that served the environment before."),
    ] = False,  # fmt: skip
    detach: Annotated[
        bool, typer.Option("--detach", help="Create the deployment, print its ID and exit without waiting.")
    ] = False,
    max_context: options.MaxContext = "2GB",
    git: Annotated[bool, typer.Option(
        "--git", help="Deploy what the platform builds from the app's connected repository (--branch, --commit).")
    ] = False,
    set_port: Annotated[bool, typer.Option(
        "--set-port", help="Set the environment's port to the one the build's plan found, when they differ.")
    ] = False,
) -> None:
    from unkey_deploy.api.client import open_client
    from unkey_deploy.api.deployments import DeploymentsAPI
    from unkey_deploy.imageref import parse_image_argument
    from unkey_deploy.pipeline import Target, deployment_request, follow_guarded, summary
    from unkey_deploy.report import close_reporter, make_reporter
    from unkey_deploy.source import detect_source

    if image and Path(image).is_dir() and not _looks_like_image(image):
        context, image, build = Path(image), None, True  # a directory argument means "build this directory"
    if git and (image or build):
        raise UsageError("--git deploys what the platform builds from the app's repository: leave out IMAGE and "
                         "--build")
    if not image and not build and not git:
        raise UsageError("docker image is required: unkey deploy IMAGE --project=... (e.g. ghcr.io/acme/api:v1.0.0)")
    if not project or app_ == "default":  # `project:` and `app:` of unkey.yaml (written by `unkey init`)
        from unkey_deploy.settings_code import load_settings

        code = load_settings((context or Path(".")) / (root_dir or "") if build else Path.cwd())
        project, app_ = project or code.project, app_ if app_ != "default" else code.app or app_
    if not project:
        raise UsageError("--project is required: pass --project or set UNKEY_PROJECT")
    from unkey_deploy.api.deployments import TARGET_FLAGS, target_slugs
    from unkey_deploy.cli.api_flags import build as check_flags

    check_flags(lambda: target_slugs(project, app_, env), TARGET_FLAGS)
    if git:
        from unkey_deploy.cli.git_deploy import run as deploy_from_git

        return deploy_from_git((project, app_, env), branch=branch, commit=commit, local=local, root_key=root_key,
                               api_base_url=api_base_url, config=config, timeout=timeout, output=output,
                               human=sys.stdout if output is Output.text else sys.stderr)
    if image:
        checked = str(parse_image_argument(image))  # a file here is not an image: say --build
        image = image if build else checked
    if context is not None and not build:
        raise UsageError("--context needs --build (or pass the directory as the argument)")

    source_dir = (context or Path(".")).resolve()
    checks = _check_settings(check or [], check_status, check_timeout, check_interval, check_header or [],
                             (source_dir / (root_dir or ".")) if build else Path.cwd())  # fmt: skip
    if detach and (check or rollback_on_failure):
        raise UsageError("--detach does not wait, so it cannot run --check or --rollback-on-failure; "
                         "drop one, or follow the deployment with `unkey deployments wait ID`")  # fmt: skip
    if detach:
        checks = None  # a detached deploy does not run the checks of unkey.yaml
    context_limit = _parse_max_context(max_context) if build else None
    human = sys.stdout if output is Output.text else sys.stderr
    reporter = make_reporter(human, verbose=verbose)
    source = detect_source(source_dir if build else Path.cwd(), branch=branch, commit=commit)
    api_url, key = (
        ("(dry run)", "") if dry_run else common.resolve_target_api(local, root_key, api_base_url, config, reporter)
    )
    target = Target(project, app_, env, api_url, key, keyspace_id, api.value, timeout)
    try:
        if build:
            from unkey_deploy.cli.build import print_dry_run, read_password_stdin
            from unkey_deploy.pipeline import BuildSettings, prepare_build, run_build

            settings = BuildSettings(
                context=source_dir, image=image, registry=registry, root_dir=root_dir, dockerfile=dockerfile,
                env_files=tuple(env_file or ()), var_flags=tuple(var or ()), build_args=tuple(build_arg or ()),
                platform=platform, cache_from=tuple(cache_from or ()), cache_to=tuple(cache_to or ()),
                builder=builder, docker_bin=docker_bin, builder_backend=builder_backend,
                registry_username=registry_username,
                registry_password=read_password_stdin() if registry_password_stdin else None,
                local=local, dry_run=dry_run, max_context=context_limit,
            )  # fmt: skip
            prepared = prepare_build(settings, source)
            print_header(human, source, prepared.ref)
            if dry_run:
                print_dry_run(human, prepared.plan, prepared.request)
                print_dry_run_request(human, deployment_request(target, source, prepared.ref), target)
                from unkey_deploy.cli.environments import print_planned_settings

                print_planned_settings(prepared.plan.app_dir, env, prepared.plan.port, human)
            image = run_build(prepared, reporter).ref
            if dry_run:
                print(f"\nBuilt {image} locally; nothing was pushed or deployed.", file=human)
                return
        assert image is not None
        if not build:
            print_header(human, source, image)
            if dry_run:
                print_dry_run_request(human, deployment_request(target, source, image), target)
                from unkey_deploy.cli.environments import print_planned_settings

                print_planned_settings(Path.cwd(), env, None, human)
                return
        client = open_client(api_url, key, reporter.warn)
        client.set_deadline(timeout)  # no answer, slow body or Retry-After outlives --timeout
        deployments = DeploymentsAPI(client, target.family, on_fallback=reporter.warn)
        try:
            from unkey_deploy.cli.environments import before_deploy

            before_deploy(client, (project, app_, env), prepared.plan.app_dir if build else Path.cwd(),
                          plan_port=prepared.plan.port if build else None, set_port=set_port, human=human)
            guard = None
            if rollback_on_failure:
                from unkey_deploy.recovery import RollbackGuard

                guard = RollbackGuard.prepare(client, project, app_, env)
                reporter.info(guard.describe_before())
            started = time.monotonic()
            deployment_id = deployments.create(deployment_request(target, source, image))
            if detach:
                close_reporter(reporter)
                print_detached(human, output, deployment_id, target, image)
                return
            guarded = follow_guarded(deployments, deployment_id, target, reporter, started, checks=checks,
                                     guard=guard)  # fmt: skip
            log_tail = _crash_log_tail(client, guarded.outcome) if guarded.outcome else []
        finally:
            client.close()
    finally:
        close_reporter(reporter)
    if guarded.outcome is None:  # timed out: no final state to summarise
        assert guarded.error is not None
        _publish_checks(guarded)
        raise _with_recovery(guarded.error, guarded)
    finish(summary(target, source, image, guarded.outcome), guarded.outcome, output, human, log_tail,
           guarded=guarded)  # fmt: skip


def _check_settings(paths: list[str], status: str, timeout: float, interval: float, headers: list[str],
                    config_dir: Path) -> CheckSettings | None:  # fmt: skip
    """The checks to run after READY, validated before anything is built or deployed."""
    from unkey_deploy.config import load_project_config
    from unkey_deploy.verify import check_settings, configured_checks

    config, path = load_project_config(config_dir)
    configured = configured_checks(config, str(path)) if path else []
    return check_settings(paths, status=status, timeout=timeout, interval=interval, headers=headers,
                          configured=configured)  # fmt: skip


def _parse_max_context(text: str) -> int:
    from unkey_deploy.image.context_size import parse_size

    return parse_size(text, "--max-context")


def print_detached(stream: Any, output: Output, deployment_id: str, target: Any, image: str) -> None:
    """--detach: the new deployment's ID, and how to follow it."""
    if output is Output.json:
        print(json.dumps({"deploymentId": deployment_id, "status": "PENDING", "project": target.project,
                          "app": target.app, "environment": target.environment, "image": image,
                          "detached": True}, indent=2))  # fmt: skip
        return
    print(f"✓ Deployment created: {deployment_id} (not waiting)", file=stream)
    print(f"    Follow it with: unkey deployments wait {deployment_id}", file=stream)
    print(deployment_id)


def _with_recovery(error: UnkeyError, guarded: Guarded | None) -> UnkeyError:
    """The error, with the verification results and the rollback summary as its details."""
    if guarded is not None and guarded.recovery is not None:
        error.details.extend(["rollback:", *(f"  {line}" for line in guarded.recovery.lines)])
    return error


def _publish_checks(guarded: Guarded) -> None:
    """On GitHub Actions: the verification results and the rollback in the job summary."""
    import os

    from unkey_deploy.verify import summary_markdown

    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") != "true" or not target:
        return
    text = summary_markdown(guarded.verification, guarded.recovery)
    if text:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(text)


def _crash_log_tail(client: Any, outcome: Outcome) -> list[str]:
    """The last runtime log lines of a deployment that did not become ready (empty when it did)."""
    if outcome.ready:
        return []
    from unkey_deploy.cli.logs import recent_lines

    return recent_lines(client, outcome.deployment_id)


def finish(result: dict[str, Any], outcome: Outcome, output: Output, human: Any,
           log_tail: list[str] | None = None, *, guarded: Guarded | None = None) -> None:
    """The end of a deploy: CI outputs and job summary, the summary or JSON, the exit status. `guarded`
    adds the verification results and what a rollback did."""
    from unkey_deploy.pipeline import raise_if_failed
    from unkey_deploy.report.ci import publish_result

    error = guarded.error if guarded is not None else None
    if guarded is not None:
        if guarded.verification is not None:
            result["verification"] = guarded.verification.to_json()
        if guarded.recovery is not None:
            result["rollback"] = guarded.recovery.to_json()
        if error is not None:
            result.setdefault("error", error.message)
    publish_result(result, outcome.state)  # no-op outside CI
    if guarded is not None:
        _publish_checks(guarded)
    if output is Output.json:
        print(json.dumps(result, indent=2))
    elif outcome.ready and error is None:
        print_summary(human, result)
    try:
        if error is not None:
            raise error
        raise_if_failed(outcome)
    except UnkeyError as exc:
        if log_tail:
            exc.details.extend([f"last {len(log_tail)} runtime log lines (`unkey logs {outcome.deployment_id}`):",
                                *(f"  {line}" for line in log_tail)])
        raise _with_recovery(exc, guarded) from None


def _looks_like_image(text: str) -> bool:
    """`ghcr.io/acme/api:v1` is an image even if a directory of that name happens to exist; `.` and
    `apps/api` are directories."""
    return ":" in text or "@" in text


RULE = "─" * 50


def print_header(stream: Any, source: Any, image: str) -> None:
    commit = source.short_sha or "none"
    if source.dirty:
        commit += " (dirty)"
    lines = [
        "Deployment Progress",
        RULE,
        "Source Information:",
        f"    Branch: {source.branch}",
        f"    Commit: {commit}",
        f"    Image: {image}",
        "",
    ]
    print("\n".join(lines), file=stream, flush=True)


def print_dry_run_request(stream: Any, request: Any, target: Any) -> None:
    body = request.deploy_body() if target.family == "deploy" else request.deployments_body()
    operation = "deploy.createDeployment" if target.family == "deploy" else "deployments.createDeployment"
    print(f"\nDeployment request (POST /v2/{operation}, not sent):", file=stream)
    print(json.dumps(body, indent=2), file=stream, flush=True)


def print_summary(stream: Any, result: dict[str, Any]) -> None:
    from unkey_deploy.report.safe import lines

    commit = (result["commit"] or "")[:7] or "none"
    lines = [
        "✓ Deployment completed successfully",
        "",
        "Deployment Complete",
        f"    Deployment ID: {result['deploymentId']}",
        f"    Status: {result['status'].title()}",
        f"    Environment: {result['environment'].replace('-', ' ').title()}",
        f"    Branch: {result['branch']}",
        f"    Commit: {commit}",
        f"    Image: {result['image']}",
        f"    Duration: {result['durationMs'] / 1000:.1f}s",
        "",
        "Domains",
        *(f"    {url}" for url in lines(result["urls"], what="domains")),
    ]
    if not result["urls"]:
        lines.append("    (none assigned)")
    verification = result.get("verification")
    if verification:
        checks = verification["checks"]
        lines += ["", "Verified", *(f"    {c['path']}: {c['status']} ({c['latencyMs']} ms)" for c in checks)]
    print("\n".join(lines), file=stream, flush=True)


def register(app: typer.Typer) -> None:
    app.command("deploy", help=HELP, no_args_is_help=False)(deploy)
