"""`unkey deploy`: deploy a pre-built image (or, with --build, build it first) and watch it go live."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from unkey_deploy.errors import EXIT_CODES_HELP, UsageError
from unkey_deploy.report import Reporter


class Output(StrEnum):
    text = "text"
    json = "json"


class ApiFamily(StrEnum):
    deploy = "deploy"
    deployments = "deployments"


HELP = f"""Deploy a Docker image to Unkey and wait until it is ready.

IMAGE is a fully qualified reference (registry/repository:tag or @sha256:...). The command creates the
deployment, shows its progress live, and ends with the deployment ID, status and domains.

\b
Examples:
  unkey deploy ghcr.io/acme/api:v1.0.0 --project=acme --app=api --env=production
  UNKEY_PROJECT=acme unkey deploy ghcr.io/acme/api:$GITHUB_SHA --output=json
  unkey deploy ghcr.io/acme/api:v1 --project=acme --local     # on the local control plane

{EXIT_CODES_HELP}
"""


def deploy(
    image: Annotated[str | None, typer.Argument(help="Image to deploy, e.g. ghcr.io/acme/api:v1.0.0.")] = None,
    project: Annotated[str | None, typer.Option(envvar="UNKEY_PROJECT", help="Project slug (required).")] = None,
    app_: Annotated[str, typer.Option("--app", envvar="UNKEY_APP", help="App slug within the project.")] = "default",
    env: Annotated[str, typer.Option("--env", envvar="UNKEY_ENV", help="Environment slug.")] = "preview",
    branch: Annotated[str | None, typer.Option(envvar="UNKEY_BRANCH", help="Git branch (default: detected).")] = None,
    commit: Annotated[
        str | None, typer.Option(envvar="UNKEY_COMMIT", help="Git commit SHA [default: detected].")
    ] = None,
    keyspace_id: Annotated[str | None, typer.Option(envvar="UNKEY_KEYSPACE_ID", help="Keyspace ID.")] = None,
    root_key: Annotated[
        str | None, typer.Option(envvar="UNKEY_ROOT_KEY", help="Root key [default: root_key in the config file]."),
    ] = None,
    api_base_url: Annotated[
        str | None,
        typer.Option(
            "--api-base-url", "--api-url", envvar="UNKEY_API_BASE_URL", help="API URL [default: https://api.unkey.com]."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(envvar="UNKEY_CONFIG", help="Config file [default: ~/.unkey/config.toml].")
    ] = None,
    timeout: Annotated[float, typer.Option(envvar="UNKEY_TIMEOUT", help="Seconds to wait for READY.", min=1)] = 600,
    output: Annotated[Output, typer.Option(help="text, or json: one JSON object on stdout at the end.")] = Output.text,
    local: Annotated[bool, typer.Option("--local", help="Use the local control plane (`unkey local`).")] = False,
    api: Annotated[
        ApiFamily, typer.Option("--api", envvar="UNKEY_DEPLOY_API", help="Endpoint family: deploy or deployments.")
    ] = ApiFamily.deploy,
    verbose: Annotated[bool, typer.Option("--verbose", "--debug", help="Show more detail.")] = False,
) -> None:
    from unkey_deploy.api._client import Client
    from unkey_deploy.api.deployments import DeploymentsAPI
    from unkey_deploy.imageref import parse_image
    from unkey_deploy.pipeline import Target, deploy_image, deployment_request, raise_if_failed, summary
    from unkey_deploy.report import close_reporter, make_reporter
    from unkey_deploy.report.ci import publish_result
    from unkey_deploy.source import detect_source

    if not image:
        raise UsageError("docker image is required: unkey deploy IMAGE --project=... (e.g. ghcr.io/acme/api:v1.0.0)")
    if not project:
        raise UsageError("--project is required: pass --project or set UNKEY_PROJECT")
    ref = str(parse_image(image))
    human = sys.stdout if output is Output.text else sys.stderr
    reporter = make_reporter(human, verbose=verbose)
    api_url, key = resolve_target_api(local, root_key, api_base_url, config, reporter)
    target = Target(project, app_, env, api_url, key, keyspace_id, api.value, timeout)
    source = detect_source(Path.cwd(), branch=branch, commit=commit)
    print_header(human, source, ref)
    client = Client(api_url, key, on_retry=lambda exc, wait: reporter.warn(f"{exc.message}; retrying in {wait:.1f}s"))
    deployments = DeploymentsAPI(client, target.family, on_fallback=reporter.warn)
    try:
        outcome = deploy_image(deployments, deployment_request(target, source, ref), target, reporter)
    finally:
        close_reporter(reporter)
        client.close()
    result = summary(target, source, ref, outcome)
    publish_result(result, outcome.state)  # CI outputs and job summary; no-op outside CI
    if output is Output.json:
        print(json.dumps(result, indent=2))
    elif outcome.ready:
        print_summary(human, result, source)
    raise_if_failed(outcome)


def resolve_target_api(
    local: bool, root_key: str | None, api_url: str | None, config: Path | None, reporter: Reporter
) -> tuple[str, str]:
    """(API URL, root key) for the hosted API, or for the local control plane with --local."""
    from unkey_deploy.config import resolve_api_url, resolve_root_key

    if local:
        from unkey_deploy.local import ensure_running

        endpoint = ensure_running(api_url, reporter=reporter)
        return endpoint.url, root_key or endpoint.root_key
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


def print_summary(stream: Any, result: dict[str, Any], source: Any) -> None:
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
        f"    Duration: {result['durationMs'] / 1000:.1f}s",
        "",
        "Domains",
        *(f"    {url}" for url in result["urls"]),
    ]
    if not result["urls"]:
        lines.append("    (none assigned)")
    print("\n".join(lines), file=stream, flush=True)


def register(app: typer.Typer) -> None:
    app.command("deploy", help=HELP, no_args_is_help=False)(deploy)
