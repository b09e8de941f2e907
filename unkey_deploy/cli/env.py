"""`unkey env`: the runtime variables of an environment: list, set, unset, pull.

Runtime variables reach the app's containers as environment variables when a deployment starts (a change
applies to the next deployment); build variables (`--var`, `--env-file`) are separate and reach only the
build. Values are never printed (except recoverable ones with `list --reveal` or `pull`), logged, or put on
a command line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli.options import Output
from unkey_deploy.errors import UnkeyError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.variables import BatchFailed, EnvironmentRef, NewVariable, Variable, VariablesAPI

env_app = typer.Typer(
    name="env",
    help="Runtime variables of an environment: list, set, unset, pull.\n\n"
    "They reach the app as environment variables when a deployment starts, so a change applies to the next "
    "deployment. Build variables (--var, --env-file of `unkey deploy`) are separate.\n\n"
    "\b\n"
    "Examples:\n"
    "  unkey env set DATABASE_URL --project=acme --env=production   # value from $DATABASE_URL\n"
    "  unkey env set --from-file .env.production --project=acme --env=production\n"
    "  unkey env list --project=acme --env=production\n"
    "  unkey env unset OLD_FLAG --project=acme",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _environment(where: common.Where) -> EnvironmentRef:
    from unkey_deploy.api.variables import EnvironmentRef

    ref = EnvironmentRef(common.require_project(where.project), where.app, where.env)
    common.check_slugs(("--project", ref.project), ("--app", ref.app), ("--env", ref.environment))
    return ref


# list


@common.api_command
def list_variables(
    reveal: Annotated[bool, typer.Option("--reveal", help="Show the values of recoverable variables.")] = False,
    where: common.Where = common.Where(),
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.variables import VariablesAPI

    ref = _environment(where)
    with access.client() as client:
        found = VariablesAPI(client).list_all(ref)
    if fmt is Output.json:
        print(json.dumps([_as_json(v, reveal) for v in found], indent=2))
        return
    if not found:
        print(f"No runtime variables in {ref}.")
        return
    header = ["KEY", "KIND", "CREATED", *(["VALUE"] if reveal else [])]
    rows = [[v.key, v.kind, common.when(v.created_at), *([_shown_value(v)] if reveal else [])] for v in found]
    print(common.table(header, rows))
    if not reveal and any(v.kind == "recoverable" for v in found):
        print("values hidden: pass --reveal to show recoverable ones (writeonly values cannot be read back)",
              file=sys.stderr)


def _as_json(variable: Variable, reveal: bool) -> dict[str, object]:
    item: dict[str, object] = {"key": variable.key, "kind": variable.kind, "createdAt": variable.created_at}
    if reveal and variable.kind == "recoverable" and variable.value is not None:
        item["value"] = variable.value
    return item


def _shown_value(variable: Variable) -> str:
    if variable.kind != "recoverable":
        return "(writeonly)"
    return variable.value if variable.value is not None else "-"


# set


@common.api_command
def set_variables(
    assignments: Annotated[
        list[str] | None,
        typer.Argument(metavar="[KEY=VALUE|KEY]...", show_default=False,
                       help="Variables to set; KEY alone takes the value from the environment."),
    ] = None,
    from_file: Annotated[
        list[Path] | None,
        typer.Option("--from-file", metavar="FILE", help="Variables from a dotenv file (repeatable)."),
    ] = None,
    recoverable: Annotated[
        bool, typer.Option("--recoverable", help="Let the values be read back (default: writeonly).")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove every other variable: the environment ends with exactly these.")
    ] = False,
    yes: common.YesOption = False,
    where: common.Where = common.Where(),
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.variables import SYSTEM_VARIABLES, BatchFailed, VariablesAPI

    ref = _environment(where)
    variables = _collect(assignments or [], from_file or [], "recoverable" if recoverable else "writeonly")
    if not variables and not prune:
        raise UsageError("nothing to set: pass KEY=VALUE, KEY (value from the environment) or --from-file FILE")
    names = [v.key for v in variables]
    for name in names:
        if name in SYSTEM_VARIABLES:
            common.warn(f"{name} is set by the platform in every instance; the platform's value wins over yours")
    human = sys.stdout if fmt is Output.text else sys.stderr
    removed: list[str] = []
    with access.client() as client:
        api = VariablesAPI(client)
        if prune:
            existing = [v.key for v in api.list_all(ref)]
            removed = [name for name in existing if name not in set(names)]
            if removed:
                print(f"--prune removes {len(removed)} variable(s) from {ref}: {', '.join(removed)}", file=human)
                common.confirm(f"Remove {len(removed)} variable(s) from {ref}?", yes=yes, what="--prune")
        try:
            if prune and len(variables) <= 50:
                api.set(ref, variables, prune=True)
            else:
                if variables:
                    api.set(ref, variables)
                if removed:
                    _remove_after_set(api, ref, removed, names)
        except BatchFailed as exc:
            raise _batch_error(exc, ref, "set") from None
    if fmt is Output.json:
        print(json.dumps({"environment": str(ref), "set": names, "kind": variables[0].kind if variables else None,
                          "removed": removed}, indent=2))
        return
    kind = variables[0].kind if variables else ""
    if names:
        print(f"Set {len(names)} {kind} variable(s) in {ref}: {', '.join(names)}")
    if removed:
        print(f"Removed {len(removed)} variable(s): {', '.join(removed)}")
    print("They apply to the next deployment of this environment.", file=human)


def _remove_after_set(api: VariablesAPI, ref: EnvironmentRef, removed: list[str], names: list[str]) -> None:
    """The second half of a prune of more than 50 variables: every one is set by now."""
    from unkey_deploy.api.variables import BatchFailed

    try:
        api.remove(ref, removed)
    except BatchFailed as exc:
        error = _batch_error(exc, ref, "removed")
        error.message = f"{ref}: all {len(names)} variables were set, but {exc.message}"
        raise error from None
    except UnkeyError as exc:
        error = UnkeyError(
            f"{ref}: all {len(names)} variables were set, but removing the others failed ({exc.message}); "
            "run the command again to finish",
            details=[f"not removed: {', '.join(removed)}", *exc.details],
        )
        error.exit_code = exc.exit_code
        raise error from None


def _batch_error(exc: BatchFailed, ref: EnvironmentRef, verb: str) -> UnkeyError:
    """One error naming exactly what was applied and what was not, with the cause's exit code."""
    error = UnkeyError(
        f"{ref}: {exc.message}",
        details=[f"{verb}: {', '.join(exc.done)}", f"not {verb}: {', '.join(exc.not_done)}", *exc.details],
    )
    error.exit_code = exc.exit_code
    return error


def _collect(assignments: list[str], files: list[Path], kind: str) -> list[NewVariable]:
    """--from-file files in order, then the arguments; later ones win; names and values checked."""
    from unkey_deploy.api.variables import NewVariable, check_name, check_value
    from unkey_deploy.image.secrets import parse_env_text

    merged: dict[str, str] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"--from-file {path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--from-file {path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
        for name, value in _parse_dotenv(parse_env_text, text, str(path)).items():
            merged[check_name(name, str(path))] = value
    for item in assignments:
        name, sep, value = item.partition("=")
        check_name(name)
        if not sep:
            if name not in os.environ:
                raise UsageError(f"{name} is not set in the environment: export it, or pass {name}=VALUE")
            value = os.environ[name]
        merged[name] = value
    for name, value in merged.items():
        check_value(name, value)
    return [NewVariable(name, value, kind) for name, value in merged.items()]  # type: ignore[arg-type]


def _parse_dotenv(parse: object, text: str, source: str) -> dict[str, str]:
    """The build variables' dotenv parser; its name errors speak of builds, so names are checked again here."""
    try:
        return parse(text, source)  # type: ignore[operator,no-any-return]
    except UsageError as exc:
        raise UsageError(exc.message.replace("because variables are exposed to the build as environment "
                                             "variables", "as the API requires")) from None


# unset


@common.api_command
def unset_variables(
    names: Annotated[list[str], typer.Argument(metavar="KEY...", show_default=False, help="Variables to remove.")],
    where: common.Where = common.Where(),
    fmt: Output = Output.text,
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.variables import BatchFailed, VariablesAPI, check_name

    ref = _environment(where)
    unique = list(dict.fromkeys(check_name(name) for name in names))
    with access.client() as client:
        try:
            VariablesAPI(client).remove(ref, unique)
        except BatchFailed as exc:
            raise _batch_error(exc, ref, "removed") from None
    if fmt is Output.json:
        print(json.dumps({"environment": str(ref), "removed": unique}, indent=2))
    else:
        print(f"Removed {len(unique)} variable(s) from {ref} (names that were not set are ignored): "
              f"{', '.join(unique)}")


# pull


@common.api_command
def pull(
    file: Annotated[Path, typer.Argument(metavar="[FILE]", help="Where to write [default: .env].")] = Path(".env"),
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    where: common.Where = common.Where(),
    access: common.ApiAccess = common.ApiAccess(),
) -> None:
    from unkey_deploy.api.variables import VariablesAPI

    ref = _environment(where)
    if file.exists() and not force:
        raise UsageError(f"{file} exists: pass --force to replace it, or name another FILE")
    if file.is_dir():
        raise UsageError(f"{file} is a directory: name a file, e.g. {file / '.env'}")
    with access.client() as client:
        found = VariablesAPI(client).list_all(ref)
    _write_private(file, render_dotenv(found, str(ref)))
    readable = sum(1 for v in found if v.kind == "recoverable" and v.value is not None)
    hidden = len(found) - readable
    note = f" ({hidden} writeonly as comments: their values cannot be read back)" if hidden else ""
    print(f"Wrote {readable} variable(s) of {ref} to {file}{note}")


def render_dotenv(variables: list[Variable], where: str) -> str:
    """A dotenv file the build variables' parser reads back exactly."""
    lines = [f"# Runtime variables of {where}, written by `unkey env pull`"]
    for v in variables:
        if v.kind == "recoverable" and v.value is not None:
            lines.append(f"{v.key}={_dotenv_value(v.value)}")
        else:
            lines.append(f"# {v.key} is writeonly: its value cannot be read back")
    return "\n".join(lines) + "\n"


def _dotenv_value(value: str) -> str:
    import re

    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", value):
        return value
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 through a temporary file in the same directory."""
    import tempfile

    directory = path.resolve().parent
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UnkeyError(f"cannot write {path}: {exc.strerror}") from None


def register(app: typer.Typer) -> None:
    common.add_commands(app, env_app, [
        ("list",
         "List the runtime variables of an environment: key, kind and creation time.\n\n"
         "Values stay hidden; --reveal shows those of recoverable variables. Writeonly values can never be read "
         "back.\n\n"
         "\b\n"
         "Examples:\n"
         "  unkey env list --project=acme --app=api --env=production\n"
         "  unkey env list --project=acme --reveal --output=json",
         list_variables),
        ("set",
         "Create or overwrite runtime variables (writeonly unless --recoverable).\n\n"
         "KEY=VALUE, KEY alone (value from your environment, so it stays off the command line) and --from-file "
         "(dotenv syntax) can be combined; later ones win. Names are checked before anything is sent. More than "
         "50 go in batches; if one fails, the error lists which were set. --prune removes every variable not "
         "given, after listing them and asking (pass --yes without a terminal).\n\n"
         "\b\n"
         "Examples:\n"
         "  unkey env set DATABASE_URL --project=acme --env=production\n"
         "  unkey env set LOG_LEVEL=debug FEATURE_X=on --recoverable --project=acme\n"
         "  unkey env set --from-file .env.production --prune --yes --project=acme --env=production",
         set_variables),
        ("unset",
         "Remove runtime variables by name (names that are not set are ignored).\n\n"
         "\b\n"
         "Example:\n"
         "  unkey env unset OLD_FLAG LEGACY_URL --project=acme --env=production",
         unset_variables),
        ("pull",
         "Write the environment's recoverable variables to a dotenv file (mode 0600); writeonly ones become "
         "comments, as their values cannot be read back. An existing FILE is kept unless --force.\n\n"
         "\b\n"
         "Examples:\n"
         "  unkey env pull --project=acme --env=preview\n"
         "  unkey env pull .env.production --project=acme --env=production --force",
         pull),
    ])
