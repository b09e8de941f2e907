"""Request bodies of the key, identity and deployment operations, checked locally before anything is sent.

The schemas restate the API's request bodies (keys.updateCredits, keys.updateKey,
identities.updateIdentity, deployments.*) in a small JSON Schema subset: type (a name or a list, "null" included),
properties, required, additionalProperties, enum, pattern, minLength/maxLength, minimum/maximum,
items, maxItems and maxProperties. Rules a schema cannot say (refillDay needs a monthly interval,
deployment list filters nest, a deployment has exactly one source) are checked by `check_body` after the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]
Path = tuple[str | int, ...]

INT64_MAX = 2**63 - 1
EXPIRES_MAX = 4102444800000  # 2100-01-01T00:00:00Z in milliseconds

KEY_ID: Schema = {"type": "string", "minLength": 3, "maxLength": 255, "pattern": r"^[a-zA-Z0-9_]+$"}

# Rate limit entries reject unknown fields: a misspelt `autoApply` would otherwise be dropped silently.
RATELIMIT_REQUEST: Schema = {
    "type": "object",
    "required": ["name", "limit", "duration", "autoApply"],
    "properties": {
        "name": {"type": "string", "minLength": 3, "maxLength": 128},
        "limit": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
        "duration": {"type": "integer", "minimum": 1000, "maximum": INT64_MAX},
        "autoApply": {"type": "boolean"},
    },
    "additionalProperties": False,
}

UPDATE_KEY_CREDITS_REFILL: Schema = {
    "type": ["object", "null"],
    "required": ["interval", "amount"],
    "properties": {
        "interval": {"type": "string", "enum": ["daily", "monthly"]},
        "amount": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
        "refillDay": {"type": "integer", "minimum": 1, "maximum": 31},
    },
    "additionalProperties": False,
}

UPDATE_KEY_CREDITS: Schema = {
    "type": ["object", "null"],
    "properties": {
        "remaining": {"type": ["integer", "null"], "minimum": 0, "maximum": INT64_MAX},
        "refill": UPDATE_KEY_CREDITS_REFILL,
    },
    "additionalProperties": False,
}

UPDATE_CREDITS_BODY: Schema = {
    "type": "object",
    "required": ["keyId", "operation"],
    "properties": {
        "keyId": {"type": "string", "minLength": 3},
        "value": {"type": ["integer", "null"], "minimum": 0, "maximum": INT64_MAX},
        "operation": {"type": "string", "enum": ["set", "increment", "decrement"]},
    },
    "additionalProperties": False,
}

UPDATE_KEY_BODY: Schema = {
    "type": "object",
    "required": ["keyId"],
    "properties": {
        "keyId": KEY_ID,
        "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
        "externalId": {
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": 255,
            "pattern": r"^[a-zA-Z0-9_.-]+$",
        },
        "meta": {"type": ["object", "null"], "maxProperties": 100},
        "expires": {"type": ["integer", "null"], "minimum": 0, "maximum": EXPIRES_MAX},
        "credits": UPDATE_KEY_CREDITS,
        "ratelimits": {"type": "array", "maxItems": 50, "items": RATELIMIT_REQUEST},
        "enabled": {"type": "boolean"},
        "roles": {
            "type": "array",
            "maxItems": 100,
            "items": {"type": "string", "minLength": 1, "maxLength": 128},
        },
        "permissions": {
            "type": "array",
            "maxItems": 1000,
            "items": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[a-zA-Z0-9_:\-\.\*]+$"},
        },
    },
    "additionalProperties": False,
}

UPDATE_IDENTITY_BODY: Schema = {
    "type": "object",
    "required": ["identity"],
    "properties": {
        "identity": {"type": "string", "minLength": 1},
        "meta": {"type": "object", "maxProperties": 100},
        "ratelimits": {"type": "array", "maxItems": 50, "items": RATELIMIT_REQUEST},
    },
    "additionalProperties": False,
}

# deployments.*: project, app, environment and deployment IDs are ResourceIdentifiers (ID or slug).
RESOURCE_IDENTIFIER: Schema = {"type": "string", "minLength": 3, "maxLength": 255, "pattern": r"^[a-zA-Z0-9_-]+$"}

DEPLOYMENT_STATUSES = (
    "pending", "starting", "building", "deploying", "network", "finalizing", "ready", "failed", "skipped",
    "awaiting_approval", "stopped", "superseded", "cancelled",
)
LIST_DEPLOYMENTS_MAX_LIMIT = 100

CREATE_DEPLOYMENT_BODY: Schema = {
    "type": "object",
    "required": ["project", "app", "environment"],
    "properties": {
        "project": RESOURCE_IDENTIFIER,
        "app": RESOURCE_IDENTIFIER,
        "environment": RESOURCE_IDENTIFIER,
        "git": {
            "type": "object",
            "properties": {
                "branch": {"type": "string", "maxLength": 256},
                "commitSha": {"type": "string", "maxLength": 40},
                "repository": {"type": "string", "maxLength": 256, "pattern": r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+$"},
            },
        },
        "image": {
            "type": "object",
            "required": ["dockerImage"],
            "properties": {"dockerImage": {"type": "string", "minLength": 1, "pattern": r"\S"}},
        },
        "deployment": {
            "type": "object",
            "required": ["deploymentId"],
            "properties": {"deploymentId": RESOURCE_IDENTIFIER},
        },
    },
    "additionalProperties": False,
}

DEPLOYMENT_ID_BODY: Schema = {
    "type": "object",
    "required": ["deploymentId"],
    "properties": {"deploymentId": RESOURCE_IDENTIFIER},
    "additionalProperties": False,
}

LIST_DEPLOYMENTS_BODY: Schema = {
    "type": "object",
    "properties": {
        "project": RESOURCE_IDENTIFIER,
        "app": RESOURCE_IDENTIFIER,
        "environment": RESOURCE_IDENTIFIER,
        "status": {"type": "array", "maxItems": 13, "items": {"type": "string", "enum": list(DEPLOYMENT_STATUSES)}},
        "limit": {"type": "integer", "minimum": 1, "maximum": LIST_DEPLOYMENTS_MAX_LIMIT},
        "cursor": {"type": "string"},
    },
    "additionalProperties": False,
}

REQUEST_BODIES: dict[str, Schema] = {
    "keys.updateCredits": UPDATE_CREDITS_BODY,
    "keys.updateKey": UPDATE_KEY_BODY,
    "identities.updateIdentity": UPDATE_IDENTITY_BODY,
    "deployments.createDeployment": CREATE_DEPLOYMENT_BODY,
    "deployments.getDeployment": DEPLOYMENT_ID_BODY,
    "deployments.listDeployments": LIST_DEPLOYMENTS_BODY,
    "deployments.promoteDeployment": DEPLOYMENT_ID_BODY,
    "deployments.rollbackDeployment": DEPLOYMENT_ID_BODY,
    "deployments.startDeployment": DEPLOYMENT_ID_BODY,
    "deployments.stopDeployment": DEPLOYMENT_ID_BODY,
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request body: where (a path into the body) and what."""

    path: Path
    message: str

    @property
    def location(self) -> str:
        """The path as `ratelimits[0].name` (`body` for the body itself)."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "body"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class InvalidBody(ValueError):
    """A body breaks its operation's request schema; `problems` says where and how."""

    def __init__(self, operation: str, problems: list[Problem]) -> None:
        super().__init__(f"{operation}: " + "; ".join(str(p) for p in problems))
        self.operation = operation
        self.problems = problems


def require_valid(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` itself when it is a valid request body for `operation`; InvalidBody otherwise."""
    problems = check_body(operation, body)
    if problems:
        raise InvalidBody(operation, problems)
    return body


def check_body(operation: str, body: dict[str, Any]) -> list[Problem]:
    """Every problem with `body` as the request body of `operation` (empty when it is valid)."""
    problems = validate(REQUEST_BODIES[operation], body)
    if problems:
        return problems
    if operation == "keys.updateCredits":
        if body["operation"] != "set" and body.get("value") is None:
            problems.append(Problem(("value",), f"is required for the {body['operation']} operation"))
    elif operation == "keys.updateKey":
        problems.extend(_credits_rules(body.get("credits")))
    elif operation == "deployments.createDeployment":
        sources = [name for name in DEPLOYMENT_SOURCES if name in body]
        if len(sources) != 1:
            got = ", ".join(sources) or "none"
            problems.append(Problem((), f"needs exactly one source of image, git or deployment, got {got}"))
    elif operation == "deployments.listDeployments":
        problems.extend(_list_filter_rules(body))
    return problems


DEPLOYMENT_SOURCES = ("image", "git", "deployment")


def _list_filter_rules(body: dict[str, Any]) -> list[Problem]:
    """Filters nest: app requires project, environment requires project and app."""
    if "app" in body and "project" not in body:
        return [Problem(("app",), "requires project")]
    if "environment" in body and not ("project" in body and "app" in body):
        return [Problem(("environment",), "requires project and app")]
    return []


def _credits_rules(credits: dict[str, Any] | None) -> list[Problem]:
    if not credits:
        return []
    problems = []
    refill = credits.get("refill")
    if "remaining" in credits and credits["remaining"] is None and refill:
        problems.append(
            Problem(("credits", "refill"), "cannot be set with unlimited credits (remaining is null)")
        )
    if refill and "refillDay" in refill and refill["interval"] != "monthly":
        problems.append(Problem(("credits", "refill", "refillDay"), "is only allowed with interval monthly"))
    return problems


def validate(schema: Schema, value: Any, path: Path = ()) -> list[Problem]:
    """Check `value` against `schema` (the subset described in the module docstring)."""
    types = schema.get("type")
    allowed = [types] if isinstance(types, str) else list(types or [])
    if allowed and not any(_is_type(value, t) for t in allowed):
        return [Problem(path, f"must be {' or '.join(_TYPE_NAMES[t] for t in allowed)}, got {_describe(value)}")]
    if value is None:
        return []
    problems: list[Problem] = []
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(c) for c in schema["enum"])
        problems.append(Problem(path, f"must be one of {choices}, got {_describe(value)}"))
    if isinstance(value, str):
        problems.extend(_check_string(schema, value, path))
    elif isinstance(value, int) and not isinstance(value, bool):
        problems.extend(_check_integer(schema, value, path))
    elif isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(Problem(path, f"must have at most {schema['maxItems']} entries, got {len(value)}"))
        for index, item in enumerate(value):
            problems.extend(validate(schema.get("items", {}), item, (*path, index)))
    elif isinstance(value, dict):
        problems.extend(_check_object(schema, value, path))
    return problems


def _check_string(schema: Schema, value: str, path: Path) -> list[Problem]:
    if "minLength" in schema and len(value) < schema["minLength"]:
        unit = "character" if schema["minLength"] == 1 else "characters"
        return [Problem(path, f"must be at least {schema['minLength']} {unit}, got {_describe(value)}")]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [Problem(path, f"must be at most {schema['maxLength']} characters, got {len(value)}")]
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return [Problem(path, f"must match {schema['pattern']}, got {_describe(value)}")]
    return []


def _check_integer(schema: Schema, value: int, path: Path) -> list[Problem]:
    if "minimum" in schema and value < schema["minimum"]:
        return [Problem(path, f"must be at least {schema['minimum']}, got {value}")]
    if "maximum" in schema and value > schema["maximum"]:
        return [Problem(path, f"must be at most {schema['maximum']}, got {value}")]
    return []


def _check_object(schema: Schema, value: dict[str, Any], path: Path) -> list[Problem]:
    problems = []
    properties: dict[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            problems.append(Problem((*path, name), "is required"))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        problems.append(
            Problem(path, f"must have at most {schema['maxProperties']} fields, got {len(value)}")
        )
    for name, item in value.items():
        if name in properties:
            problems.extend(validate(properties[name], item, (*path, name)))
        elif schema.get("additionalProperties") is False:
            known = ", ".join(properties)
            problems.append(Problem((*path, name), f"is not a known field (known: {known})"))
    return problems


_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _PY_TYPES[name])


_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _describe(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."
