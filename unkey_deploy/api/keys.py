"""Key operations: keys.updateCredits and keys.updateKey, and what keys.updateCredits does to a key's credits.

Bodies are checked against `schemas` before they are sent; a field left out of `changes` is left
out of the body (the API keeps its current value), while None is sent as null (the API clears it).
`credits_after` and `stored_credits` state the credits rules of the API's spec once, for `unkey local`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unkey_deploy.api.schemas import INT64_MAX, CreditsOperation, require_valid

if TYPE_CHECKING:
    from unkey_deploy.api.client import Client, Response

__all__ = [
    "CreditsOperation", "UnlimitedCredits", "credits_after", "credits_body", "stored_credits", "update_credits",
    "update_key", "update_key_body",
]


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


class UnlimitedCredits(ValueError):
    """increment or decrement asked of a key with unlimited credits: there is no number to change."""


def credits_after(current: dict[str, Any] | None, operation: str, value: int | None) -> dict[str, Any]:
    """A key's credits after a valid keys.updateCredits: set replaces the remaining credits (None makes them
    unlimited, which drops the refill); increment and decrement add and subtract `value`, stopping at zero."""
    credits = current or {"remaining": None}
    if operation == "set":
        return {"remaining": None} if value is None else {**credits, "remaining": value}
    if credits.get("remaining") is None or value is None:
        raise UnlimitedCredits(operation)
    delta = value if operation == "increment" else -value
    return {**credits, "remaining": min(max(credits["remaining"] + delta, 0), INT64_MAX)}


def stored_credits(value: dict[str, Any] | None) -> dict[str, Any]:
    """Credits as a key keeps them after keys.createKey or keys.updateKey: without a number of remaining
    credits the key is unlimited, and unlimited credits have no refill."""
    if not value or value.get("remaining") is None:
        return {"remaining": None}
    credits = {"remaining": value["remaining"]}
    if value.get("refill"):
        credits["refill"] = value["refill"]
    return credits
