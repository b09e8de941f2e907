"""`keys.*` and `identities.*` over the local store, enough to try the `unkey api` commands locally.

Keys and identities are JSON documents in the store; `keys.createKey` and `identities.createIdentity`
seed them. Handlers check the parsed body against its operation's schema in `unkey_deploy.api.schemas`
and return (HTTP status, response body without `meta`).
"""

from __future__ import annotations

import secrets
from typing import Any

from unkey_deploy.api import keys
from unkey_deploy.local import problems
from unkey_deploy.local.deployments_api import Context
from unkey_deploy.local.problems import ValidationIssue, valid_body
from unkey_deploy.local.store import new_id, now_ms


def create_key(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("keys.createKey", body)
    store = ctx.controller.store
    key_id = new_id("key_", 22)
    secret = secrets.token_urlsafe(body.get("byteLength", 16))
    plaintext = f"{body['prefix']}_{secret}" if body.get("prefix") else secret
    record = {field: body[field] for field in body if field not in ("byteLength", "recoverable")}
    record.update(keyId=key_id, createdAt=now_ms(), enabled=body.get("enabled", True))
    if "credits" in body:
        record["credits"] = keys.stored_credits(body["credits"])
    if "externalId" in body:
        record["identityId"] = _identity_for(ctx, body["externalId"])["id"]
    store.put_record("key", key_id, record)
    return 200, {"data": {"keyId": key_id, "key": plaintext}}


def update_key(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("keys.updateKey", body)
    record = _key(ctx, body["keyId"])
    for name, value in body.items():
        if name == "keyId":
            continue
        if value is None:
            record.pop(name, None)
            if name == "externalId":
                record.pop("identityId", None)
        elif name == "credits":
            record["credits"] = keys.stored_credits(value)
        else:
            record[name] = value
            if name == "externalId":
                record["identityId"] = _identity_for(ctx, value)["id"]
    record["updatedAt"] = now_ms()
    ctx.controller.store.put_record("key", record["keyId"], record)
    return 200, {"data": {}}


def update_credits(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("keys.updateCredits", body)
    record = _key(ctx, body["keyId"])
    operation = body["operation"]
    try:
        credits = keys.credits_after(record.get("credits"), operation, body.get("value"))
    except keys.UnlimitedCredits:
        raise problems.invalid_input(
            [ValidationIssue("body.operation", f"cannot {operation} the credits of a key with unlimited usage",
                             "use operation set to give the key a number of credits first")]
        ) from None
    record["credits"] = credits
    record["updatedAt"] = now_ms()
    ctx.controller.store.put_record("key", record["keyId"], record)
    return 200, {"data": credits}


def create_identity(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("identities.createIdentity", body)
    if ctx.controller.store.find_record("identity", "externalId", body["externalId"]):
        raise problems.conflict("identity", f"An identity with externalId {body['externalId']} already exists.")
    identity = _new_identity(ctx, body["externalId"], body.get("meta") or {}, body.get("ratelimits") or [])
    return 200, {"data": {"identityId": identity["id"]}}


def update_identity(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("identities.updateIdentity", body)
    identity = _identity(ctx, body["identity"])
    if "meta" in body:
        identity["meta"] = body["meta"]
    if "ratelimits" in body:
        identity["ratelimits"] = _ratelimits(body["ratelimits"])
    ctx.controller.store.put_record("identity", identity["id"], identity)
    return 200, {"data": identity}


def get_identity(ctx: Context, body: Any) -> tuple[int, dict[str, Any]]:
    valid_body("identities.getIdentity", body)
    return 200, {"data": _identity(ctx, body["identity"])}


def _ratelimits(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": new_id("rl_"), **item} for item in items]


def _key(ctx: Context, key_id: str) -> dict[str, Any]:
    record = ctx.controller.store.get_record("key", key_id)
    if record is None:
        raise problems.not_found("key", f"The key {key_id} does not exist.")
    return record


def _identity(ctx: Context, reference: str) -> dict[str, Any]:
    store = ctx.controller.store
    identity = store.get_record("identity", reference) or store.find_record("identity", "externalId", reference)
    if identity is None:
        raise problems.not_found("identity", f"The identity {reference} does not exist.")
    return identity


def _identity_for(ctx: Context, external_id: str) -> dict[str, Any]:
    found = ctx.controller.store.find_record("identity", "externalId", external_id)
    return found or _new_identity(ctx, external_id, {}, [])


def _new_identity(ctx: Context, external_id: str, meta: dict[str, Any], ratelimits: list[Any]) -> dict[str, Any]:
    identity_id = new_id("id_")
    identity = {"id": identity_id, "externalId": external_id, "meta": meta, "ratelimits": _ratelimits(ratelimits)}
    ctx.controller.store.put_record("identity", identity_id, identity)
    return identity


ROUTES = {
    "keys.createKey": create_key,
    "keys.updateKey": update_key,
    "keys.updateCredits": update_credits,
    "identities.createIdentity": create_identity,
    "identities.updateIdentity": update_identity,
    "identities.getIdentity": get_identity,
}
