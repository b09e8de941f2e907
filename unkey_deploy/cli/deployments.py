"""`unkey deployments`: list, inspect, promote, roll back, stop, start and redeploy deployments.

Thin commands over Unkey's public deployments.* API (`api.deployments.PublicDeployments`); errors and
output follow `unkey deploy`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TextIO

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli import options
from unkey_deploy.cli.options import Output, timeout_seconds
from unkey_deploy.errors import UnkeyError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.deployments import Action, Deployment, DeploymentsAPI, ListFilters, PublicDeployments

deployments_app = typer.Typer(
    name="deployments",
    help="See, promote, roll back, stop, start and redeploy deployments.\n\n"
    "\b\n"
    "Examples:\n"
    "  unkey deployments list --project=acme --app=api --env=production\n"
    "  unkey deployments get d_abc123\n"
    "  unkey deployments rollback d_prev456 --yes\n"
    "  unkey deployments redeploy d_abc123\n"
    "  unkey deployments wait d_abc123",
    no_args_is_help=True,
    rich_markup_mode=None,
)

OutputOption = Annotated[Output, typer.Option(help="text, or json for scripts.")]
IdArgument = Annotated[str, typer.Argument(metavar="ID", show_default=False, help="Deployment ID, e.g. d_abc123.")]
TimeoutOption = Annotated[
    float,
    typer.Option(envvar="UNKEY_TIMEOUT", callback=timeout_seconds, help="Seconds to wait for the change to show."),
]

ID_FLAGS = {"deploymentId": "ID"}
REDEPLOY_FLAGS = {"environment": "--env"}
LIST_FLAGS = {
    "project": "--project", "app": "--app", "environment": "--env", "status": "--status", "limit": "--limit",
    "cursor": "--cursor",
}


def _describe(api: PublicDeployments, deployment_id: str) -> Deployment:
    from unkey_deploy.api.deployments import deployment_id_body
    from unkey_deploy.cli.api_flags import build
    from unkey_deploy.errors import NotFoundError

    build(lambda: deployment_id_body("deployments.getDeployment", deployment_id), ID_FLAGS)
    try:
        return api.describe(deployment_id)
    except NotFoundError as exc:
        raise NotFoundError(
            f"deployment {deployment_id} not found: check the ID with `unkey deployments list`",
            status=exc.status, request_id=exc.request_id, error_type=exc.error_type, details=exc.details,
        ) from None


# list


@common.api_command
def list_deployments(
    project: Annotated[str | None, typer.Option(envvar="UNKEY_PROJECT", help="Only this project (ID or slug).")] = None,
    app_: Annotated[
        str | None, typer.Option("--app", envvar="UNKEY_APP", help="Only this app; needs --project.")
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", envvar="UNKEY_ENV", help="Only this environment; needs --project and --app.")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Only these statuses, comma separated, e.g. ready,failed.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Deployments per page, 1 to 100 [default: 100].")] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="Follow the cursor through every page.")] = False,
    cursor: Annotated[str | None, typer.Option(help="Start at this page (printed when there are more).")] = None,
    output: OutputOption = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.deployments import PublicDeployments
    from unkey_deploy.cli.api_flags import build

    filters = _list_filters(project, app_, env, status, limit)
    with access.client() as client:
        deployments = PublicDeployments(client)

        def fetch(page_cursor: str | None) -> tuple[list[Deployment], str | None]:
            build(lambda: filters.body(page_cursor), LIST_FLAGS)
            page = deployments.page(filters, page_cursor)
            return list(page.deployments), page.cursor

        found, next_cursor = common.collect_pages(
            fetch, all_pages=all_pages, cursor=cursor, what="deployments", note_more=False,
            bad_cursor="pass a cursor printed by `unkey deployments list` unchanged, or leave it out to start from "
            "the newest deployment")
    found.sort(key=lambda d: -(d.created_at or 0))  # newest first; stable for equal times
    if output is Output.json:
        from unkey_deploy.report.safe import json_text

        print(json_text([d.raw for d in found]))
    else:
        print(_table(found, show_app=app_ is None))
    if next_cursor:
        common.note_more_pages("deployments", next_cursor)


def _list_filters(
    project: str | None, app: str | None, env: str | None, status: str | None, limit: int | None
) -> ListFilters:
    from unkey_deploy.api.deployments import ListFilters
    from unkey_deploy.api.schemas import DEPLOYMENT_STATUSES, LIST_DEPLOYMENTS_MAX_LIMIT
    from unkey_deploy.cli.api_flags import nested_filters

    nested_filters({"project": project, "app": app, "environment": env}, LIST_FLAGS)
    if limit is not None and not 1 <= limit <= LIST_DEPLOYMENTS_MAX_LIMIT:
        raise UsageError(
            f"--limit must be between 1 and {LIST_DEPLOYMENTS_MAX_LIMIT} (the API's page size), got {limit}; "
            "use --all to list every page"
        )
    statuses = tuple(s.strip().lower() for s in (status or "").split(",") if s.strip())
    unknown = [s for s in statuses if s not in DEPLOYMENT_STATUSES]
    if unknown:
        raise UsageError(f"--status: unknown status {unknown[0]!r}; use any of {', '.join(DEPLOYMENT_STATUSES)}")
    filters = ListFilters(project, app, env, statuses, limit)
    from unkey_deploy.cli.api_flags import build

    build(lambda: filters.body(), LIST_FLAGS)  # the slug rules `unkey deploy` checks too, before any request
    return filters


def _table(deployments: list[Deployment], *, show_app: bool) -> str:
    import time

    if not deployments:
        return "No deployments found."
    now_ms = int(time.time() * 1000)
    header = ["", "ID", "STATUS", *(["APP"] if show_app else []), "ENVIRONMENT", "SOURCE", "AGE"]
    rows = [header]
    for d in deployments:
        app = [f"{d.project}/{d.app}"] if show_app else []
        created = _age(now_ms - d.created_at) if d.created_at else "-"
        rows.append(["*" if d.is_current else "", d.id, d.status, *app, d.environment, _source(d), created])
    lines = common.columns(rows)
    if any(d.is_current for d in deployments):
        lines.append("* current deployment (serves production traffic)")
    return "\n".join(lines)


def _source(d: Deployment) -> str:
    if d.commit_sha:
        return f"{d.branch or '?'}@{d.commit_sha[:7]}"
    return d.image or d.branch or "-"


def _age(ms: int) -> str:
    seconds = max(0, ms // 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# get


@common.api_command
def get(
    deployment_id: IdArgument,
    output: OutputOption = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.deployments import PublicDeployments
    from unkey_deploy.report.urls import url_for

    with access.client() as client:
        deployment = _describe(PublicDeployments(client), deployment_id)
    if output is Output.json:
        from unkey_deploy.report.safe import json_text

        print(json_text({**deployment.raw, "urls": [url_for(h) for h in deployment.domains]}))
    else:
        print(_details(deployment))


def _details(d: Deployment) -> str:
    from unkey_deploy.report.safe import lines as lines_of
    from unkey_deploy.report.safe import text
    from unkey_deploy.report.urls import url_for
    raw = d.raw
    lines = [
        f"Deployment {d.id}",
        f"    Status: {d.status}",
        f"    Current: {'yes (serves production traffic)' if d.is_current else 'no'}",
        f"    Project: {d.project}",
        f"    App: {d.app}",
        f"    Environment: {d.environment}",
    ]
    if d.image:
        lines.append(f"    Image: {d.image}")
    if d.commit_sha:
        lines.append(f"    Git: {d.branch or '?'}@{d.commit_sha}")
    if d.error:
        error = d.error
        lines.append(f"    Error: {error.get('message', '')} (step {error.get('step', '?')}, {error.get('code', '?')})")
    lines += [
        f"    Actions: {text(', '.join(d.available_actions[:50])) or 'none'}",
        f"    Regions: {_value(raw.get('regions') or []) if raw.get('regions') else 'none'}",
        f"    Created: {common.when(raw.get('createdAt'))}",
    ]
    if "updatedAt" in raw:
        lines.append(f"    Updated: {common.when(raw.get('updatedAt'))}")
    runtime = raw.get("runtime") if isinstance(raw.get("runtime"), dict) else {}
    if runtime:
        lines.append("Runtime")
        lines += [f"    {text(name, 100)}: {_value(value)}" for name, value in list(runtime.items())[:50]]
    lines.append("Domains")
    urls = lines_of((url_for(h) for h in d.domains), what="domains")
    lines += [f"    {url}" for url in urls] or ["    (none assigned)"]
    known = {"id", "status", "isCurrent", "project", "app", "environment", "docker", "git", "error",
             "availableActions", "regions", "createdAt", "updatedAt", "runtime", "domains"}
    extra = {name: value for name, value in raw.items() if name not in known}
    if extra:
        lines.append("Other")
        lines += [f"    {text(name, 100)}: {_value(value)}" for name, value in list(extra.items())[:50]]
    return "\n".join(lines)


def _value(value: Any) -> str:
    """A value of the answer the CLI does not know, as one bounded, printable line."""
    from unkey_deploy.report.safe import text

    if isinstance(value, list):
        return text(" ".join(str(v) for v in value[:100])) or "-"
    return text(json.dumps(value) if isinstance(value, dict | bool) or value is None else str(value))


# promote, rollback, stop, start


ACTION_HELP = {
    "promote": "Make a ready production deployment the current one (it then serves production traffic).\n\n"
    "Promoting the current deployment of a rolled-back app confirms the rollback, so new deployments go live "
    "automatically again.",
    "rollback": "Roll production traffic back to an earlier ready deployment (ID is the deployment to roll back "
    "TO).\n\nAfter a rollback, new deployments do not go live until you promote one.",
    "stop": "Stop a running preview deployment; `unkey deployments start ID` resumes it.",
    "start": "Start a stopped preview deployment so it serves traffic again.",
}


def _action_command(action: Action) -> Callable[..., None]:
    def command(
        deployment_id: IdArgument,
        yes: common.YesOption = False,
        timeout: TimeoutOption = 120,
        output: OutputOption = Output.text,
        access: common.ApiAccess = common.ApiAccess(),
    ) -> None:
        from unkey_deploy import actions
        from unkey_deploy.api.deployments import PublicDeployments

        common.can_confirm(yes=yes, what=action)
        with access.client() as client:
            client.set_deadline(timeout)
            deployments = PublicDeployments(client)
            deployment = _describe(deployments, deployment_id)
            reason = actions.refusal(action, deployment)
            if reason:
                raise UnkeyError(reason)
            previous = (deployments.current(deployment.project, deployment.app)
                        if action in ("promote", "rollback") else None)
            common.confirm(actions.question(action, deployment, previous), yes=yes, what=action, err=False)
            change = actions.apply(deployments, action, deployment, previous_current=previous, timeout=timeout)
        if output is Output.json:
            result = {
                "action": action,
                "deploymentId": change.after.id,
                "status": change.after.status,
                "isCurrent": change.after.is_current,
                "previousStatus": change.before.status,
                "previousCurrent": previous.id if previous else None,
            }
            print(json.dumps(result, indent=2))
        else:
            print(actions.describe(change))

    command.__name__ = f"{action}_deployment"
    return common.api_command(command)


# redeploy


@common.api_command
def redeploy(
    deployment_id: IdArgument,
    env: Annotated[
        str | None, typer.Option("--env", help="Environment to deploy to [default: the deployment's own].")
    ] = None,
    timeout: options.DeployTimeout = 600,
    output: options.ResultOutput = Output.text,
    verbose: options.FollowVerbose = False,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    def plan(original: Deployment, human: TextIO) -> _Follow:
        from unkey_deploy.api.deployments import redeploy_body
        from unkey_deploy.cli.api_flags import build

        environment = env or original.environment
        build(lambda: redeploy_body(original.id, original.project, original.app, environment), REDEPLOY_FLAGS)
        print(f"Redeploying {original.id} ({original.project}/{original.app}) to {environment}", file=human)
        return _Follow(environment, original.image or f"rebuilt from {_source(original)}",
                       lambda api: api.redeploy(original.id, original.project, original.app, environment),
                       redeploy_of=original.id)  # fmt: skip

    _follow_deployment(access, deployment_id, timeout, output, verbose, plan)


# wait


@common.api_command
def wait(
    deployment_id: IdArgument,
    timeout: Annotated[float, typer.Option(envvar="UNKEY_TIMEOUT", help="Seconds to wait for READY.", min=1)] = 600,
    output: options.ResultOutput = Output.text,
    verbose: options.FollowVerbose = False,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    def plan(deployment: Deployment, human: TextIO) -> _Follow:
        print(f"Waiting for {deployment.id} ({deployment.project}/{deployment.app}, {deployment.environment})",
              file=human)  # fmt: skip
        return _Follow(deployment.environment, deployment.image or _source(deployment), lambda api: deployment.id)

    _follow_deployment(access, deployment_id, timeout, output, verbose, plan)


class _Follow(NamedTuple):
    """What `redeploy` and `wait` follow: the environment, the image shown, and how the deployment starts."""

    environment: str
    image: str
    start: Callable[[DeploymentsAPI], str]
    redeploy_of: str | None = None


def _follow_deployment(access: common.ApiAccess, deployment_id: str, timeout: float, output: Output, verbose: bool,
                       plan: Callable[[Deployment, TextIO], _Follow]) -> None:  # fmt: skip
    """Look the deployment up, then follow what `plan` starts from it to its end, as `unkey deploy` does."""
    from unkey_deploy.api.deployments import PublicDeployments
    from unkey_deploy.cli._deploy import follow_to_end
    from unkey_deploy.source import Source

    human = sys.stdout if output is Output.text else sys.stderr
    with access.client() as client:
        client.set_deadline(timeout)  # no answer, slow body or Retry-After outlives --timeout
        deployment = _describe(PublicDeployments(client), deployment_id)
        follow = plan(deployment, human)
        follow_to_end(client, (deployment.project, deployment.app, follow.environment),
                      Source.recorded(deployment.branch, deployment.commit_sha), follow.image, follow.start,
                      timeout=timeout, verbose=verbose, output=output, human=human,
                      redeploy_of=follow.redeploy_of)  # fmt: skip


def register(app: typer.Typer) -> None:
    common.add_commands(app, deployments_app, [
        ("list",
         "List deployments, newest first, with the current production deployment marked.\n\n"
         "Filters nest: --app needs --project, --env needs both. A page holds up to 100 deployments; "
         "--all follows the cursor through every page.\n\n"
         "\b\n"
         "Examples:\n"
         "  unkey deployments list --project=acme --app=api --env=production --status=ready\n"
         "  unkey deployments list --project=acme --all --output=json",
         list_deployments),
        ("get",
         "Show a deployment: status, source, available actions, runtime and domains (as URLs).\n\n"
         "\b\n"
         "Examples:\n"
         "  unkey deployments get d_abc123\n"
         "  unkey deployments get d_abc123 --output=json | jq .status",
         get),
        *[(action,
           f"{ACTION_HELP[action]}\n\n"
           "The deployment is read first: when the action does not apply to it, nothing is sent. Asks for "
           "confirmation on a terminal; elsewhere pass --yes. Waits until the change shows.\n\n"
           "\b\n"
           "Examples:\n"
           f"  unkey deployments {action} d_abc123\n"
           f"  unkey deployments {action} d_abc123 --yes --output=json",
           _action_command(action)) for action in ("promote", "rollback", "stop", "start")],
        ("redeploy",
         "Deploy an existing deployment again (same project, app and source) and wait until it is ready, "
         "with the same progress and summary as `unkey deploy`.\n\n"
         "\b\n"
         "Examples:\n"
         "  unkey deployments redeploy d_abc123\n"
         "  unkey deployments redeploy d_abc123 --env=staging --output=json",
         redeploy),
        ("wait",
         "Follow a deployment (e.g. one created with `unkey deploy --detach`) until it is ready, fails or "
         "--timeout passes, with the same progress, summary and exit codes as `unkey deploy`.\n\n"
         "\b\n"
         "Examples:\n"
         "  unkey deployments wait d_abc123\n"
         "  unkey deployments wait d_abc123 --timeout=300 --output=json",
         wait),
    ])
