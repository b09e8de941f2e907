"""Request-body validation against a small subset of JSON Schema, the subset Unkey's spec uses.

Schemas are plain dicts (`type`, `properties`, `required`, `additionalProperties`, `minLength`,
`maxLength`, `pattern`, `maxProperties`, `minimum`, `maximum`, `enum`, `items`, `minItems`, `maxItems`, `nullable`).
Every problem becomes one `ValidationIssue` with the JSON path of the offending field.
"""

from __future__ import annotations

import re
from typing import Any

from unkey_deploy.local.problems import ValidationIssue, invalid_input

Schema = dict[str, Any]

IDENTIFIER: Schema = {
    "type": "string",
    "minLength": 3,
    "maxLength": 255,
    "pattern": r"^[a-zA-Z0-9_-]+$",
    "fix": "use at least 3 characters of letters, digits, '_' and '-', e.g. 'my-project'",
}

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def check(body: Any, schema: Schema) -> dict[str, Any]:
    """Return the body when it matches the schema, else raise a 400 listing every issue."""
    issues = issues_of(body, schema, "body")
    if issues:
        raise invalid_input(issues)
    return body


def issues_of(value: Any, schema: Schema, location: str) -> list[ValidationIssue]:
    if value is None and schema.get("nullable"):
        return []
    kind = schema.get("type")
    if kind and not _is_type(value, kind):
        return [ValidationIssue(location, f"must be of type {kind}", schema.get("fix"))]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        return [ValidationIssue(location, f"must be one of: {allowed}", f"use one of: {allowed}")]
    if kind == "object":
        return _object_issues(value, schema, location)
    if kind == "array":
        return _array_issues(value, schema, location)
    if kind == "string":
        return _string_issues(value, schema, location)
    if kind in ("integer", "number"):
        return _number_issues(value, schema, location)
    return []


def _is_type(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _TYPES[kind])


def _object_issues(value: dict[str, Any], schema: Schema, location: str) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    properties: dict[str, Schema] = schema.get("properties", {})
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        issues.append(ValidationIssue(location, f"must have at most {schema['maxProperties']} properties"))
    for name in schema.get("required", []):
        if name not in value:
            issues.append(
                ValidationIssue(f"{location}.{name}", "is required but missing", f"add the `{name}` field")
            )
    for name, item in value.items():
        if name in properties:
            issues.extend(issues_of(item, properties[name], f"{location}.{name}"))
        elif schema.get("additionalProperties") is False:
            issues.append(
                ValidationIssue(f"{location}.{name}", "is not a known field", f"remove `{name}`")
            )
    for group in schema.get("oneOfRequired", []):
        present = [name for name in group if name in value]
        if len(present) != 1:
            names = ", ".join(group)
            what = "none was given" if not present else f"got {', '.join(present)}"
            issues.append(ValidationIssue(location, f"exactly one of {names} is required; {what}",
                                          f"send exactly one of: {names}"))
    return issues


def _array_issues(value: list[Any], schema: Schema, location: str) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if "minItems" in schema and len(value) < schema["minItems"]:
        issues.append(ValidationIssue(location, f"must have at least {schema['minItems']} items"))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        issues.append(ValidationIssue(location, f"must have at most {schema['maxItems']} items"))
    if "items" in schema:
        for index, item in enumerate(value):
            issues.extend(issues_of(item, schema["items"], f"{location}[{index}]"))
    return issues


def _string_issues(value: str, schema: Schema, location: str) -> list[ValidationIssue]:
    fix = schema.get("fix")
    if "minLength" in schema and len(value) < schema["minLength"]:
        return [ValidationIssue(location, f"must be at least {schema['minLength']} characters long", fix)]
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return [ValidationIssue(location, f"must be at most {schema['maxLength']} characters long", fix)]
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return [ValidationIssue(location, f"must match the pattern {schema['pattern']}", fix)]
    return []


def _number_issues(value: float, schema: Schema, location: str) -> list[ValidationIssue]:
    if "minimum" in schema and value < schema["minimum"]:
        return [ValidationIssue(location, f"must be at least {schema['minimum']}", schema.get("fix"))]
    if "maximum" in schema and value > schema["maximum"]:
        return [ValidationIssue(location, f"must be at most {schema['maximum']}", schema.get("fix"))]
    return []
