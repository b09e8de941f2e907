"""What `unkey deploy` does with unkey.yaml's `environments:` settings before a deployment: apply the
differences (and the port the app listens on), or, for --dry-run, print what would be applied."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client
    from unkey_deploy.config import ProjectConfig


def before_deploy(client: Client, names: tuple[str, str, str], project: ProjectConfig, *, plan_port: int | None,
                  set_port: bool, human: TextIO) -> None:
    """What `unkey deploy` does before creating a deployment: apply the environment's settings from
    unkey.yaml (only the differences), and make sure the port the app listens on is the environment's.

    `plan_port` is the port the build's plan found (None for a pre-built image). When it is not the default
    8080 and neither unkey.yaml nor the environment says otherwise, the environment would run the app with
    PORT=8080 and health-check the wrong port: its port is set when it is still the default 8080 (or with
    `set_port`); a port the environment was given on purpose only gets a warning saying how to change it.
    """
    from unkey_deploy.api.platform import PlatformAPI, current_settings
    from unkey_deploy.api.settings_check import checked_settings
    from unkey_deploy.cli._env_settings import apply_domains, apply_settings
    from unkey_deploy.errors import APIError, NotFoundError, RouteGoneError
    from unkey_deploy.plan import DEFAULT_PORT

    code = checked_settings(project)
    wanted = dict(code.environments[names[2]].settings) if names[2] in code.environments else {}
    domains = code.environments[names[2]].domains if names[2] in code.environments else []
    port_differs = plan_port is not None and plan_port != DEFAULT_PORT
    if not wanted and not domains and not port_differs:
        return
    api = PlatformAPI(client)
    where = "/".join(names)
    try:
        current = current_settings(api.environment(*names))
    except (NotFoundError, RouteGoneError) as exc:
        if wanted or domains:
            raise UsageError(
                f"{code.path} has settings for {names[2]}, but {where} cannot be read ({exc.message}); create the "
                f"app first (`unkey apps create --project {names[0]} --slug {names[1]}`, or `unkey init`)"
            ) from None
        try:  # a control plane that makes apps on first deploy (unkey local) takes the port up front
            api.update_settings(*names, {"port": plan_port})
            print(f"Port of {common.printable(where)}: {plan_port} (the port the app listens on)", file=human)
        except APIError:
            common.warn(f"the app listens on port {plan_port}, and the port of {where} cannot be checked "
                        f"({exc.message}); make sure it is {plan_port}")
        return
    current_port = current.get("port") or DEFAULT_PORT
    if port_differs and "port" not in wanted and current_port != plan_port:
        fix = (f"pass --set-port, add `port: {plan_port}` under environments.{names[2]} in unkey.yaml, or run "
               f"`unkey environments set --port {plan_port} --project {names[0]} --app {names[1]} --env {names[2]}`")
        if set_port or current_port == DEFAULT_PORT:
            # The environment still has the platform's default port, which the app never listens on: the
            # deployment could not become healthy, so the port the app listens on is set (and shown).
            wanted["port"] = plan_port
        else:
            common.warn(f"the app listens on port {plan_port} (see `unkey plan`), but {where} runs it on port "
                        f"{current_port}, so its health check would fail: {fix}")
    try:
        if wanted:
            apply_settings(api, names, wanted, dry_run=False, fmt=Output.text, out=human)
        apply_domains(api, names, domains, dry_run=False, human=human)
    except APIError as exc:
        exc.message = f"cannot apply the settings of {where} before deploying: {exc.message}"
        raise


def print_planned_settings(project: ProjectConfig, environment: str, plan_port: int | None, human: TextIO) -> None:
    """For `unkey deploy --dry-run` (which reads nothing from the API): the settings unkey.yaml would apply to
    the environment before deploying, and a port the plan found that the settings do not name."""
    from unkey_deploy.api.settings_check import checked_settings
    from unkey_deploy.cli._env_settings import LABELS, show_value
    from unkey_deploy.plan import DEFAULT_PORT

    code = checked_settings(project)
    entry = code.environments.get(environment)
    if entry is not None and (entry.settings or entry.domains):
        print(f"\nSettings of {code.path} for {environment} (only those that differ are sent before deploying):",
              file=human)
        for name, value in entry.settings.items():
            print(f"  {LABELS.get(name, name)}: {common.printable(show_value(name, value))}", file=human)
        for domain in entry.domains:
            print(f"  Domain: {common.printable(domain)}", file=human)
    named = entry is not None and "port" in entry.settings
    if plan_port is not None and plan_port != DEFAULT_PORT and not named:
        print(f"\nThe app listens on port {plan_port}: deploying checks that the environment's port is "
              f"{plan_port} (--set-port sets it).", file=human)
