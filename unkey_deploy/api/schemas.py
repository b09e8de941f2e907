"""Request bodies of the key, identity, deployment and platform (project, app, environment, domain)
operations, and the one validator that checks them.

The CLI checks a body before sending it; `unkey local serve` checks each body it receives and answers
a 400 naming every problem. The schemas restate the spec's request bodies in a small JSON Schema subset:
type (a name or a list, "null" included), properties, required, additionalProperties, enum, pattern,
minLength/maxLength, minimum/maximum/multipleOf, items, minItems/maxItems and maxProperties, plus `fix`, a
hint on how to correct a value that breaks the schema. Rules a schema cannot say (increment needs a value, refillDay
needs a monthly interval, deployment list filters nest, a deployment has exactly one source) are checked
by `check_body` alongside the schema.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, get_args

Schema = dict[str, Any]
Path = tuple[str | int, ...]

INT64_MAX = 2**63 - 1
EXPIRES_MAX = 4102444800000  # 2100-01-01T00:00:00Z in milliseconds


def _or_null(schema: Schema) -> Schema:
    """`schema` that also accepts null."""
    return {**schema, "type": [schema["type"], "null"]}


def _closed_object(required: list[str], properties: Schema) -> Schema:
    """An object with these `properties` and no other fields, the `required` ones among them."""
    schema: Schema = {"type": "object"}
    if required:
        schema["required"] = required
    return {**schema, "properties": properties, "additionalProperties": False}


# keys.* and identities.*

KEY_ID: Schema = {"type": "string", "minLength": 3, "maxLength": 255, "pattern": r"^[a-zA-Z0-9_]+$"}
API_ID: Schema = KEY_ID
EXTERNAL_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[a-zA-Z0-9_.-]+$"}
META: Schema = {"type": "object", "maxProperties": 100}
EXPIRES: Schema = {"type": "integer", "minimum": 0, "maximum": EXPIRES_MAX}
CREDITS_REMAINING: Schema = {"type": ["integer", "null"], "minimum": 0, "maximum": INT64_MAX}
ROLES: Schema = {"type": "array", "maxItems": 100, "items": {"type": "string", "minLength": 1, "maxLength": 128}}
PERMISSIONS: Schema = {
    "type": "array",
    "maxItems": 1000,
    "items": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[a-zA-Z0-9_:\-\.\*]+$"},
}

# Rate limit entries reject unknown fields: a misspelt `autoApply` would otherwise be dropped silently.
RATELIMIT_REQUEST: Schema = _closed_object(["name", "limit", "duration", "autoApply"], {
    "name": {"type": "string", "minLength": 3, "maxLength": 128},
    "limit": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
    "duration": {"type": "integer", "minimum": 1000, "maximum": INT64_MAX},
    "autoApply": {"type": "boolean"},
})
RATELIMITS: Schema = {"type": "array", "maxItems": 50, "items": RATELIMIT_REQUEST}

CREDITS_REFILL: Schema = _closed_object(["interval", "amount"], {
    "interval": {"type": "string", "enum": ["daily", "monthly"]},
    "amount": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
    "refillDay": {"type": "integer", "minimum": 1, "maximum": 31},
})

# keys.createKey: credits cannot be null at creation, and need `remaining` (null for unlimited).
KEY_CREDITS: Schema = _closed_object(["remaining"], {"remaining": CREDITS_REMAINING, "refill": CREDITS_REFILL})

# keys.updateKey: null clears credits or their refill.
UPDATE_KEY_CREDITS: Schema = _or_null(
    _closed_object([], {"remaining": CREDITS_REMAINING, "refill": _or_null(CREDITS_REFILL)})
)

CREATE_KEY_BODY: Schema = _closed_object(["apiId"], {
    "apiId": API_ID,
    "prefix": {"type": "string", "minLength": 1, "maxLength": 16, "pattern": r"^[a-zA-Z0-9_]+$"},
    "name": {"type": "string", "minLength": 1, "maxLength": 255},
    "byteLength": {"type": "integer", "minimum": 16, "maximum": 255},
    "externalId": EXTERNAL_ID,
    "meta": META,
    "roles": ROLES,
    "permissions": PERMISSIONS,
    "expires": EXPIRES,
    "credits": KEY_CREDITS,
    "ratelimits": RATELIMITS,
    "enabled": {"type": "boolean"},
    "recoverable": {"type": "boolean"},
})

# keys.updateCredits: set replaces the remaining credits (no value: unlimited); increment and decrement change
# them by a value, so they need one.
CreditsOperation = Literal["set", "increment", "decrement"]
CREDITS_OPERATIONS: tuple[CreditsOperation, ...] = get_args(CreditsOperation)


def credits_value_needed(operation: str) -> bool:
    """Whether a keys.updateCredits `operation` needs a `value` (increment and decrement do)."""
    return operation in ("increment", "decrement")


UPDATE_CREDITS_BODY: Schema = _closed_object(["keyId", "operation"], {
    "keyId": {"type": "string", "minLength": 3},
    "value": CREDITS_REMAINING,
    "operation": {"type": "string", "enum": list(CREDITS_OPERATIONS)},
})

UPDATE_KEY_BODY: Schema = _closed_object(["keyId"], {
    "keyId": KEY_ID,
    "name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
    "externalId": _or_null(EXTERNAL_ID),
    "meta": _or_null(META),
    "expires": _or_null(EXPIRES),
    "credits": UPDATE_KEY_CREDITS,
    "ratelimits": RATELIMITS,
    "enabled": {"type": "boolean"},
    "roles": ROLES,
    "permissions": PERMISSIONS,
})

CREATE_IDENTITY_BODY: Schema = _closed_object(
    ["externalId"], {"externalId": EXTERNAL_ID, "meta": META, "ratelimits": RATELIMITS}
)

GET_IDENTITY_BODY: Schema = _closed_object(["identity"], {"identity": {"type": "string", "minLength": 1}})

UPDATE_IDENTITY_BODY: Schema = _closed_object(
    ["identity"], {"identity": {"type": "string", "minLength": 1}, "meta": META, "ratelimits": RATELIMITS}
)

# deployments.*: project, app, environment and deployment IDs are ResourceIdentifiers (ID or slug).
RESOURCE_IDENTIFIER: Schema = {
    "type": "string",
    "minLength": 3,
    "maxLength": 255,
    "pattern": r"^[a-zA-Z0-9_-]+$",
    "fix": "use at least 3 characters of letters, digits, '_' and '-', e.g. 'my-project'",
}

DEPLOYMENT_STATUSES = (
    "pending", "starting", "building", "deploying", "network", "finalizing", "ready", "failed", "skipped",
    "awaiting_approval", "stopped", "superseded", "cancelled",
)
DEPLOYMENT_SOURCES = ("image", "git", "deployment")
LIST_DEPLOYMENTS_MAX_LIMIT = 100
# listDeployments' filters nest: an app is found within a project, an environment within an app.
LIST_FILTER_NESTING: dict[str, tuple[str, ...]] = {"app": ("project",), "environment": ("project", "app")}

CREATE_DEPLOYMENT_BODY: Schema = _closed_object(["project", "app", "environment"], {
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
})

DEPLOYMENT_ID_BODY: Schema = _closed_object(["deploymentId"], {"deploymentId": RESOURCE_IDENTIFIER})

LIST_DEPLOYMENTS_BODY: Schema = _closed_object([], {
    "project": RESOURCE_IDENTIFIER,
    "app": RESOURCE_IDENTIFIER,
    "environment": RESOURCE_IDENTIFIER,
    "status": {"type": "array", "maxItems": 13, "items": {"type": "string", "enum": list(DEPLOYMENT_STATUSES)}},
    "limit": {
        "type": "integer",
        "minimum": 1,
        "maximum": LIST_DEPLOYMENTS_MAX_LIMIT,
        "fix": f"use a limit from 1 to {LIST_DEPLOYMENTS_MAX_LIMIT}",
    },
    "cursor": {"type": "string"},
})

# deploy.* (internal): one image per call, upper-case statuses in the answer.
_NON_EMPTY: Schema = {"type": "string", "minLength": 1}

DEPLOY_CREATE_DEPLOYMENT_BODY: Schema = {
    "type": "object",
    "required": ["project", "app", "branch", "environmentSlug", "dockerImage"],
    "properties": {
        "project": _NON_EMPTY,
        "app": _NON_EMPTY,
        "keyspaceId": {"type": "string"},
        "branch": _NON_EMPTY,
        "environmentSlug": _NON_EMPTY,
        "dockerImage": _NON_EMPTY,
        "gitCommit": {
            "type": "object",
            "properties": {
                "commitSha": {"type": "string"},
                "commitMessage": {"type": "string"},
                "authorHandle": {"type": "string"},
                "authorAvatarUrl": {"type": "string"},
                "timestamp": {"type": "integer"},
            },
        },
    },
}

DEPLOY_GET_DEPLOYMENT_BODY: Schema = {
    "type": "object",
    "required": ["deploymentId"],
    "properties": {
        "deploymentId": {
            "type": "string",
            "minLength": 1,
            "pattern": r"^d_[a-zA-Z0-9]+$",
            "fix": "use the deploymentId createDeployment returned, e.g. d_abc123",
        },
    },
}

# environments.* variables, analytics.getRuntimeLogs, and the lookups that turn slugs into IDs.
VARIABLE_NAME: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 256,
    "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
    "fix": "use letters, digits and '_', not starting with a digit, e.g. DATABASE_URL",
}
VARIABLE_KINDS = ("writeonly", "recoverable")
VARIABLE_VALUE_MAX = 16384
VARIABLES_PER_CALL = 50
LIST_VARIABLES_MAX_LIMIT = 100
# No pattern on values: a broken pattern would echo the value into the error message.
VARIABLE_VALUE: Schema = {"type": "string", "minLength": 1, "maxLength": VARIABLE_VALUE_MAX}

_ENVIRONMENT_FIELDS: Schema = {
    "project": RESOURCE_IDENTIFIER,
    "app": RESOURCE_IDENTIFIER,
    "environment": RESOURCE_IDENTIFIER,
}

LIST_VARIABLES_BODY: Schema = _closed_object(["project", "app", "environment"], {
    **_ENVIRONMENT_FIELDS,
    "limit": {"type": "integer", "minimum": 1, "maximum": LIST_VARIABLES_MAX_LIMIT},
    "cursor": {"type": "string", "minLength": 1, "maxLength": 1024},
})

SET_VARIABLES_BODY: Schema = _closed_object(["project", "app", "environment", "variables"], {
    **_ENVIRONMENT_FIELDS,
    "variables": {
        "type": "array",
        "maxItems": VARIABLES_PER_CALL,
        "items": {
            "type": "object",
            "required": ["key", "value"],
            "properties": {
                "key": VARIABLE_NAME,
                "value": VARIABLE_VALUE,
                "kind": {"type": "string", "enum": list(VARIABLE_KINDS)},
            },
            "additionalProperties": False,
        },
    },
    "prune": {"type": "boolean"},
})

REMOVE_VARIABLES_BODY: Schema = _closed_object(["project", "app", "environment", "variables"], {
    **_ENVIRONMENT_FIELDS,
    "variables": {"type": "array", "minItems": 1, "maxItems": VARIABLES_PER_CALL, "items": VARIABLE_NAME},
})

RUNTIME_LOGS_BODY: Schema = {
    "type": "object",
    "required": ["query"],
    "properties": {"query": {"type": "string", "minLength": 1}},
}

GET_PROJECT_BODY: Schema = _closed_object(["project"], {"project": RESOURCE_IDENTIFIER})

GET_APP_BODY: Schema = _closed_object(["project", "app"], {"project": RESOURCE_IDENTIFIER, "app": RESOURCE_IDENTIFIER})

GET_ENVIRONMENT_BODY: Schema = _closed_object(["project", "app", "environment"], _ENVIRONMENT_FIELDS)

# projects.*, apps.*, environments.listEnvironments/updateSettings and domains.*: the platform's resources.
LIST_PAGE_MAX_LIMIT = 100
_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 256}
_PAGING: Schema = {
    "limit": {"type": "integer", "minimum": 1, "maximum": LIST_PAGE_MAX_LIMIT,
              "fix": f"use a limit from 1 to {LIST_PAGE_MAX_LIMIT}"},
    "cursor": {"type": "string"},
    "search": {"type": "string", "maxLength": 256},
}
APP_GIT: Schema = _closed_object(["repository"], {
    "repository": {"type": "string", "minLength": 1, "maxLength": 255,
                   "fix": "name the GitHub repository as owner/name, e.g. acme/api"},
    "defaultBranch": {"type": "string", "minLength": 1, "maxLength": 256},
})
HEALTHCHECK_PATH: Schema = {
    "type": "string", "minLength": 1, "maxLength": 512, "pattern": r"^(/[\w\-]+)+(\.[\w]+)?$",
    "fix": "use a path such as /healthz (letters, digits, '_' and '-' between slashes)",
}
HEALTHCHECK: Schema = _or_null(_closed_object(["method", "path"], {
    "method": {"type": "string", "enum": ["GET", "POST"]},
    "path": HEALTHCHECK_PATH,
    "intervalSeconds": {"type": "integer", "minimum": 1, "maximum": 3600},
    "timeoutSeconds": {"type": "integer", "minimum": 1, "maximum": 3600},
    "failureThreshold": {"type": "integer", "minimum": 1, "maximum": 100},
    "initialDelaySeconds": {"type": "integer", "minimum": 0, "maximum": 3600},
}))
REGIONS: Schema = {
    "type": "array",
    "minItems": 1,
    "maxItems": 5,
    "items": {
        "type": "object",
        "required": ["name", "replicas"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "replicas": {
                "type": "object",
                "required": ["min", "max"],
                "properties": {"min": {"type": "integer", "minimum": 0}, "max": {"type": "integer", "minimum": 0}},
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    },
}
# The settings fields of environments.updateSettings (besides project, app and environment).
SETTINGS_FIELDS: Schema = {
    "dockerfile": {"type": ["string", "null"], "minLength": 1, "maxLength": 500},
    "rootDirectory": {"type": "string", "minLength": 1, "maxLength": 500},
    "buildCommand": {"type": ["string", "null"], "minLength": 1, "maxLength": 1000},
    "watchPaths": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 500}},
    "autoDeploy": {"type": "boolean"},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535, "fix": "use a port from 1 to 65535"},
    "vCpus": {"type": "number", "minimum": 0.25, "multipleOf": 0.25, "fix": "use a multiple of 0.25, e.g. 0.5"},
    "memoryMib": {"type": "integer", "minimum": 256, "multipleOf": 256, "fix": "use a multiple of 256, e.g. 512"},
    "storageMib": {"type": "integer", "minimum": 0, "multipleOf": 512, "fix": "use a multiple of 512"},
    "command": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 4096}},
    "healthcheck": HEALTHCHECK,
    "shutdownSignal": {"type": "string", "enum": ["SIGTERM", "SIGINT", "SIGQUIT", "SIGKILL"]},
    "upstreamProtocol": {"type": "string", "enum": ["http1", "h2c"]},
    "openapiSpecPath": _or_null(HEALTHCHECK_PATH),
    "regions": REGIONS,
}
DOMAIN_NAME: Schema = {
    "type": "string", "minLength": 4, "maxLength": 253,
    "pattern": r"^(?=.{4,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$",
    "fix": "use a host name such as api.example.com (no scheme, path or port)",
}

CREATE_PROJECT_BODY: Schema = _closed_object(["name", "slug"], {"name": _NAME, "slug": RESOURCE_IDENTIFIER})
LIST_PROJECTS_BODY: Schema = {"type": "object", "properties": _PAGING, "additionalProperties": False}
CREATE_APP_BODY: Schema = _closed_object(
    ["project", "name", "slug"],
    {"project": RESOURCE_IDENTIFIER, "name": _NAME, "slug": RESOURCE_IDENTIFIER, "git": APP_GIT},
)
LIST_APPS_BODY: Schema = _closed_object(["project"], {"project": RESOURCE_IDENTIFIER, **_PAGING})
UPDATE_SETTINGS_BODY: Schema = _closed_object(
    ["project", "app", "environment"], {**_ENVIRONMENT_FIELDS, **SETTINGS_FIELDS}
)
CREATE_DOMAIN_BODY: Schema = _closed_object(
    ["project", "app", "environment", "domain"], {**_ENVIRONMENT_FIELDS, "domain": DOMAIN_NAME}
)
DOMAIN_BODY: Schema = _closed_object(["domain"], {"domain": DOMAIN_NAME})
LIST_DOMAINS_BODY: Schema = _closed_object(["project", "app", "environment"], {**_ENVIRONMENT_FIELDS, **_PAGING})

REQUEST_BODIES: dict[str, Schema] = {
    "keys.createKey": CREATE_KEY_BODY,
    "keys.updateCredits": UPDATE_CREDITS_BODY,
    "keys.updateKey": UPDATE_KEY_BODY,
    "identities.createIdentity": CREATE_IDENTITY_BODY,
    "identities.getIdentity": GET_IDENTITY_BODY,
    "identities.updateIdentity": UPDATE_IDENTITY_BODY,
    "deploy.createDeployment": DEPLOY_CREATE_DEPLOYMENT_BODY,
    "deploy.getDeployment": DEPLOY_GET_DEPLOYMENT_BODY,
    "deployments.createDeployment": CREATE_DEPLOYMENT_BODY,
    "deployments.getDeployment": DEPLOYMENT_ID_BODY,
    "deployments.listDeployments": LIST_DEPLOYMENTS_BODY,
    "deployments.promoteDeployment": DEPLOYMENT_ID_BODY,
    "deployments.rollbackDeployment": DEPLOYMENT_ID_BODY,
    "deployments.startDeployment": DEPLOYMENT_ID_BODY,
    "deployments.stopDeployment": DEPLOYMENT_ID_BODY,
    "environments.listEnvironmentVariables": LIST_VARIABLES_BODY,
    "environments.setEnvironmentVariables": SET_VARIABLES_BODY,
    "environments.removeEnvironmentVariables": REMOVE_VARIABLES_BODY,
    "environments.getEnvironment": GET_ENVIRONMENT_BODY,
    "analytics.getRuntimeLogs": RUNTIME_LOGS_BODY,
    "projects.getProject": GET_PROJECT_BODY,
    "apps.getApp": GET_APP_BODY,
    "projects.createProject": CREATE_PROJECT_BODY,
    "projects.deleteProject": GET_PROJECT_BODY,
    "projects.listProjects": LIST_PROJECTS_BODY,
    "apps.createApp": CREATE_APP_BODY,
    "apps.deleteApp": GET_APP_BODY,
    "apps.listApps": LIST_APPS_BODY,
    "environments.listEnvironments": GET_APP_BODY,
    "environments.updateSettings": UPDATE_SETTINGS_BODY,
    "domains.createDomain": CREATE_DOMAIN_BODY,
    "domains.getDomain": DOMAIN_BODY,
    "domains.deleteDomain": DOMAIN_BODY,
    "domains.verifyDomain": DOMAIN_BODY,
    "domains.listDomains": LIST_DOMAINS_BODY,
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request body: where (a path into the body), what, and how to correct it."""

    path: Path
    message: str
    fix: str | None = None

    @property
    def location(self) -> str:
        """The path as `ratelimits[0].name` (`body` for the body itself)."""
        return location(self.path) or "body"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def location(path: Path, root: str = "") -> str:
    """A path into a body as the API writes it: `credits.refill.amount`, `ratelimits[0].name`, under `root`
    when one is given (`body.ratelimits[0].name`)."""
    out = root
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


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


def check_body(operation: str, body: Any) -> list[Problem]:
    """Every problem with `body` as the request body of `operation` (empty when it is valid)."""
    problems = validate(REQUEST_BODIES[operation], body)
    if not isinstance(body, dict):
        return problems
    if operation == "keys.updateCredits":
        problems.extend(_credits_operation_rules(body))
    elif operation == "keys.updateKey":
        problems.extend(_credits_rules(body.get("credits")))
    elif operation == "deployments.createDeployment":
        problems.extend(_source_rules(body))
    elif operation == "deployments.listDeployments":
        problems.extend(_list_filter_rules(body))
    return problems


def _credits_operation_rules(body: dict[str, Any]) -> list[Problem]:
    """increment and decrement need a value; set takes null for unlimited."""
    operation = body.get("operation")
    if isinstance(operation, str) and credits_value_needed(operation) and body.get("value") is None:
        return [Problem(("value",), f"is required for the {operation} operation", "send a value >= 0")]
    return []


def _credits_rules(credits: Any) -> list[Problem]:
    """No refill on unlimited credits; refillDay only with a monthly refill."""
    if not isinstance(credits, dict) or not isinstance(credits.get("refill"), dict):
        return []
    refill = credits["refill"]
    problems = []
    if "remaining" in credits and credits["remaining"] is None:
        problems.append(Problem(
            ("credits", "refill"),
            "cannot be set with unlimited credits (remaining is null)",
            "give remaining a number of credits, or leave refill out",
        ))
    if "refillDay" in refill and "interval" in refill and refill["interval"] != "monthly":
        problems.append(Problem(
            ("credits", "refill", "refillDay"),
            "is only allowed with interval monthly",
            "use interval monthly, or leave refillDay out",
        ))
    return problems


def _source_rules(body: dict[str, Any]) -> list[Problem]:
    """A deployment comes from exactly one of an image, a git ref or an earlier deployment."""
    sources = [name for name in DEPLOYMENT_SOURCES if name in body]
    if len(sources) == 1:
        return []
    got = ", ".join(sources) or "none"
    return [Problem(
        (),
        f"needs exactly one source of image, git or deployment, got {got}",
        f"send exactly one of: {', '.join(DEPLOYMENT_SOURCES)}",
    )]


def _list_filter_rules(body: dict[str, Any]) -> list[Problem]:
    return [
        Problem((name,), f"requires {' and '.join(needs)}", "add " + " and ".join(f"`{p}`" for p in needs))
        for name, needs in unnested_filters(body)
    ]


def unnested_filters(given: Collection[str]) -> list[tuple[str, tuple[str, ...]]]:
    """The listDeployments filters in `given` without the filters they nest in, each with those it needs."""
    return [
        (name, needs) for name, needs in LIST_FILTER_NESTING.items()
        if name in given and not all(need in given for need in needs)
    ]


def validate(schema: Schema, value: Any, path: Path = ()) -> list[Problem]:
    """Check `value` against `schema` (the subset described in the module docstring)."""
    types = schema.get("type")
    allowed = [types] if isinstance(types, str) else list(types or [])
    if allowed and not any(_is_type(value, t) for t in allowed):
        expected = " or ".join(_TYPE_NAMES[t] for t in allowed)
        return [Problem(path, f"must be {expected}, got {_describe(value)}", schema.get("fix"))]
    if value is None:
        return []
    problems: list[Problem] = []
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(c) for c in schema["enum"])
        problems.append(Problem(path, f"must be one of {choices}, got {_describe(value)}", f"use one of: {choices}"))
    if isinstance(value, str):
        problems.extend(_check_string(schema, value, path))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        problems.extend(_check_integer(schema, value, path))
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(Problem(path, f"must have at least {schema['minItems']} entries, got {len(value)}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(Problem(path, f"must have at most {schema['maxItems']} entries, got {len(value)}"))
        for index, item in enumerate(value):
            problems.extend(validate(schema.get("items", {}), item, (*path, index)))
    elif isinstance(value, dict):
        problems.extend(_check_object(schema, value, path))
    return problems


def _check_string(schema: Schema, value: str, path: Path) -> list[Problem]:
    fix = schema.get("fix")
    if "minLength" in schema and len(value) < schema["minLength"]:
        unit = "character" if schema["minLength"] == 1 else "characters"
        return [Problem(path, f"must be at least {schema['minLength']} {unit}, got {_describe(value)}", fix)]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [Problem(path, f"must be at most {schema['maxLength']} characters, got {len(value)}", fix)]
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return [Problem(path, f"must match {schema['pattern']}, got {_describe(value)}", fix)]
    return []


def _check_integer(schema: Schema, value: float, path: Path) -> list[Problem]:
    """minimum, maximum and multipleOf, for integers and numbers alike."""
    fix = schema.get("fix")
    if "minimum" in schema and value < schema["minimum"]:
        return [Problem(path, f"must be at least {schema['minimum']}, got {value}", fix)]
    if "maximum" in schema and value > schema["maximum"]:
        return [Problem(path, f"must be at most {schema['maximum']}, got {value}", fix)]
    step = schema.get("multipleOf")
    if step and abs(value / step - round(value / step)) > 1e-9:
        return [Problem(path, f"must be a multiple of {step}, got {value}", fix)]
    return []


def _check_object(schema: Schema, value: dict[str, Any], path: Path) -> list[Problem]:
    problems = []
    properties: dict[str, Schema] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            problems.append(Problem((*path, name), "is required", f"add the `{name}` field"))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        problems.append(Problem(path, f"must have at most {schema['maxProperties']} fields, got {len(value)}"))
    for name, item in value.items():
        if name in properties:
            problems.extend(validate(properties[name], item, (*path, name)))
        elif schema.get("additionalProperties") is False:
            known = ", ".join(properties)
            problems.append(Problem((*path, name), f"is not a known field (known: {known})", f"remove `{name}`"))
    return problems


_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
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
