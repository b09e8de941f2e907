"""Key operations: keys.updateCredits and keys.updateKey.

Bodies are checked against `schemas` before they are sent; a field left out of `changes` is left
out of the body (the API keeps its current value), while None is sent as null (the API clears it).
"""

from __future__ import annotations

from typing import Any, Literal

from unkey_deploy.api.client import Client, Response
from unkey_deploy.api.schemas import require_valid

CreditsOperation = Literal["set", "increment", "decrement"]


def credits_body(key_id: str, operation: CreditsOperation, value: int | None) -> dict[str, Any]:
    """The keys.updateCredits body: `value` None is left out (with set: the key becomes unlimited)."""
    body: dict[str, Any] = {"keyId": key_id, "operation": operation}
    if value is not None:
        body["value"] = value
    return require_valid("keys.updateCredits", body)


def update_credits(client: Client, body: dict[str, Any]) -> Response:
    """Send a body from `credits_body`. increment and decrement are not retried once sent:
    a second delivery would apply them twice."""
    body = require_valid("keys.updateCredits", body)
    return client.call("keys.updateCredits", body, idempotent=body["operation"] == "set")


def update_key_body(key_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """The keys.updateKey body: `keyId` plus exactly the fields in `changes` (API names)."""
    return require_valid("keys.updateKey", {"keyId": key_id, **changes})


def update_key(client: Client, body: dict[str, Any]) -> Response:
    """Send a body from `update_key_body`: every field replaces the stored one, so retrying is safe."""
    return client.call("keys.updateKey", require_valid("keys.updateKey", body))
