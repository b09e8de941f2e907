"""`unkey init`: set an app directory up for Unkey.

Detects the app (`unkey plan`), takes the project and app (flags, unkey.yaml, a prompt, or defaults with
--yes), creates them through the API when they do not exist, and writes `unkey.yaml` (project, app, the
detected port and health check) and a GitHub Actions workflow that deploys on every push to the default branch.
An existing file is never replaced without --force, so running it twice changes nothing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import EXIT_CODES_HELP, NotFoundError, UnkeyError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.platform import PlatformAPI

WORKFLOW = Path(".github/workflows/unkey-deploy.yml")
DEFAULT_ACTION = "your-org/unkey-deploy/.github/actions/deploy@v1"
# Health check routes, most specific first, as they appear quoted in source files.
HEALTH_PATHS = ("/healthz", "/health", "/api/health", "/_health", "/livez", "/readyz", "/ping")
SOURCE_SUFFIXES = {".js", ".mjs", ".cjs", ".ts", ".mts", ".py", ".go", ".rb", ".rs", ".java", ".kt", ".php", ".ex",
                   ".exs", ".cs", ".gleam", ".cr", ".cpp", ".cc", ".c", ".swift", ".scala", ".clj"}
SKIP_DIRS = {"node_modules", ".git", "vendor", "dist", "build", "target", ".venv", "venv", "__pycache__", ".next"}
MAX_SCANNED = 400


@common.api_command
def init(
    path: Annotated[Path, typer.Argument(metavar="[PATH]", help="The app's directory.")] = Path("."),
    project: Annotated[str | None, typer.Option("--project", envvar="UNKEY_PROJECT", metavar="SLUG",
                                                help="Project slug [default: asked; the directory's name].")] = None,
    app_: Annotated[str | None, typer.Option("--app", envvar="UNKEY_APP", metavar="SLUG",
                                             help="App slug [default: asked; default].")] = None,
    env: Annotated[str, typer.Option("--env", metavar="SLUG", help="Environment the workflow deploys to.")
                   ] = "production",
    branch: Annotated[str, typer.Option("--branch", metavar="BRANCH", help="Branch the workflow deploys.")] = "main",
    action: Annotated[str, typer.Option("--action", envvar="UNKEY_DEPLOY_ACTION", metavar="REF",
                                        help="The deploy action the workflow uses.")] = DEFAULT_ACTION,
    healthcheck: Annotated[str | None, typer.Option(
        "--healthcheck", metavar="METHOD:PATH", help="Health check [default: a /healthz-like route found].")] = None,
    no_workflow: Annotated[bool, typer.Option("--no-workflow", help="Do not write the GitHub Actions workflow.")
                           ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace files that exist and differ.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Take the defaults instead of asking (CI).")] = False,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI
    from unkey_deploy.api.settings_check import load_settings
    from unkey_deploy.cli._settings import parse_healthcheck

    directory = path.resolve()
    if not directory.is_dir():
        raise UsageError(f"{path} is not a directory: run `unkey init` in the app's directory or pass it")
    existing = load_settings(directory)
    port, plan_note = _detect_port(directory)
    check = parse_healthcheck(healthcheck) if healthcheck is not None else _detect_healthcheck(directory)
    project_slug = project or existing.project or _ask("Project slug", _slug(directory.name), yes)
    app_slug = app_ or existing.app or _ask("App slug", "default", yes)
    common.check_slugs(("--project", project_slug), ("--app", app_slug), ("--env", env))

    human = sys.stdout if fmt is Output.text else sys.stderr
    with access.client() as client:
        created = _ensure_exists(PlatformAPI(client), project_slug, app_slug, human)
    config_text = render_config(project_slug, app_slug, port, check)
    if force and existing.path is not None:  # keep the file's other settings (image, variables, build, ...)
        config_text = merge_config(existing.path, project_slug, app_slug, port, check)
    files = {"unkey.yaml": _write(directory / "unkey.yaml", config_text, force, existing_path=existing.path)}
    if not no_workflow:
        files[str(WORKFLOW)] = _write(directory / WORKFLOW,
                                      render_workflow(project_slug, app_slug, env, branch, action), force)
    if fmt is Output.json:
        common.print_json({"project": project_slug, "app": app_slug, "port": port, "healthcheck": check,
                           "created": created, "files": files})
        return
    print(plan_note, file=human)
    for name, state in files.items():
        print(f"{name}: {state}", file=human)
    if any(state.startswith("kept") for state in files.values()):
        print("Files that differ were kept: pass --force to replace them.", file=human)
    if not no_workflow and action == DEFAULT_ACTION:
        print(f"In {WORKFLOW}, replace your-org/unkey-deploy with the repository that hosts the deploy action, and "
              "add the UNKEY_ROOT_KEY secret to the repository.", file=human)
    where = " --local" if access.local else ""
    print(f"Next: unkey deploy --build{where}   (project {project_slug}, app {app_slug} come from unkey.yaml)",
          file=human)


def _ask(question: str, default: str, yes: bool) -> str:
    if yes:
        return default
    if not common.interactive():
        raise UsageError(f"{question.lower()} needed: pass --project and --app, or --yes to take the defaults "
                         "(there is no terminal to ask on)")
    answer: str = typer.prompt(question, default=default, err=True)
    return answer.strip()


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return slug if len(slug) >= 3 else f"{slug or 'app'}-app"


def _detect_port(directory: Path) -> tuple[int, str]:
    from unkey_deploy.plan import DEFAULT_PORT, make_plan

    try:
        plan = make_plan(directory)
    except UnkeyError as exc:
        return DEFAULT_PORT, f"No app detected ({exc.message}); port {DEFAULT_PORT} assumed."
    what = " ".join(part for part in (plan.framework, plan.language) if part) or "app"
    return plan.port, f"Detected a {what} app listening on port {plan.port}."


def _detect_healthcheck(directory: Path) -> dict[str, Any] | None:
    """A health route the source mentions, quoted (`"/healthz"`), most specific first."""
    found: set[str] = set()
    scanned = 0
    for file in sorted(directory.rglob("*")):
        if scanned >= MAX_SCANNED:
            break
        if file.suffix not in SOURCE_SUFFIXES or any(part in SKIP_DIRS for part in file.parts) or not file.is_file():
            continue
        scanned += 1
        try:
            text = file.read_text(encoding="utf-8", errors="ignore")[:200_000]
        except OSError:
            continue
        found.update(p for p in HEALTH_PATHS if f'"{p}"' in text or f"'{p}'" in text or f"`{p}`" in text)
    path = next((p for p in HEALTH_PATHS if p in found), None)
    return {"method": "GET", "path": path} if path else None


def _ensure_exists(api: PlatformAPI, project: str, app: str, human: Any) -> dict[str, bool]:
    created = {"project": False, "app": False}
    try:
        api.object("projects.getProject", {"project": project})
    except NotFoundError:
        api.create_project(project, project)
        created["project"] = True
        print(f"Created project {project}", file=human)
    try:
        api.object("apps.getApp", {"project": project, "app": app})
    except NotFoundError:
        api.create_app(project, app, app)
        created["app"] = True
        print(f"Created app {project}/{app} (environments production and preview)", file=human)
    return created


def render_config(project: str, app: str, port: int, check: dict[str, Any] | None) -> str:
    lines = [
        "# Settings of `unkey deploy` and `unkey environments apply` (written by `unkey init`).",
        f"project: {project}",
        f"app: {app}",
        "environments:",
    ]
    for env in ("production", "preview"):
        lines += [f"  {env}:", f"    port: {port}"]
        if check:
            lines.append(f"    healthcheck: {check['method']} {check['path']}")
    return "\n".join(lines) + "\n"


def merge_config(path: Path, project: str, app: str, port: int, check: dict[str, Any] | None) -> str:
    """`path`'s settings with the project, app, port and health check of `unkey init` set (comments are lost)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data["project"], data["app"] = project, app
    environments: dict[str, Any] = data["environments"] if isinstance(data.get("environments"), dict) else {}
    for env in ("production", "preview"):
        entry: dict[str, Any] = environments[env] if isinstance(environments.get(env), dict) else {}
        entry["port"] = port
        if check:
            entry["healthcheck"] = f"{check['method']} {check['path']}"
        environments[env] = entry
    data["environments"] = environments
    return str(yaml.safe_dump(data, sort_keys=False))


def render_workflow(project: str, app: str, env: str, branch: str, action: str) -> str:
    return f"""# Build and deploy to Unkey on every push to {branch} (written by `unkey init`).
# Needs the repository secret UNKEY_ROOT_KEY.
name: Deploy to Unkey

on:
  push:
    branches: [{branch}]
  workflow_dispatch:

permissions:
  contents: read
  packages: write

jobs:
  deploy:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - uses: {action}
        with:
          image: ghcr.io/${{{{ github.repository }}}}:${{{{ github.sha }}}}
          build: true
          project: {project}
          app: {app}
          environment: {env}
          root-key: ${{{{ secrets.UNKEY_ROOT_KEY }}}}
"""


def _write(path: Path, text: str, force: bool, existing_path: Path | None = None) -> str:
    """Write `text` unless the file (or `existing_path`, e.g. unkey.yml) holds something else and not `force`."""
    current = existing_path if existing_path is not None else path
    if current.exists():
        if current.read_text(encoding="utf-8", errors="replace") == text:
            return "unchanged"
        if not force:
            return "kept (it exists and differs)"
        path = current
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UnkeyError(f"cannot write {path}: {exc.strerror}") from None
    return "written"


def register(app: typer.Typer) -> None:
    app.command(
        "init",
        help="Set an app directory up for Unkey: detect the app, create the project and app when they do not "
        "exist, and write unkey.yaml (project, app, port, health check) and "
        ".github/workflows/unkey-deploy.yml. Existing files are kept unless --force; running it twice changes "
        "nothing. --local works against `unkey local`, without an account.\n\n"
        "\b\nExamples:\n"
        "  unkey init                                  # asks for the project and app\n"
        "  unkey init --project acme --app api --yes   # CI: no questions\n"
        "  unkey init --local --yes && unkey deploy --build --local\n\n" + EXIT_CODES_HELP,
    )(init)
