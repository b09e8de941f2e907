"""Errors the local control plane answers with, in Unkey's envelope (RFC 7807 inside `{meta, error}`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from unkey_deploy.api import schemas

ERRORS_URL = "https://unkey.com/docs/errors"


@dataclass
class ValidationIssue:
    location: str
    message: str
    fix: str | None = None

    def as_json(self) -> dict[str, str]:
        item = {"location": self.location, "message": self.message}
        if self.fix:
            item["fix"] = self.fix
        return item


@dataclass
class Problem(Exception):
    """An error response: HTTP status, problem type (a docs URL) and a one-sentence detail."""

    status: int
    title: str
    type: str
    detail: str
    errors: list[ValidationIssue] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "title": self.title,
            "detail": self.detail,
            "status": self.status,
            "type": self.type,
        }
        if self.status == 400:
            error["errors"] = [issue.as_json() for issue in self.errors]
        return error


def invalid_input(issues: list[ValidationIssue], detail: str | None = None) -> Problem:
    return Problem(
        400,
        "Bad Request",
        f"{ERRORS_URL}/unkey/application/invalid_input",
        detail or "One or more fields of the request body are invalid; see errors for each one.",
        issues,
    )


def valid_body(operation: str, body: Any) -> dict[str, Any]:
    """`body` when it is a valid request body of `operation`; otherwise a 400 naming every problem."""
    found = schemas.check_body(operation, body)
    if found:
        raise invalid_input([ValidationIssue(schemas.location(p.path, "body"), p.message, p.fix) for p in found])
    return cast(dict[str, Any], body)


def unreadable_body(detail: str) -> Problem:
    return Problem(400, "Bad Request", f"{ERRORS_URL}/user/bad_request/request_body_unreadable", detail)


def missing_key() -> Problem:
    return Problem(
        401,
        "Unauthorized",
        f"{ERRORS_URL}/unkey/authentication/missing",
        "The Authorization header is missing; send `Authorization: Bearer <root key>`.",
    )


def malformed_key() -> Problem:
    return Problem(
        401,
        "Unauthorized",
        f"{ERRORS_URL}/unkey/authentication/malformed",
        "The Authorization header must have the form `Bearer <root key>`.",
    )


def unknown_key() -> Problem:
    return Problem(
        401,
        "Unauthorized",
        f"{ERRORS_URL}/unkey/authentication/key_not_found",
        "The root key is not valid for this control plane; use the key `unkey local serve` printed.",
    )


def not_found(kind: str, detail: str) -> Problem:
    return Problem(404, "Not Found", f"{ERRORS_URL}/unkey/data/{kind}_not_found", detail)


def route_not_found(path: str) -> Problem:
    return Problem(
        404,
        "Not Found",
        f"{ERRORS_URL}/user/not_found/route_not_found",
        f"The route {path} does not exist on this API.",
    )


def method_not_allowed(method: str, path: str) -> Problem:
    return Problem(
        405,
        "Method Not Allowed",
        f"{ERRORS_URL}/user/bad_request/method_not_allowed",
        f"{method} is not allowed on {path}; the API takes POST with a JSON body.",
    )


def precondition_failed(detail: str) -> Problem:
    return Problem(412, "Precondition Failed", f"{ERRORS_URL}/unkey/application/precondition_failed", detail)


def conflict(kind: str, detail: str) -> Problem:
    return Problem(409, "Conflict", f"{ERRORS_URL}/unkey/data/{kind}_already_exists", detail)


def unexpected(detail: str) -> Problem:
    return Problem(500, "Internal Server Error", f"{ERRORS_URL}/unkey/application/unexpected_error", detail)


def unavailable(detail: str) -> Problem:
    return Problem(503, "Service Unavailable", f"{ERRORS_URL}/unkey/application/service_unavailable", detail)


def request_timeout(detail: str) -> Problem:
    return Problem(408, "Request Timeout", f"{ERRORS_URL}/user/bad_request/request_timeout", detail)
