"""`unkey logs`: a deployment's runtime logs (its containers' stdout and stderr), filtered and followed.

One read-only query per fetch through `analytics.getRuntimeLogs`, built by `api.logs.build_query`. Log
lines are data from the server: control characters are shown as escapes, never sent to the terminal.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli._log_lines import format_line
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import EXIT_CODES_HELP, UnkeyError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client
    from unkey_deploy.api.logs import LogFilter, LogLine

HELP = f"""Show the runtime logs of a deployment: what its containers wrote on stdout and stderr.

Without DEPLOYMENT_ID, --project/--app/--env pick the environment's current deployment (for production the
one serving traffic, else the newest one); --all-deployments shows every deployment of the environment.
Each line shows its time (UTC), severity and message; the fields of JSON lines follow the message.
--follow keeps polling for new lines until Ctrl-C.

\b
Examples:
  unkey logs d_abc123 --since 2h --severity error,warn
  unkey logs --project=acme --app=api --env=production --grep timeout --limit 50
  unkey logs --project=acme --follow
  unkey logs d_abc123 --output json | jq .message

{EXIT_CODES_HELP}
"""

POLL_FIRST = 2.0
POLL_MAX = 10.0
FOLLOW_PAGE = 1000


@common.api_command
def logs(
    deployment_id: Annotated[
        str | None, typer.Argument(metavar="[DEPLOYMENT_ID]", show_default=False, help="Deployment ID, e.g. d_abc123.")
    ] = None,
    project: common.ProjectOption = None,
    app_: common.AppOption = "default",
    env: common.EnvOption = "preview",
    all_deployments: Annotated[
        bool, typer.Option("--all-deployments", help="Every deployment of the environment, not just its current one.")
    ] = False,
    since: Annotated[str, typer.Option(metavar="WHEN", help="From this long ago (15m, 2h, 1d) or an RFC 3339 time.")]
    = "15m",
    until: Annotated[
        str | None, typer.Option(metavar="WHEN", help="Until this long ago or this RFC 3339 time [default: now].")
    ] = None,
    severity: Annotated[
        str | None, typer.Option(metavar="LEVELS", help="Only these severities, e.g. error,warn.")
    ] = None,
    grep: Annotated[str | None, typer.Option(metavar="TEXT", help="Only lines containing TEXT (ASCII case ignored).")]
    = None,
    limit: Annotated[int, typer.Option(help="At most this many lines (the newest), 1 to 10000.")] = 100,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep polling for new lines until Ctrl-C.")] = False,
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.logs import MAX_LIMIT, build_query, parse_severities, parse_time

    now = int(time.time() * 1000)
    since_ms = parse_time("--since", since, now_ms=now)
    until_ms = parse_time("--until", until, now_ms=now) if until else None
    if follow and until_ms is not None:
        raise UsageError("--follow shows new lines as they come, so it cannot take --until; drop one of them")
    if until_ms is not None and until_ms <= since_ms:
        raise UsageError("--until must be later than --since")
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, got {limit}")
    severities = parse_severities(severity)
    with access.client() as client:
        where = _filter(client, deployment_id, project, app_, env, all_deployments)
        from dataclasses import replace

        where = replace(where, since_ms=since_ms, until_ms=until_ms, severities=severities, grep=grep or None)
        build_query(where, limit=limit)  # every value checked before the first request
        printer = _printer(fmt, show_deployment=all_deployments)
        first = _fetch(client, build_query(where, limit=limit))
        first.reverse()  # newest `limit` lines, printed oldest first
        for line in first:
            printer(line)
        if not first and fmt is Output.text:
            window = f"since {since}" + (f" until {until}" if until else "")
            print(f"no runtime log lines {window}{' matching the filters' if severities or grep else ''}"
                  f"{'; waiting for new ones' if follow else '; look further back with --since, e.g. --since 1d'}",
                  file=sys.stderr)
        if follow:
            _follow(client, where, first, since_ms, printer)


def _filter(client: Client, deployment_id: str | None, project: str | None, app: str, env: str,
            all_deployments: bool) -> LogFilter:
    from unkey_deploy.api import environments
    from unkey_deploy.api.logs import LogFilter
    from unkey_deploy.api.schemas import RESOURCE_IDENTIFIER, validate

    if deployment_id:
        problems = validate(RESOURCE_IDENTIFIER, deployment_id)
        if problems:
            raise UsageError(f"DEPLOYMENT_ID {problems[0].message}; pass an ID such as d_abc123")
        return LogFilter(deployment_id=deployment_id)
    resolved = environments.resolve(client, common.require_project(project), app, env)
    where = LogFilter(project_id=resolved.project_id, app_id=resolved.app_id,
                      environment_id=resolved.environment_id)
    if all_deployments:
        return where
    from dataclasses import replace

    return replace(where, deployment_id=_current_deployment(client, resolved, project or "", app, env))


def _current_deployment(client: Client, resolved: Any, project: str, app: str, env: str) -> str:
    """Production: the deployment serving traffic; elsewhere (or before one is live): the newest one."""
    from unkey_deploy.api.deployments import ListFilters, PublicDeployments
    from unkey_deploy.api.environments import checked_id

    if resolved.kind == "production" and resolved.current_deployment_id:
        return str(resolved.current_deployment_id)
    page = PublicDeployments(client).page(ListFilters(project, app, env, (), 100))
    newest = sorted(page.deployments, key=lambda d: -(d.created_at or 0))
    if not newest:
        raise UnkeyError(f"{project}/{app}/{env} has no deployment yet: deploy one with `unkey deploy`, "
                         "or pass --all-deployments")
    return checked_id(newest[0].id, "deployment")


def _fetch(client: Client, sql: str) -> list[LogLine]:
    from unkey_deploy.api.logs import query

    return query(client, sql)


def _follow(client: Client, where: LogFilter, shown: list[LogLine], since_ms: int,
            printer: Callable[[LogLine], None]) -> None:
    """Poll for lines newer than the last one shown (with an overlap, so late lines are not missed), print
    each once; gentle when nothing comes (the API counts queries per hour). Ctrl-C ends it cleanly."""
    from dataclasses import replace

    from unkey_deploy.api.logs import FollowCursor, build_query

    cursor = FollowCursor(max([since_ms, *(line.time_ms or 0 for line in shown)]))
    cursor.remember(shown)
    delay = POLL_FIRST
    try:
        while True:
            time.sleep(delay)
            sql = build_query(replace(where, since_ms=cursor.since_ms), limit=FOLLOW_PAGE, newest_first=False)
            lines = cursor.fresh(_fetch(client, sql))
            for line in lines:
                printer(line)
            sys.stdout.flush()
            delay = 0.0 if len(lines) >= FOLLOW_PAGE // 2 else POLL_FIRST if lines else min(delay * 2 or 1, POLL_MAX)
    except KeyboardInterrupt:
        return


def _printer(fmt: Output, *, show_deployment: bool) -> Callable[[LogLine], None]:
    from unkey_deploy.report import color_enabled

    if fmt is Output.json:
        return lambda line: print(json.dumps(line.raw, default=str), flush=True)
    color = color_enabled(sys.stdout)

    def show(line: LogLine) -> None:
        print(format_line(line, color=color, show_deployment=show_deployment), flush=True)

    return show


def register(app: typer.Typer) -> None:
    app.command("logs", help=HELP)(logs)
