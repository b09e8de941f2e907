"""Plumbing the API commands share: the client and root key (`ApiAccess`, the flags every API command takes),
the project/app/environment flags, `--output`, list paging, tables, confirmation prompts, and text from a
server made safe to print."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from unkey_deploy.cli.options import ApiUrl, ConfigPath, Local, Output, RootKey
from unkey_deploy.errors import UnkeyError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client
    from unkey_deploy.report import Reporter

OUTPUTS = tuple(o.value for o in Output)
T = TypeVar("T")


def parse_output(value: str | Output) -> Output:
    """`--output`: text or json, with one error message for anything else."""
    text = value.value if isinstance(value, Output) else str(value)
    try:
        return Output(text.strip().lower())
    except ValueError:
        raise UsageError(f"--output must be {' or '.join(OUTPUTS)}, got {text!r}") from None


OutputOption = Annotated[
    str, typer.Option("--output", "-o", metavar="FORMAT", help="text, or json for scripts.")
]
ProjectOption = Annotated[
    str | None, typer.Option("--project", envvar="UNKEY_PROJECT", metavar="SLUG", help="Project slug or ID (required).")
]
AppOption = Annotated[str, typer.Option("--app", envvar="UNKEY_APP", metavar="SLUG", help="App slug or ID.")]
EnvOption = Annotated[str, typer.Option("--env", envvar="UNKEY_ENV", metavar="SLUG", help="Environment slug or ID.")]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required without a terminal).")
]


def require_project(project: str | None) -> str:
    if not project:
        raise UsageError("--project is required: pass --project or set UNKEY_PROJECT")
    return project


def check_slugs(*flags: tuple[str, str]) -> None:
    """Each (flag, value) a valid project, app or environment identifier; else a usage error naming the flag."""
    from unkey_deploy.api.schemas import RESOURCE_IDENTIFIER, validate

    for flag, value in flags:
        problems = validate(RESOURCE_IDENTIFIER, value)
        if problems:
            raise UsageError(f"{flag} {problems[0].message}; {problems[0].fix}")


@dataclass(frozen=True)
class ApiAccess:
    """Where the API is and the key to call it with: the --root-key, --api-url, --config and --local flags
    of every API command (see `api_command`)."""

    root_key: str | None = None
    api_url: str | None = None
    config: Path | None = None
    local: bool = False

    def client(self) -> Client:
        return api_client(self.local, self.root_key, self.api_url, self.config)


@dataclass(frozen=True)
class Paging:
    """--search, --limit, --all and --cursor of the platform list commands (see `list_items`)."""

    search: str | None = None
    limit: int | None = None
    all_pages: bool = False
    cursor: str | None = None


@dataclass(frozen=True)
class Where:
    """--project, --app and --env of a command that works on one environment (see `api_command`)."""

    project: str | None = None
    app: str = "default"
    env: str = "preview"


AllOption = Annotated[bool, typer.Option("--all", help="Follow the cursor through every page.")]
CursorOption = Annotated[
    str | None, typer.Option("--cursor", metavar="CURSOR", help="Start at this page (printed when there are more).")
]
LimitOption = Annotated[int | None, typer.Option("--limit", metavar="N", help="Items per page, 1 to 100.")]
SearchOption = Annotated[str | None, typer.Option("--search", metavar="TEXT", help="Only names containing TEXT.")]

# A flag group: the flags a decorator puts where a command's parameter of this name stands, and the class the
# command gets them as: (parameter, type, default) in the order --help shows them, the class's fields in that order.
FlagGroups = dict[str, tuple[type, tuple[tuple[str, object, object], ...]]]
FLAG_GROUPS: FlagGroups = {
    "access": (ApiAccess, (("root_key", RootKey, None), ("api_base_url", ApiUrl, None), ("config", ConfigPath, None),
                           ("local", Local, False))),
    "where": (Where, (("project", ProjectOption, None), ("app_", AppOption, "default"), ("env", EnvOption, "preview"))),
    "paging": (Paging, (("search", SearchOption, None), ("limit", LimitOption, None), ("all_pages", AllOption, False),
                        ("cursor", CursorOption, None))),
}


def api_command(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with its `access: ApiAccess` parameter replaced by the flags --root-key, --api-url, --config
    and --local, its `where: Where` parameter (if any) by --project, --app and --env (preview by default), its
    `paging: Paging` parameter (if any) by --search, --limit, --all and --cursor, and its
    `fmt: Output` parameter (if any) by --output, each shown in --help where the parameter stands. It is called
    with them grouped, and --output parsed (and checked) first."""
    return with_flag_groups(FLAG_GROUPS, command)


def with_flag_groups(flag_groups: FlagGroups, command: Callable[..., None]) -> Callable[..., None]:
    """`command` with each parameter named in `flag_groups` replaced by that group's flags, and its `fmt: Output`
    parameter (if any) by --output (see `api_command`). It is called with each group as one instance of the
    group's class (built, and so checked, first), and --output parsed."""
    import functools
    import inspect

    def flag(name: str, annotation: object, default: object) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)

    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name in flag_groups:
            parameters += [flag(*spec) for spec in flag_groups[parameter.name][1]]
        elif parameter.name == "fmt":
            parameters.append(flag("output", OutputOption, "text"))
        else:
            parameters.append(parameter)
    groups = {name: spec for name, spec in flag_groups.items() if name in signature.parameters}
    takes_fmt = "fmt" in signature.parameters

    @functools.wraps(command)
    def run(**arguments: Any) -> None:
        if takes_fmt:
            arguments["fmt"] = parse_output(arguments.pop("output", "text"))
        for group, (cls, flags) in groups.items():
            arguments[group] = cls(*(arguments.pop(name, default) for name, _, default in flags))
        command(**arguments)

    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return run


def api_client(local: bool, root_key: str | None, api_url: str | None, config: Path | None) -> Client:
    """The API client for the hosted API, or for the local control plane with --local (started if needed);
    retries show up as warnings on stderr."""
    from unkey_deploy.api.client import open_client
    from unkey_deploy.report.plain import PlainReporter

    notes = PlainReporter(sys.stderr)
    url, key = resolve_target_api(local, root_key, api_url, config, notes)
    return open_client(url, key, notes.warn)


def resolve_target_api(
    local: bool, root_key: str | None, api_url: str | None, config: Path | None, reporter: Reporter
) -> tuple[str, str]:
    """(API URL, root key) for the hosted API, or for the local control plane with --local."""
    from unkey_deploy.config import resolve_api_url, resolve_root_key

    if local:
        from unkey_deploy.local import ensure_running

        endpoint = ensure_running(api_url, reporter=reporter, root_key=root_key)
        return endpoint.url, endpoint.root_key
    creds = resolve_root_key(root_key, config)
    assert creds is not None
    return resolve_api_url(api_url, config), creds.root_key


def interactive() -> bool:
    return sys.stdin.isatty() and not os.environ.get("CI")


def can_confirm(*, yes: bool, what: str) -> None:
    """Nothing with `yes` or on a terminal; without one, a usage error naming --yes (before any request)."""
    if not yes and not interactive():
        raise UsageError(f"{what} needs confirmation: pass --yes (there is no terminal to ask on)")


def confirm(question: str, *, yes: bool, what: str, err: bool = True) -> None:
    """Go on with `yes`; else ask on a terminal (default no, on stderr unless not `err`); without one, a usage
    error naming --yes."""
    can_confirm(yes=yes, what=what)
    if not yes and not typer.confirm(question, default=False, err=err):
        raise UnkeyError(f"{what} cancelled: nothing was changed")


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def printable(text: object) -> str:
    """Text from a server, safe for a terminal: control characters shown as escapes (`\\x1b`, `\\n`)."""
    from unkey_deploy.report.safe import text as safe_text

    return safe_text(text)


def table(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; every cell made printable."""
    return "\n".join(columns([header] + [[printable(cell) for cell in row] for row in rows]))


def columns(rows: list[list[str]]) -> list[str]:
    """Rows of cells (already printable), each column padded to its widest cell, as lines."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


# Request checks, lists and results of the platform commands (projects, apps, environments, domains).


def check_flags(operation: str, body: dict[str, Any], flags: dict[str, str]) -> dict[str, Any]:
    """`body` when it is a valid request of `operation`; else a usage error naming the flag at fault."""
    from unkey_deploy.api.schemas import require_valid
    from unkey_deploy.cli.api_flags import build

    return build(lambda: require_valid(operation, body), flags)


def list_items(
    access: ApiAccess,
    operation: str,
    body: dict[str, Any],
    flags: dict[str, str],
    paging: Paging,
    *,
    what: str,
) -> list[dict[str, Any]]:
    """The items of a paged platform list operation (`body` with --search and --limit), every flag checked
    before the first request: one page (from --cursor), or every page with --all."""
    from unkey_deploy.api.platform import PlatformAPI

    search, limit, cursor = paging.search, paging.limit, paging.cursor
    body = {**body, **{k: v for k, v in (("search", search), ("limit", limit)) if v is not None}}
    check_flags(operation, {**body, **({"cursor": cursor} if cursor else {})}, flags)
    with access.client() as client:
        platform = PlatformAPI(client)

        def fetch(page_cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            page = platform.page(operation, body, page_cursor)
            return page.items, page.cursor

        items, _ = collect_pages(fetch, all_pages=paging.all_pages, cursor=cursor, what=what)
    return items


def print_list(fmt: Output, found: list[dict[str, Any]], *, empty: str, header: list[str],
               row: Callable[[dict[str, Any]], list[str]]) -> None:
    """What `list_items` found: JSON, `empty` when there is nothing, else a table with a `row` per item."""
    if fmt is Output.json:
        print_json(found)
    elif not found:
        print(empty)
    else:
        print(table(header, [row(item) for item in found]))


def collect_pages(
    fetch: Callable[[str | None], tuple[list[T], str | None]],
    *,
    all_pages: bool,
    cursor: str | None,
    what: str,
    bad_cursor: str = "pass a cursor printed by this command, or leave --cursor out",
    note_more: bool = True,
) -> tuple[list[T], str | None]:
    """One page (from `cursor`), or every page with `all_pages`, and the cursor of the next page; with
    `note_more`, a note on stderr when more remain. A cursor the API rejects is a usage error saying
    `bad_cursor`."""
    from unkey_deploy.errors import APIError

    items: list[T] = []
    next_cursor = cursor
    while True:
        try:
            page, next_cursor = fetch(next_cursor)
        except APIError as exc:
            rejected = exc.status == 400 and "cursor" in " ".join([exc.message, *exc.details]).lower()
            if next_cursor is not None and rejected:
                raise UsageError(f"the API rejected --cursor={next_cursor}: {bad_cursor}") from None
            raise
        items.extend(page)
        if not (all_pages and next_cursor):
            break
    if next_cursor and note_more:
        note_more_pages(what, next_cursor)
    return items, next_cursor


def note_more_pages(what: str, cursor: str) -> None:
    print(f"more {what}: pass --all, or --cursor={cursor} for the next page", file=sys.stderr)


def fetch_object(access: ApiAccess, operation: str, body: dict[str, Any], *, idempotent: bool = True
                 ) -> dict[str, Any]:
    """The `data` object of one platform request (`body` checked by `check_flags` first)."""
    from unkey_deploy.api.platform import PlatformAPI

    with access.client() as client:
        return PlatformAPI(client).object(operation, body, idempotent=idempotent)


def delete(access: ApiAccess, operation: str, body: dict[str, Any], *, question: str, yes: bool, what: str,
           fmt: Output, result: object, done: str) -> None:
    """Send a delete request after `confirm` (`body` checked by `check_flags` first), then print what was
    deleted: `result` as JSON with --output json, else `done`."""
    from unkey_deploy.api.platform import PlatformAPI

    confirm(question, yes=yes, what=what)
    with access.client() as client:
        PlatformAPI(client).call(operation, body)
    print_result(fmt, result, done)


def add_commands(app: typer.Typer, group: typer.Typer, commands: list[tuple[str, str, Callable[..., None]]]) -> None:
    """Add `group` to `app` with its `commands` (name, help, function), each help followed by the exit codes."""
    from unkey_deploy.errors import EXIT_CODES_HELP

    for name, help_text, command in commands:
        group.command(name, help=f"{help_text}\n\n{EXIT_CODES_HELP}")(command)
    app.add_typer(group)


def print_result(fmt: Output, value: object, text: str) -> None:
    """`value` as JSON with --output json, else `text`."""
    if fmt is Output.json:
        print_json(value)
    else:
        print(text)


def when(ms: object) -> str:
    """A timestamp in milliseconds as UTC ISO 8601, `-` when there is none."""
    from datetime import UTC, datetime

    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def print_json(value: object) -> None:
    import json

    print(json.dumps(value, indent=2, ensure_ascii=False))


def fields(pairs: list[tuple[str, object]]) -> str:
    """`Label: value` lines, values made printable; None values left out."""
    shown = [(label, value) for label, value in pairs if value is not None]
    width = max((len(label) for label, _ in shown), default=0) + 1
    return "\n".join(f"{(label + ':').ljust(width)} {printable(value)}" for label, value in shown)
