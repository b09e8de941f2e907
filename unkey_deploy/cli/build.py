"""`unkey build`: build the app's image with BuildKit (and optionally push it), without deploying."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from unkey_deploy.errors import EXIT_CODES_HELP, Interrupted, UsageError

if TYPE_CHECKING:
    from unkey_deploy.image.build import BuildRequest
    from unkey_deploy.image.secrets import BuildVariables
    from unkey_deploy.plan import Plan


class Output(StrEnum):
    text = "text"
    json = "json"


HELP = f"""Build the app's image (and push it with --push), without deploying.

Uses the app's Dockerfile, or generates one from the detected language. Build variables reach the build
only as the BuildKit secret UNKEY_SECRETS_ID (a .env file at /run/secrets/.env), never as layers.
IMAGE defaults to `image:` from unkey.yaml (or the directory's name) tagged with the git short SHA.

\b
Examples:
  unkey build
  unkey build . -t ghcr.io/acme/api:v1 --push
  unkey build apps/api --var NPM_TOKEN --env-file .env.build --dry-run
  unkey build --builder remote-buildkit --cache-from type=registry,ref=ghcr.io/acme/api:cache
  echo "$TOKEN" | unkey build -t registry.acme.dev/api:v1 --push --registry-username ci --registry-password-stdin

{EXIT_CODES_HELP}
"""


def register(app: typer.Typer) -> None:
    app.command("build", help=HELP)(build_command)


def build_command(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The app's source directory (the build context).")
    ] = Path("."),
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", metavar="IMAGE", help="Image to build, e.g. ghcr.io/acme/api:v1.")
    ] = None,
    push: Annotated[bool, typer.Option("--push", help="Push the image after building it.")] = False,
    root_dir: Annotated[
        str | None,
        typer.Option(
            "--root-dir", metavar="DIR", help="The app's directory inside PATH, for monorepos (e.g. apps/api)."
        ),
    ] = None,
    dockerfile: Annotated[
        Path | None, typer.Option("--dockerfile", metavar="PATH", help="Build with this Dockerfile.")
    ] = None,
    env_file: Annotated[
        list[Path] | None,
        typer.Option("--env-file", metavar="FILE", help="Build variables from a dotenv file (repeatable)."),
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            metavar="KEY[=VALUE]",
            help="Build variable KEY=VALUE, or KEY to take it from the environment (repeatable).",
        ),
    ] = None,
    build_arg: Annotated[
        list[str] | None,
        typer.Option(
            "--build-arg", metavar="KEY=VALUE", help="Docker build argument KEY=VALUE (repeatable; not secret)."
        ),
    ] = None,
    platform: Annotated[str, typer.Option("--platform", metavar="OS/ARCH", help="Target platform.")] = "linux/amd64",
    cache_from: Annotated[
        list[str] | None, typer.Option("--cache-from", metavar="SPEC", help="External cache source.")
    ] = None,
    cache_to: Annotated[
        list[str] | None, typer.Option("--cache-to", metavar="SPEC", help="Cache export (needs buildx).")
    ] = None,
    builder: Annotated[
        str | None,
        typer.Option(
            "--builder", metavar="NAME", envvar="UNKEY_BUILDER", help="buildx builder, e.g. a remote BuildKit."
        ),
    ] = None,
    docker_bin: Annotated[
        str | None,
        typer.Option(
            "--docker-bin", metavar="PATH", envvar="UNKEY_DOCKER_BIN", help="The docker client to build with."
        ),
    ] = None,
    registry_username: Annotated[
        str | None,
        typer.Option("--registry-username", metavar="USER", envvar="UNKEY_REGISTRY_USERNAME", help="Registry user."),
    ] = None,
    registry_password_stdin: Annotated[
        bool, typer.Option("--registry-password-stdin", help="Read the registry password from stdin.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan, the Dockerfile and the build; build locally, never push.")
    ] = False,
    output: Annotated[Output, typer.Option("--output", "-o", help="text, or json: one object on stdout.")] = (
        Output.text
    ),
    verbose: Annotated[bool, typer.Option("--verbose", "--debug", help="Show every build log line.")] = False,
) -> None:
    from unkey_deploy.image.build import build_image
    from unkey_deploy.image.push import RegistryAuth, push_image, registry_of
    from unkey_deploy.imageref import parse_image
    from unkey_deploy.plan import make_plan
    from unkey_deploy.report import close_reporter, make_reporter

    plan = make_plan(path, root_dir=root_dir, dockerfile=dockerfile)
    variables = collect_variables(plan, env_file or [], var or [])
    ref = str(parse_image(tag)) if tag else default_image(plan)
    auth = None
    if push and not dry_run:
        password = read_password_stdin() if registry_password_stdin else None
        auth = RegistryAuth.resolve(registry_of(parse_image(ref)), username=registry_username, password=password)
    request = build_request(plan, ref, variables, platform, build_arg or [], cache_from or [], cache_to or [],
                            builder, docker_bin)  # fmt: skip
    human = sys.stdout if output is Output.text else sys.stderr
    if dry_run:
        print_dry_run(human, plan, request)
    reporter = make_reporter(sys.stderr, verbose=verbose)
    stage = "build"
    try:
        built = build_image(request, reporter)
        stage = "push"
        pushed = push_image(ref, auth, reporter) if push and not dry_run else None
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted during the {stage}; the build variables' temp file is removed") from None
    finally:
        close_reporter(reporter)
    result: dict[str, Any] = {**built.to_json(), "variables": variables.to_json(), "pushed": None}
    if pushed:
        result["pushed"] = pushed.to_json()
    if output is Output.json:
        print(json.dumps(result, indent=2))
    else:
        print(pushed.ref_with_digest if pushed else built.ref)


def collect_variables(plan: Plan, env_files: list[Path], var_flags: list[str]) -> BuildVariables:
    """unkey.yaml `variables:` < --env-file < --var; a bad name fails here, before anything runs."""
    from unkey_deploy.image.secrets import BuildVariables, parse_config_variables

    config, config_path = _project_config(plan)
    raw = config.get("variables") or {}
    layer = parse_config_variables(raw, str(config_path)) if config_path else {}
    return BuildVariables.collect(config=layer, env_files=env_files, var_flags=var_flags)


def default_image(plan: Plan) -> str:
    from unkey_deploy.image.naming import default_ref
    from unkey_deploy.imageref import parse_image
    from unkey_deploy.source import detect_source

    config, config_path = _project_config(plan)
    repository = config.get("image")
    if repository is not None and not isinstance(repository, str):
        raise UsageError(f"{config_path}: `image` must be a repository such as ghcr.io/acme/api")
    if repository:
        repository = parse_image(repository).repository
    return default_ref(repository, plan.app_dir, detect_source(plan.app_dir))


def build_request(
    plan: Plan,
    ref: str,
    variables: BuildVariables,
    platform: str,
    build_args: list[str],
    cache_from: list[str],
    cache_to: list[str],
    builder: str | None,
    docker_bin: str | None,
) -> BuildRequest:
    from unkey_deploy.image.build import BuildRequest

    args: dict[str, str] = {}
    for item in build_args:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--build-arg {item!r} is not KEY=VALUE")
        if name == "UNKEY_SECRETS_ID":
            raise UsageError("--build-arg UNKEY_SECRETS_ID is set by unkey from the build variables; drop it")
        args[name] = value
    common: dict[str, Any] = {
        "context": plan.context_dir, "tag": ref, "variables": variables, "platform": platform, "build_args": args,
        "cache_from": tuple(cache_from), "cache_to": tuple(cache_to), "builder": builder, "docker_bin": docker_bin,
    }  # fmt: skip
    if not plan.generated:
        return BuildRequest(dockerfile=plan.dockerfile_path, **common)
    from unkey_deploy.dockerfile import render

    rendered = render(plan)
    return BuildRequest(dockerfile_text=rendered.dockerfile, dockerignore_text=rendered.dockerignore, **common)


def print_dry_run(stream: Any, plan: Plan, request: BuildRequest) -> None:
    from unkey_deploy.cli.plan import format_plan

    print(format_plan(plan), file=stream)
    if request.dockerfile_text is not None:
        print("\nDockerfile (generated):\n", file=stream)
        print(request.dockerfile_text.rstrip("\n"), file=stream)
    print("\nBuild:", file=stream)
    print(json.dumps(request.to_json(), indent=2), file=stream)
    print("\nDry run: building locally; nothing is pushed.", file=stream, flush=True)


def read_password_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("--registry-password-stdin reads the password from stdin; pipe it in, e.g. `echo $PW | ...`")
    password = sys.stdin.read().rstrip("\r\n")
    if not password:
        raise UsageError("--registry-password-stdin: stdin was empty; pipe the registry password in")
    return password


def _project_config(plan: Plan) -> tuple[dict[str, Any], Path | None]:
    from unkey_deploy.config import load_project_config

    for directory in dict.fromkeys([plan.app_dir, plan.root or plan.app_dir]):
        config, path = load_project_config(directory)
        if path is not None:
            return config, path
    return {}, None
