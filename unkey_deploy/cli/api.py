"""`unkey api` commands: direct calls to Unkey's API, one command per operation.

Every command takes the global flags --root-key, --api-url, --config and --output, checks its body
locally against the API's request schema, then prints `req_xxx (took 45ms)` and the data, or with
--output=json the whole response envelope.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from unkey_deploy.cli import _common as common
from unkey_deploy.cli import api_flags
from unkey_deploy.cli.options import ApiUrl as ApiUrlOption
from unkey_deploy.cli.options import ConfigPath as ConfigOption
from unkey_deploy.cli.options import RootKey as RootKeyOption
from unkey_deploy.errors import UsageError

if TYPE_CHECKING:
    from unkey_deploy.api import Client, Response

OutputOption = Annotated[
    str,
    typer.Option(
        "--output",
        metavar="FORMAT",
        help="json prints the full response envelope {meta, data} for piping; "
        "text (the default) prints the request ID, latency and data.",
    ),
]
OUTPUT_FORMATS = ("text", "json")
KeyIdOption = Annotated[str, typer.Option("--key-id", metavar="ID", help="The key's ID (key_...).")]
RatelimitsJsonOption = Annotated[
    str | None,
    typer.Option("--ratelimits-json", metavar="JSON", show_default=False,
                 help="Array of rate limits replacing the current ones; [] removes them all."),
]

@dataclass(frozen=True)
class ApiCall:
    """The --root-key, --api-url, --config and --output flags of every `unkey api` command (see `_api_call`);
    --output is checked when they are read, before the command's own flags."""

    root_key: str | None = None
    api_url: str | None = None
    config: Path | None = None
    output: str = "text"

    def __post_init__(self) -> None:
        if self.output not in OUTPUT_FORMATS:
            raise UsageError(f"--output must be json or text, got {self.output!r}")

    def send(self, request: Callable[[Client], Response]) -> None:
        """Resolve credentials and URL (flag > environment > config file), call, print the result."""
        from unkey_deploy.api.client import open_client
        from unkey_deploy.config import resolve_api_url, resolve_root_key
        from unkey_deploy.report.plain import PlainReporter

        credentials = resolve_root_key(self.root_key, self.config)
        assert credentials is not None  # required=True raises instead of returning None
        url = resolve_api_url(self.api_url, self.config)
        with open_client(url, credentials.root_key, PlainReporter(sys.stderr).warn) as client:
            response = request(client)
        from unkey_deploy.report.safe import json_text, text

        if self.output == "json":
            print(json_text(response.envelope))
        else:
            print(f"{text(response.request_id or 'no request ID', 200)} (took {response.elapsed_ms}ms)")
            print()
            print(json_text(response.data))


CALL_FLAGS: common.FlagGroups = {
    "call": (ApiCall, (("root_key", RootKeyOption, None), ("api_url", ApiUrlOption, None),
                       ("config", ConfigOption, None), ("output", OutputOption, "text"))),
}


def _api_call(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with its `call: ApiCall` parameter replaced by --root-key, --api-url, --config and --output."""
    return common.with_flag_groups(CALL_FLAGS, command)


def _optional(flag: str, metavar: str, help: str) -> Any:
    """A text flag that is None when left out (the setting stays as it is)."""
    return typer.Option(None, flag, metavar=metavar, show_default=False, help=help)


api_app = typer.Typer(
    name="api",
    help="Call Unkey's API directly: one command per operation.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey api keys update-credits --key-id=key_1234abcd --operation=set --value=1000\n"
    "  unkey api keys update-key --key-id=key_1234abcd --enabled=false\n"
    "  unkey api identities update-identity --identity=user_123 --meta-json='{}'",
    no_args_is_help=True,
    rich_markup_mode=None,
)
keys_app = typer.Typer(
    name="keys",
    help="Update API keys: credits, name, metadata, expiry, rate limits, roles and permissions.\n\n"
    "Example:\n\n  unkey api keys update-key --key-id=key_1234abcd --enabled=false",
    no_args_is_help=True,
    rich_markup_mode=None,
)
identities_app = typer.Typer(
    name="identities",
    help="Update identities: metadata and the rate limits shared by their keys.\n\n"
    "Example:\n\n  unkey api identities update-identity --identity=user_123 --ratelimits-json='[]'",
    no_args_is_help=True,
    rich_markup_mode=None,
)
api_app.add_typer(keys_app)
api_app.add_typer(identities_app)


def register(app: typer.Typer) -> None:
    app.add_typer(api_app)


@keys_app.command(
    "update-credits",
    help="Set, increment or decrement a key's remaining credits.\n\n"
    "set without --value makes the key unlimited (this also clears its refill settings); "
    "set --value=0 leaves it with zero credits. increment and decrement need --value; "
    "a decrement below zero stops at zero.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey api keys update-credits --key-id=key_1234abcd --operation=set --value=1000\n"
    "  unkey api keys update-credits --key-id=key_1234abcd --operation=increment --value=500\n"
    "  unkey api keys update-credits --key-id=key_1234abcd --operation=decrement --value=100\n"
    "  unkey api keys update-credits --key-id=key_1234abcd --operation=set   # unlimited\n"
    "  unkey api keys update-credits --key-id=key_1234abcd --operation=set --value=1000 --output=json",
)
@_api_call
def update_credits(
    key_id: KeyIdOption,
    operation: Annotated[
        str, typer.Option("--operation", metavar="OP", help="set, increment or decrement.")
    ],
    value: str | None = _optional("--value", "N", "Credits (a non-negative integer); omit with set for unlimited."),
    call: ApiCall = ApiCall(),
) -> None:
    from unkey_deploy.api import keys

    op = api_flags.credits_operation(operation)
    amount = api_flags.credits_value(op, value)
    body = api_flags.build(lambda: keys.credits_body(key_id, op, amount), api_flags.CREDITS_FLAGS)
    call.send(lambda client: keys.update_credits(client, body))


@keys_app.command(
    "update-key",
    help="Change a key's settings; a flag left out leaves that setting unchanged.\n\n"
    "Clear a setting by sending null: --meta-json=null, --credits-json=null (unlimited), or "
    "--clear=FIELD for name, external-id, expires, meta or credits (repeat or comma-separate). "
    "Empty lists remove everything: --ratelimits-json='[]', --roles='', --permissions=''. "
    "--roles and --permissions replace the current lists. Rate limit entries need name (3+ "
    "characters), limit (>= 1) and duration (ms, >= 1000); autoApply defaults to false.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey api keys update-key --key-id=key_1234abcd --name='Updated Key Name'\n"
    "  unkey api keys update-key --key-id=key_1234abcd --enabled=false\n"
    "  unkey api keys update-key --key-id=key_1234abcd --external-id=user_5678 --roles=api_admin,billing_reader\n"
    "  unkey api keys update-key --key-id=key_1234abcd --meta-json='{\"plan\":\"enterprise\",\"team\":\"acme\"}'\n"
    "  unkey api keys update-key --key-id=key_1234abcd "
    "--credits-json='{\"remaining\":5000,\"refill\":{\"interval\":\"monthly\",\"amount\":5000}}'\n"
    "  unkey api keys update-key --key-id=key_1234abcd "
    "--ratelimits-json='[{\"name\":\"requests\",\"limit\":500,\"duration\":60000,\"autoApply\":true}]'\n"
    "  unkey api keys update-key --key-id=key_1234abcd --expires=2030-01-01T00:00:00Z\n"
    "  unkey api keys update-key --key-id=key_1234abcd --clear=expires,external-id\n"
    "  unkey api keys update-key --key-id=key_1234abcd --name='Scripted Update' --output=json",
)
@_api_call
def update_key(
    key_id: KeyIdOption,
    name: str | None = _optional("--name", "NAME", "Display name."),
    external_id: str | None = _optional(
        "--external-id", "ID", "Your user or entity ID; links the key to that identity (created if missing)."),
    meta_json: str | None = _optional(
        "--meta-json", "JSON", "Metadata object, replacing the current one; null removes it."),
    expires: str | None = _optional(
        "--expires", "TIME", "Expiry as Unix milliseconds or ISO-8601 (UTC unless it has an offset)."),
    credits_json: str | None = _optional(
        "--credits-json", "JSON",
        'Credits, e.g. {"remaining":100,"refill":{"interval":"daily","amount":100}}; null makes the key unlimited.'),
    ratelimits_json: RatelimitsJsonOption = None,
    enabled: str | None = _optional(
        "--enabled", "BOOL", "true or false; false makes every verification fail with DISABLED."),
    roles: str | None = _optional("--roles", "A,B", "Comma-separated role names, replacing the current roles."),
    permissions: str | None = _optional(
        "--permissions", "X,Y", "Comma-separated permission names, replacing the current direct permissions."),
    clear: Annotated[
        list[str] | None,
        typer.Option("--clear", metavar="FIELD", show_default=False,
                     help="Send null for name, external-id, expires, meta or credits."),
    ] = None,
    call: ApiCall = ApiCall(),
) -> None:
    from unkey_deploy.api import keys

    changes = api_flags.update_key_changes(
        {"name": name, "externalId": external_id, "meta": meta_json, "expires": expires, "credits": credits_json,
         "ratelimits": ratelimits_json, "enabled": enabled, "roles": roles, "permissions": permissions},
        clear or [], warn=_warn,
    )
    body = api_flags.build(lambda: keys.update_key_body(key_id, changes), api_flags.UPDATE_KEY_FLAGS)
    if body.keys() == {"keyId"}:
        raise UsageError(api_flags.NOTHING_TO_UPDATE_KEY)
    call.send(lambda client: keys.update_key(client, body))


@identities_app.command(
    "update-identity",
    help="Replace an identity's metadata and/or rate limits; a flag left out leaves that part unchanged.\n\n"
    "--meta-json='{}' clears the metadata and --ratelimits-json='[]' removes every rate limit. Rate "
    "limit entries need name (3+ characters), limit (>= 1) and duration (ms, >= 1000); autoApply "
    "defaults to false.\n\n"
    "Examples:\n\n"
    "\b\n"
    "  unkey api identities update-identity --identity=user_123 "
    "--meta-json='{\"plan\":\"premium\",\"name\":\"Alice Smith\"}'\n"
    "  unkey api identities update-identity --identity=user_123 "
    "--ratelimits-json='[{\"name\":\"requests\",\"limit\":1000,\"duration\":3600000,\"autoApply\":true}]'\n"
    "  unkey api identities update-identity --identity=user_123 --meta-json='{}' --ratelimits-json='[]'\n"
    "  unkey api identities update-identity --identity=user_123 --meta-json='{\"plan\":\"enterprise\"}' "
    "--output=json",
)
@_api_call
def update_identity(
    identity: Annotated[
        str, typer.Option("--identity", metavar="ID", help="The identity's externalId or its ID (id_...).")
    ],
    meta_json: str | None = _optional(
        "--meta-json", "JSON", "Metadata object replacing the current one; {} clears it."),
    ratelimits_json: RatelimitsJsonOption = None,
    call: ApiCall = ApiCall(),
) -> None:
    from unkey_deploy.api import identities

    changes: dict[str, Any] = {}
    if meta_json is not None:
        changes["meta"] = api_flags.json_value(
            "--meta-json", meta_json, null_hint="pass --meta-json='{}' to clear the metadata"
        )
    if ratelimits_json is not None:
        changes["ratelimits"] = api_flags.ratelimits("--ratelimits-json", ratelimits_json)
    body = api_flags.build(
        lambda: identities.update_identity_body(identity, changes), api_flags.UPDATE_IDENTITY_FLAGS
    )
    if body.keys() == {"identity"}:
        raise UsageError("nothing to update: pass --meta-json and/or --ratelimits-json")
    call.send(lambda client: identities.update_identity(client, body))


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)

