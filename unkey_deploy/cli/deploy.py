"""`unkey deploy`: deploy a pre-built image (or, with --build, build and push it first) and watch it go live."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli import options
from unkey_deploy.cli._build_flags import BuildFlags, build_flags
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import EXIT_CODES_HELP, UsageError


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


@build_flags
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
    timeout: options.DeployTimeout = 600,
    output: options.ResultOutput = Output.text,
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
    build_flags: BuildFlags = BuildFlags(),
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
    from functools import cache

    from unkey_deploy.cli import _deploy as flow
    from unkey_deploy.config import ProjectConfig, project_directories
    from unkey_deploy.imageref import parse_image_argument
    from unkey_deploy.pipeline import Target
    from unkey_deploy.report import make_reporter
    from unkey_deploy.source import detect_source

    if image and Path(image).is_dir() and not _looks_like_image(image):
        context, image, build = Path(image), None, True  # a directory argument means "build this directory"
    if git and (image or build):
        raise UsageError("--git deploys what the platform builds from the app's repository: leave out IMAGE and "
                         "--build")
    if not image and not build and not git:
        raise UsageError("docker image is required: unkey deploy IMAGE --project=... (e.g. ghcr.io/acme/api:v1.0.0)")
    # unkey.yaml is read once, when first needed: with --build the app's (else the repository root's), else the
    # working directory's; project/app, checks and environment settings come only from the app's own directory.
    app_dir = (context or Path(".")) / (root_dir or "") if build else Path.cwd()
    directories = tuple(project_directories(context or Path("."), root_dir) if build else [Path.cwd()])
    project_file = cache(lambda: ProjectConfig.find(directories))

    def app_config() -> ProjectConfig:
        return project_file().only_in(app_dir)

    if not project or app_ == "default":  # `project:` and `app:` of unkey.yaml (written by `unkey init`)
        from unkey_deploy.api.settings_check import checked_settings

        code = checked_settings(app_config())
        project, app_ = project or code.project, app_ if app_ != "default" else code.app or app_
    if not project:
        raise UsageError("--project is required: pass --project or set UNKEY_PROJECT")
    from unkey_deploy.api.deployments import TARGET_FLAGS, target_slugs
    from unkey_deploy.cli.api_flags import build as check_flags

    check_flags(lambda: target_slugs(project, app_, env), TARGET_FLAGS)
    human = sys.stdout if output is Output.text else sys.stderr
    if git:
        from unkey_deploy.cli._git_deploy import run as deploy_from_git

        return deploy_from_git((project, app_, env), branch=branch, commit=commit, local=local, root_key=root_key,
                               api_base_url=api_base_url, config=config, timeout=timeout, output=output,
                               human=human, project=app_config)  # fmt: skip
    if image:
        checked = str(parse_image_argument(image))  # a file here is not an image: say --build
        image = image if build else checked
    if context is not None and not build:
        raise UsageError("--context needs --build (or pass the directory as the argument)")

    source_dir = (context or Path(".")).resolve()
    checks = flow.check_settings(check or [], check_status, check_timeout, check_interval, check_header or [],
                                 app_config())  # fmt: skip
    if detach and (check or rollback_on_failure):
        raise UsageError("--detach does not wait, so it cannot run --check or --rollback-on-failure; "
                         "drop one, or follow the deployment with `unkey deployments wait ID`")  # fmt: skip
    if detach:
        checks = None  # a detached deploy does not run the checks of unkey.yaml
    context_limit = _parse_max_context(max_context) if build else None
    reporter = make_reporter(human, verbose=verbose)
    source = detect_source(source_dir if build else Path.cwd(), branch=branch, commit=commit)
    target = Target(project, app_, env, keyspace_id, api.value, timeout)
    build_settings = None
    if build:
        build_settings = build_flags.settings(
            source_dir, read_password=True, image=image, registry=registry, root_dir=root_dir, dockerfile=dockerfile,
            local=local, dry_run=dry_run, max_context=context_limit,
        )
    flow.deploy(
        flow.Deploy(target, source, image, build_settings, project_file(), app_config(), checks,
                    rollback_on_failure=rollback_on_failure, detach=detach, dry_run=dry_run, set_port=set_port),
        common.ApiAccess(root_key, api_base_url, config, local), reporter, output, human,
    )


def _parse_max_context(text: str) -> int:
    from unkey_deploy.image.context_size import parse_size

    return parse_size(text, "--max-context")


def _looks_like_image(text: str) -> bool:
    """`ghcr.io/acme/api:v1` is an image even if a directory of that name happens to exist; `.` and
    `apps/api` are directories."""
    return ":" in text or "@" in text


def register(app: typer.Typer) -> None:
    app.command("deploy", help=HELP, no_args_is_help=False)(deploy)
