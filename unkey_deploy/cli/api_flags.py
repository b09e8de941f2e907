"""Turning the flags of the API commands (`unkey api`, and the filters of `unkey deployments list`) into request
body fields, with one clear error per mistake; the request rules themselves live in `api/`.

A flag left out never reaches the body; JSON flags keep `{}`, `[]`, `0` and `false` as they are and
turn the literal `null` into null, so the API can tell "unchanged" from "cleared".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import UsageError

if TYPE_CHECKING:
    from unkey_deploy.api.schemas import CreditsOperation

# Body field -> the flag it comes from, to name the flag in errors.
CREDITS_FLAGS = {"keyId": "--key-id", "operation": "--operation", "value": "--value"}
UPDATE_KEY_FLAGS = {
    "keyId": "--key-id",
    "name": "--name",
    "externalId": "--external-id",
    "meta": "--meta-json",
    "expires": "--expires",
    "credits": "--credits-json",
    "ratelimits": "--ratelimits-json",
    "enabled": "--enabled",
    "roles": "--roles",
    "permissions": "--permissions",
}
NOTHING_TO_UPDATE_KEY = "nothing to update: pass at least one of " + ", ".join(
    [flag for field, flag in UPDATE_KEY_FLAGS.items() if field != "keyId"] + ["--clear"]
)
UPDATE_IDENTITY_FLAGS = {"identity": "--identity", "meta": "--meta-json", "ratelimits": "--ratelimits-json"}

# --clear values -> nullable updateKey fields.
CLEARABLE = {"name": "name", "external-id": "externalId", "expires": "expires", "meta": "meta", "credits": "credits"}


def build(make_body: Callable[[], dict[str, Any]], flags: dict[str, str]) -> dict[str, Any]:
    """Run a body builder; schema problems become a usage error naming the flags at fault."""
    from unkey_deploy.api.schemas import InvalidBody, location

    try:
        return make_body()
    except InvalidBody as exc:
        lines = []
        for problem in exc.problems:
            field, *rest = problem.path or ("",)
            flag = flags.get(str(field), str(field))
            inner = location(tuple(rest))
            lines.append(f"{flag}{' ' + inner if inner else ''}: {problem.message}")
        if len(lines) == 1:
            raise UsageError(lines[0]) from None
        raise UsageError(f"{len(lines)} problems with the flags; fix them and retry", details=lines) from None


def nested_filters(values: Mapping[str, str | None], flags: Mapping[str, str]) -> None:
    """The nesting of deployments.listDeployments' filters, checked on the flags given (empty ones count as
    not given) before any request: `--app needs --project`."""
    from unkey_deploy.api.schemas import unnested_filters

    for name, needs in unnested_filters([name for name, value in values.items() if value]):
        raise UsageError(
            f"{flags[name]} needs {' and '.join(flags[need] for need in needs)}: the API finds {_FOUND_IN[name]}"
        )


_FOUND_IN = {"app": "apps within a project", "environment": "environments within an app"}


def credits_operation(text: str) -> CreditsOperation:
    from unkey_deploy.api.schemas import CREDITS_OPERATIONS

    if text not in CREDITS_OPERATIONS:
        *first, last = CREDITS_OPERATIONS
        raise UsageError(f"--operation must be {', '.join(first)} or {last}, got {text!r}")
    return text


def credits_value(op: CreditsOperation, value: str | None) -> int | None:
    """--value as a number of credits; required by the operations that change the credits by an amount."""
    from unkey_deploy.api.schemas import credits_value_needed

    amount = non_negative_int("--value", value) if value is not None else None
    if amount is None and credits_value_needed(op):
        raise UsageError(f"--value is required with --operation={op}: pass the number of credits")
    return amount


def non_negative_int(flag: str, text: str) -> int:
    from unkey_deploy.api.schemas import INT64_MAX

    if not re.fullmatch(r"\+?[0-9]+", text.strip()):
        hint = " (use --operation=decrement to subtract)" if text.strip().startswith("-") else ""
        raise UsageError(f"{flag} must be a non-negative integer, got {text!r}{hint}")
    value = int(text)
    if value > INT64_MAX:
        raise UsageError(f"{flag} must be at most {INT64_MAX}, got {text}")
    return value


def json_value(flag: str, text: str, *, null_hint: str | None = None) -> Any:
    """Parse a JSON flag. `null` is None, unless `null_hint` says how to clear the field instead."""

    def reject_constant(name: str) -> Any:
        raise ValueError(f"{name} is not allowed in JSON")

    try:
        value = json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        line = text.splitlines()[exc.lineno - 1] if text.strip() else ""
        details = [line[:200], " " * min(exc.colno - 1, 200) + "^"] if line else []
        raise UsageError(
            f"{flag} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            " (quote the value in single quotes in your shell)",
            details=details,
        ) from None
    except ValueError as exc:
        raise UsageError(f"{flag} is not valid JSON: {exc}") from None
    if value is None and null_hint:
        raise UsageError(f"{flag} cannot be null: {null_hint}")
    return value


def ratelimits(flag: str, text: str) -> Any:
    """A rate limit array; entries without autoApply get autoApply false (the API's default)."""
    value = json_value(flag, text, null_hint=f"pass {flag}='[]' to remove all rate limits")
    if isinstance(value, list):
        value = [{**entry, "autoApply": entry.get("autoApply", False)} if isinstance(entry, dict) else entry
                 for entry in value]
    return value


def boolean(flag: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise UsageError(f"{flag} must be true or false, got {text!r}")
    return lowered == "true"


def name_list(flag: str, text: str) -> list[str]:
    """A comma-separated list; the empty string is the empty list (removes every entry)."""
    if not text.strip():
        return []
    names = [name.strip() for name in text.split(",")]
    if "" in names:
        raise UsageError(f"{flag} has an empty name in {text!r}: remove the extra comma")
    return names


def expires_ms(text: str, *, warn: Callable[[str], None], now: datetime | None = None) -> int:
    """Unix milliseconds, or an ISO-8601 time (UTC when it has no offset); warns for the past."""
    from unkey_deploy.api.schemas import EXPIRES_MAX
    from unkey_deploy.api.times import iso_ms

    stripped = text.strip()
    if re.fullmatch(r"[0-9]+", stripped):
        millis = int(stripped)
    else:
        try:
            millis = iso_ms(stripped)
        except ValueError:
            raise UsageError(
                f"--expires must be Unix milliseconds (e.g. 1893456000000) or an ISO-8601 time "
                f"(e.g. 2030-01-01T00:00:00Z), got {text!r}"
            ) from None
    if not 0 <= millis <= EXPIRES_MAX:
        raise UsageError(f"--expires must be between 1970 and 2100-01-01T00:00:00Z, got {text!r}")
    current = now or datetime.now(UTC)
    if millis < current.timestamp() * 1000:
        when = datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        hint = f"; in milliseconds that is {millis * 1000}" if millis < 10**11 else ""
        warn(f"--expires {when} is in the past: the key stops verifying at once{hint}")
    return millis


def update_key_changes(
    texts: Mapping[str, str | None], clear: list[str], *, warn: Callable[[str], None]
) -> dict[str, Any]:
    """The keys.updateKey fields of the flags given (`texts`: API field -> the flag's text, None when the flag
    was left out), parsed in the order of UPDATE_KEY_FLAGS, then the fields --clear sends as null."""
    parsers: dict[str, Callable[[str, str], Any]] = {
        "meta": json_value,
        "expires": lambda _flag, text: expires_ms(text, warn=warn),
        "credits": json_value,
        "ratelimits": ratelimits,
        "enabled": boolean,
        "roles": name_list,
        "permissions": name_list,
    }
    changes: dict[str, Any] = {}
    for field, flag in UPDATE_KEY_FLAGS.items():
        text = texts.get(field)
        if text is not None:
            changes[field] = parsers[field](flag, text) if field in parsers else text
    for field in cleared_fields(clear, changes):
        changes[field] = None
    return changes


def cleared_fields(values: list[str], changes: dict[str, Any]) -> list[str]:
    """The updateKey fields named by --clear (repeated or comma-separated), checked for conflicts."""
    fields = []
    for raw in ",".join(values).split(","):
        item = raw.strip().lstrip("-").removesuffix("-json")
        if not item:
            continue
        if item not in CLEARABLE:
            raise UsageError(f"--clear accepts {', '.join(CLEARABLE)}; got {raw.strip()!r}")
        field = CLEARABLE[item]
        if changes.get(field) is not None:
            flag = UPDATE_KEY_FLAGS[field]
            raise UsageError(f"--clear={item} conflicts with {flag}: pass one or the other")
        fields.append(field)
    return fields
