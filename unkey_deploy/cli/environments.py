"""`unkey environments`: list and show an app's environments, show and change their settings, and apply the
settings written in `unkey.yaml` (`environments.listEnvironments`, `getEnvironment`, `updateSettings`).

Every change is computed against the environment's current settings first: only the fields that differ are
sent, and the difference is printed (`--dry-run` prints it and sends nothing).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli._env_settings import LABELS, apply_domains, apply_settings, show_value
from unkey_deploy.cli._settings import NONE_WORDS, command_words, parse_healthcheck, parse_region
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import UsageError

environments_app = typer.Typer(
    name="environments",
    help="An app's environments and their settings: port, health check, CPU, memory, command, build.\n\n"
    "\b\n"
    "Examples:\n"
    "  unkey environments list --project acme --app api\n"
    "  unkey environments settings --project acme --app api --env production\n"
    "  unkey environments set --project acme --app api --env production --port 3000 --healthcheck GET:/healthz\n"
    "  unkey environments apply --project acme --app api --dry-run   # settings from unkey.yaml",
    no_args_is_help=True,
    rich_markup_mode=None,
)

FLAGS = {
    "project": "--project", "app": "--app", "environment": "--env", "port": "--port", "vCpus": "--cpu",
    "memoryMib": "--memory", "storageMib": "--storage", "command": "--command", "healthcheck": "--healthcheck",
    "dockerfile": "--dockerfile", "rootDirectory": "--root-dir", "buildCommand": "--build-command",
    "watchPaths": "--watch-path", "autoDeploy": "--auto-deploy", "shutdownSignal": "--shutdown-signal",
    "upstreamProtocol": "--protocol", "regions": "--region", "openapiSpecPath": "--openapi-path",
}
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Print the changes; send nothing.")]


def _names(project: str | None, app: str, env: str) -> tuple[str, str, str]:
    names = (common.require_project(project), app, env)
    common.check_flags("environments.getEnvironment",
                       {"project": names[0], "app": names[1], "environment": names[2]}, FLAGS)
    return names


# list / get / settings


@common.api_command
def list_environments(
    project: common.ProjectOption = None,
    app_: common.AppOption = "default",
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI

    project_slug = common.require_project(project)
    common.check_flags("environments.listEnvironments", {"project": project_slug, "app": app_}, FLAGS)
    with access.client() as client:
        found = PlatformAPI(client).environments(project_slug, app_)
    if fmt is Output.json:
        common.print_json(found)
        return
    rows = []
    for env in found:
        runtime: dict[str, Any] = env["runtime"] if isinstance(env.get("runtime"), dict) else {}
        rows.append([str(env.get("slug", "")), str(env.get("kind", "")), show_value("port", runtime.get("port")),
                     show_value("vCpus", runtime.get("vCpus")), show_value("memoryMib", runtime.get("memoryMib")),
                     show_value("healthcheck", runtime.get("healthcheck")), str(env.get("id", ""))])
    print(common.table(["SLUG", "KIND", "PORT", "CPU", "MEMORY", "HEALTH CHECK", "ID"], rows))


@common.api_command
def show_settings(
    where: common.Where = common.Where(),
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI, current_settings

    names = _names(where.project, where.app, where.env)
    with access.client() as client:
        found = PlatformAPI(client).environment(*names)
    if fmt is Output.json:
        common.print_json(found)
        return
    settings = current_settings(found)
    print(common.fields([
        ("Environment", "/".join(names)), ("Kind", found.get("kind")), ("ID", found.get("id")),
        *[(label, show_value(name, settings.get(name))) for name, label in LABELS.items()],
    ]))


# set


@common.api_command
def set_settings(
    env: Annotated[str, typer.Option("--env", envvar="UNKEY_ENV", metavar="SLUG", show_default=False,
                                     help="Environment slug or ID (required).")],
    port: Annotated[int | None, typer.Option("--port", help="The port the app listens on (it gets $PORT).")] = None,
    healthcheck: Annotated[str | None, typer.Option(
        "--healthcheck", metavar="METHOD:PATH", help="Health check, e.g. GET:/healthz; 'none' removes it.")] = None,
    cpu: Annotated[float | None, typer.Option("--cpu", help="vCPUs per instance, a multiple of 0.25.")] = None,
    memory: Annotated[int | None, typer.Option("--memory", help="Memory per instance in MiB, a multiple of 256.")
                      ] = None,
    storage: Annotated[int | None, typer.Option("--storage", help="Ephemeral disk in MiB, a multiple of 512.")] = None,
    command: Annotated[str | None, typer.Option(
        "--command", metavar="COMMAND", help="Start command (shell words); '' uses the image's own.")] = None,
    dockerfile: Annotated[str | None, typer.Option(
        "--dockerfile", metavar="PATH", help="Dockerfile for platform builds; 'none' to detect it.")] = None,
    root_dir: Annotated[str | None, typer.Option("--root-dir", metavar="DIR", help="App directory in the repository.")
                        ] = None,
    build_command: Annotated[str | None, typer.Option(
        "--build-command", metavar="COMMAND", help="Build command for platform builds; 'none' removes it.")] = None,
    watch_path: Annotated[list[str] | None, typer.Option(
        "--watch-path", metavar="GLOB", help="Only changes under these paths trigger a deploy (repeatable).")] = None,
    auto_deploy: Annotated[bool | None, typer.Option(
        "--auto-deploy/--no-auto-deploy", help="Deploy on every push to the connected repository.",
        show_default=False)] = None,
    shutdown_signal: Annotated[str | None, typer.Option(
        "--shutdown-signal", metavar="SIGNAL", help="SIGTERM, SIGINT, SIGQUIT or SIGKILL.")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", metavar="PROTOCOL", help="http1 or h2c.")] = None,
    region: Annotated[list[str] | None, typer.Option(
        "--region", metavar="NAME[:MIN-MAX]", help="Run in this region, with MIN to MAX replicas (repeatable).")
    ] = None,
    dry_run: DryRunOption = False,
    project: common.ProjectOption = None,
    app_: common.AppOption = "default",
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    names = _names(project, app_, env)
    wanted: dict[str, Any] = {}
    simple = {"port": port, "vCpus": cpu, "memoryMib": memory, "storageMib": storage, "rootDirectory": root_dir,
              "autoDeploy": auto_deploy, "shutdownSignal": shutdown_signal, "upstreamProtocol": protocol}
    wanted.update({k: v for k, v in simple.items() if v is not None})
    if healthcheck is not None:
        wanted["healthcheck"] = parse_healthcheck(healthcheck)
    if command is not None:
        wanted["command"] = command_words(command)
    for name, value in (("dockerfile", dockerfile), ("buildCommand", build_command)):
        if value is not None:
            wanted[name] = None if value.strip().lower() in NONE_WORDS else value
    if watch_path:
        wanted["watchPaths"] = watch_path
    if region:
        wanted["regions"] = [parse_region(item) for item in region]
    if not wanted:
        raise UsageError("nothing to set: pass at least one setting, e.g. --port 3000 or --healthcheck GET:/healthz")
    common.check_flags("environments.updateSettings",
                       {"project": names[0], "app": names[1], "environment": names[2], **wanted}, FLAGS)
    with access.client() as client:
        from unkey_deploy.api.platform import PlatformAPI

        result = apply_settings(PlatformAPI(client), names, wanted, dry_run=dry_run, fmt=fmt)
    if fmt is Output.json:
        common.print_json(result)


# apply


@common.api_command
def apply(
    directory: Annotated[Path, typer.Argument(metavar="[DIR]", help="Directory holding unkey.yaml.")] = Path("."),
    env: Annotated[str | None, typer.Option("--env", envvar="UNKEY_ENV", metavar="SLUG",
                                            help="Only this environment [default: every one in unkey.yaml].")] = None,
    dry_run: DryRunOption = False,
    project: common.ProjectOption = None,
    app_: Annotated[str | None, typer.Option("--app", envvar="UNKEY_APP", metavar="SLUG",
                                             help="App slug [default: app: in unkey.yaml, then default].")] = None,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.platform import PlatformAPI
    from unkey_deploy.api.settings_check import load_settings

    code = load_settings(directory)
    if code.path is None:
        raise UsageError(f"no unkey.yaml in {directory}: write an `environments:` section there first "
                         "(see `unkey environments apply --help`)")
    targets = code.environments
    if env is not None:
        if env not in targets:
            raise UsageError(f"{code.path} has no settings for environment {env!r} "
                             f"(it has: {', '.join(targets) or 'none'})")
        targets = {env: targets[env]}
    if not targets:
        raise UsageError(f"{code.path} has no `environments:` section: nothing to apply")
    project_slug = common.require_project(project or code.project)
    app_slug = app_ or code.app or "default"
    results = []
    with access.client() as client:
        api = PlatformAPI(client)
        for name, wanted in targets.items():
            names = _names(project_slug, app_slug, name)
            result = apply_settings(api, names, wanted.settings, dry_run=dry_run, fmt=fmt)
            human = sys.stdout if fmt is Output.text else sys.stderr
            result["domainsAdded"] = apply_domains(api, names, wanted.domains, dry_run=dry_run, human=human)
            results.append(result)
    if fmt is Output.json:
        common.print_json(results)


def register(app: typer.Typer) -> None:
    common.add_commands(app, environments_app, [
        ("list", "List an app's environments with their main settings.", list_environments),
        ("get", "Show an environment and its settings (as `settings`).", show_settings),
        ("settings", "Show an environment's settings: runtime, build and regions.", show_settings),
        ("set",
         "Change an environment's settings. Only the settings given, and only those that differ from the "
         "current ones, are sent; the difference is printed (--dry-run: printed only). They apply to the "
         "environment's next deployment.\n\n"
         "\b\nExamples:\n"
         "  unkey environments set --project acme --app api --env production --port 3000\n"
         "  unkey environments set --project acme --env preview --cpu 0.5 --memory 512 --healthcheck GET:/healthz\n"
         "  unkey environments set --project acme --env production --command 'node server.js'",
         set_settings),
        ("apply",
         "Apply the `environments:` settings of unkey.yaml: each environment's settings are compared with "
         "the current ones and only the differences sent, after printing them (--dry-run: printed only).\n\n"
         "\b\nunkey.yaml:\n"
         "  project: acme\n"
         "  app: api\n"
         "  environments:\n"
         "    production:\n"
         "      port: 3000\n"
         "      healthcheck: {method: GET, path: /healthz}\n"
         "      cpu: 0.5\n"
         "      memory: 512",
         apply),
    ])
