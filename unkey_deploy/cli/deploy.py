"""`unkey deploy`: deploy a pre-built image (or, with --build, build and push it first) and watch it go live."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from unkey_deploy.cli import options
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import EXIT_CODES_HELP, UnkeyError, UsageError
from unkey_deploy.report import Reporter

if TYPE_CHECKING:
    from unkey_deploy.rollout import Outcome


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
the deployment request instead of pushing and deploying.

\b
Examples:
  unkey deploy ghcr.io/acme/api:v1.0.0 --project=acme --app=api --env=production
  UNKEY_PROJECT=acme unkey deploy ghcr.io/acme/api:$GITHUB_SHA --output=json
  unkey deploy --build --registry=ghcr.io/acme/api --project=acme --var NPM_TOKEN
  unkey deploy ghcr.io/acme/api:$GITHUB_SHA --build --context=. --root-dir=apps/api --project=acme
  unkey deploy examples/python-http --project=demo --local     # build and run on the local control plane
  unkey deploy --build --dry-run --registry=ghcr.io/acme/api --project=acme

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
) -> None:
    from unkey_deploy.api.deployments import DeploymentsAPI
    from unkey_deploy.imageref import parse_image_argument
    from unkey_deploy.pipeline import Target, deploy_image, deployment_request, open_client, summary
    from unkey_deploy.report import close_reporter, make_reporter
    from unkey_deploy.source import detect_source

    if image and Path(image).is_dir() and not _looks_like_image(image):
        context, image, build = Path(image), None, True  # a directory argument means "build this directory"
    if not image and not build:
        raise UsageError("docker image is required: unkey deploy IMAGE --project=... (e.g. ghcr.io/acme/api:v1.0.0)")
    if not project:
        raise UsageError("--project is required: pass --project or set UNKEY_PROJECT")
    from unkey_deploy.api.deployments import TARGET_FLAGS, target_slugs
    from unkey_deploy.cli.api_flags import build as check_flags

    check_flags(lambda: target_slugs(project, app_, env), TARGET_FLAGS)
    if image:
        checked = str(parse_image_argument(image))  # a file here is not an image: say --build
        image = image if build else checked
    if context is not None and not build:
        raise UsageError("--context needs --build (or pass the directory as the argument)")

    human = sys.stdout if output is Output.text else sys.stderr
    reporter = make_reporter(human, verbose=verbose)
    source_dir = (context or Path(".")).resolve()
    source = detect_source(source_dir if build else Path.cwd(), branch=branch, commit=commit)
    api_url, key = ("(dry run)", "") if dry_run else resolve_target_api(local, root_key, api_base_url, config, reporter)
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
                local=local, dry_run=dry_run,
            )  # fmt: skip
            prepared = prepare_build(settings, source)
            print_header(human, source, prepared.ref)
            if dry_run:
                print_dry_run(human, prepared.plan, prepared.request)
                print_dry_run_request(human, deployment_request(target, source, prepared.ref), target)
            image = run_build(prepared, reporter).ref
            if dry_run:
                print(f"\nBuilt {image} locally; nothing was pushed or deployed.", file=human)
                return
        assert image is not None
        if not build:
            print_header(human, source, image)
            if dry_run:
                print_dry_run_request(human, deployment_request(target, source, image), target)
                return
        client = open_client(api_url, key, reporter)
        client.set_deadline(timeout)  # no answer, slow body or Retry-After outlives --timeout
        deployments = DeploymentsAPI(client, target.family, on_fallback=reporter.warn)
        try:
            outcome = deploy_image(deployments, deployment_request(target, source, image), target, reporter)
            log_tail = _crash_log_tail(client, outcome)
        finally:
            client.close()
    finally:
        close_reporter(reporter)
    finish(summary(target, source, image, outcome), outcome, output, human, log_tail)


def _crash_log_tail(client: Any, outcome: Outcome) -> list[str]:
    """The last runtime log lines of a deployment that did not become ready (empty when it did)."""
    if outcome.ready:
        return []
    from unkey_deploy.cli.logs import recent_lines

    return recent_lines(client, outcome.deployment_id)


def finish(result: dict[str, Any], outcome: Outcome, output: Output, human: Any,
           log_tail: list[str] | None = None) -> None:
    """The end of a deploy: CI outputs and job summary, the summary or JSON, the exit status."""
    from unkey_deploy.pipeline import raise_if_failed
    from unkey_deploy.report.ci import publish_result

    publish_result(result, outcome.state)  # no-op outside CI
    if output is Output.json:
        print(json.dumps(result, indent=2))
    elif outcome.ready:
        print_summary(human, result)
    try:
        raise_if_failed(outcome)
    except UnkeyError as exc:
        if log_tail:
            exc.details.extend([f"last {len(log_tail)} runtime log lines (`unkey logs {outcome.deployment_id}`):",
                                *(f"  {line}" for line in log_tail)])
        raise


def _looks_like_image(text: str) -> bool:
    """`ghcr.io/acme/api:v1` is an image even if a directory of that name happens to exist; `.` and
    `apps/api` are directories."""
    return ":" in text or "@" in text


def resolve_target_api(
    local: bool, root_key: str | None, api_url: str | None, config: Path | None, reporter: Reporter
) -> tuple[str, str]:
    """(API URL, root key) for the hosted API, or for the local control plane with --local."""
    from unkey_deploy.config import resolve_api_url, resolve_root_key

    if local:
        from unkey_deploy.local import ensure_running

        endpoint = ensure_running(api_url, reporter=reporter, root_key=root_key)
        return endpoint.url, endpoint.root_key
    creds = resolve_root_key(root_key, config)
    assert creds is not None
    return resolve_api_url(api_url, config), creds.root_key


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
    print("\n".join(lines), file=stream, flush=True)


def register(app: typer.Typer) -> None:
    app.command("deploy", help=HELP, no_args_is_help=False)(deploy)
