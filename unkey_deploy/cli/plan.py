"""`unkey plan` and `unkey dockerfile`: what the app is, and the Dockerfile that builds it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from unkey_deploy.errors import UsageError

PATH_ARG = typer.Argument(Path("."), help="The app's source directory (or the repository root with --root-dir).")
ROOT_DIR = typer.Option(None, "--root-dir", help="The app's directory inside PATH, for monorepos (e.g. apps/api).")

PLAN_HELP = """Show how the app would be built: language, package manager, framework, versions and commands.

Examples:

  unkey plan

  unkey plan . --root-dir apps/api --output json

  unkey plan ../shop --dockerfile docker/Dockerfile.prod
"""

DOCKERFILE_HELP = """Print the Dockerfile (and .dockerignore) the build would use, or write them to eject and edit.

Examples:

  unkey dockerfile

  unkey dockerfile --root-dir apps/web --write

  unkey dockerfile --write --force   # replace an existing Dockerfile
"""


def register(app: typer.Typer) -> None:
    app.command("plan", help=PLAN_HELP)(plan_command)
    app.command("dockerfile", help=DOCKERFILE_HELP)(dockerfile_command)


def plan_command(
    path: Path = PATH_ARG,
    root_dir: str | None = ROOT_DIR,
    output: str = typer.Option("text", "--output", "-o", help="text or json."),
    dockerfile: Path | None = typer.Option(None, "--dockerfile", help="Build with this Dockerfile instead."),
) -> None:
    if output not in ("text", "json"):
        raise UsageError(f"--output {output} is not supported; use --output text or --output json")
    from unkey_deploy.plan import make_plan
    from unkey_deploy.report.plan import format_plan

    plan = make_plan(path, root_dir=root_dir, dockerfile=dockerfile)
    if output == "json":
        print(json.dumps(plan.to_json(), indent=2))
    else:
        print(format_plan(plan))


def dockerfile_command(
    path: Path = PATH_ARG,
    root_dir: str | None = ROOT_DIR,
    write: bool = typer.Option(False, "--write", help="Write Dockerfile and .dockerignore instead of printing."),
    force: bool = typer.Option(False, "--force", help="With --write: replace existing files."),
) -> None:
    from unkey_deploy.dockerfile import render
    from unkey_deploy.plan import make_plan

    if force and not write:
        raise UsageError("--force only applies with --write")
    plan = make_plan(path, root_dir=root_dir, ignore_dockerfile=force)
    if not plan.generated:
        raise UsageError(
            f"{plan.dockerfile_path} already exists and is used as is; "
            "pass --write --force to replace it with a generated one"
        )
    rendered = render(plan)
    if not write:
        print(rendered.dockerfile, end="")
        print("\n# ---- .dockerignore ----")
        print(rendered.dockerignore, end="")
        return
    targets = {plan.context_dir / "Dockerfile": rendered.dockerfile,
               plan.context_dir / ".dockerignore": rendered.dockerignore}
    existing = [str(target) for target in targets if target.exists()]
    if existing and not force:
        raise UsageError(f"{', '.join(existing)} already exists; pass --force to overwrite")
    for target, text in targets.items():
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
