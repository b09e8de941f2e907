"""`unkey build`: build the app's image with BuildKit (and optionally push it), without deploying."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from unkey_deploy.cli import options
from unkey_deploy.cli._build_flags import BuildFlags, build_flags
from unkey_deploy.errors import EXIT_CODES_HELP

Output = options.Output


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


@build_flags
def build_command(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="The app's source directory (the build context).")
    ] = Path("."),
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", metavar="IMAGE", help="Image to build, e.g. ghcr.io/acme/api:v1.")
    ] = None,
    push: Annotated[bool, typer.Option("--push", help="Push the image after building it.")] = False,
    root_dir: options.RootDir = None,
    dockerfile: options.Dockerfile = None,
    build_flags: BuildFlags = BuildFlags(),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan, the Dockerfile and the build; build locally, never push.")
    ] = False,
    output: Annotated[Output, typer.Option("--output", "-o", help="text, or json: one object on stdout.")] = (
        Output.text
    ),
    verbose: options.Verbose = False,
    max_context: options.MaxContext = "2GB",
) -> None:
    from unkey_deploy.build_stage import prepare_build, run_build
    from unkey_deploy.image.context_size import parse_size
    from unkey_deploy.report import close_reporter, make_reporter
    from unkey_deploy.report.plan import print_build_dry_run
    from unkey_deploy.source import detect_source

    settings = build_flags.settings(
        path, read_password=push and not dry_run, image=tag, root_dir=root_dir, dockerfile=dockerfile,
        push=push and not dry_run, dry_run=dry_run, max_context=parse_size(max_context, "--max-context"),
    )
    prepared = prepare_build(settings, detect_source(path.resolve()))
    human = sys.stdout if output is Output.text else sys.stderr
    if dry_run:
        print_build_dry_run(human, prepared.plan, prepared.request)
    reporter = make_reporter(sys.stderr, verbose=verbose)
    try:
        built = run_build(prepared, reporter)
    finally:
        close_reporter(reporter)
    if output is Output.json:
        print(json.dumps({**built.to_json(), "variables": prepared.request.variables.to_json()}, indent=2))
    else:
        print(built.ref)
