"""Runtime variables of an environment: `environments.listEnvironmentVariables`, `setEnvironmentVariables`
and `removeEnvironmentVariables`.

Every body is checked against the request schemas of `api.schemas` before it is sent. The API takes at most
50 variables per call, so more go in batches; each call is atomic on the server, so a failure part-way
leaves the earlier batches set and the rest untouched, and `BatchFailed` says exactly which is which.
Values never appear in a repr, an error message or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from unkey_deploy.api.client import Client
from unkey_deploy.api.schemas import (
    VARIABLE_VALUE_MAX,
    VARIABLES_PER_CALL,
    require_valid,
)
from unkey_deploy.errors import UnkeyError, UsageError

Kind = Literal["writeonly", "recoverable"]
T = TypeVar("T")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
NAME_MAX = 256
# Set by the platform in every instance; a variable of the same name is ignored there.
SYSTEM_VARIABLES = frozenset({
    "PORT", "UNKEY_DEPLOYMENT_ID", "UNKEY_ENVIRONMENT_SLUG", "UNKEY_REGION", "UNKEY_INSTANCE_ID",
    "UNKEY_GIT_COMMIT_SHA", "UNKEY_GIT_BRANCH", "UNKEY_GIT_REPO", "UNKEY_GIT_COMMIT_MESSAGE",
    "UNKEY_EPHEMERAL_DISK_PATH",
})


@dataclass(frozen=True)
class EnvironmentRef:
    """An environment as the variables endpoints name it: project, app and environment (IDs or slugs)."""

    project: str
    app: str
    environment: str

    def body(self) -> dict[str, Any]:
        return {"project": self.project, "app": self.app, "environment": self.environment}

    def __str__(self) -> str:
        return f"{self.project}/{self.app}/{self.environment}"


@dataclass(frozen=True)
class Variable:
    key: str
    kind: str
    created_at: int | None = None
    value: str | None = field(default=None, repr=False)  # recoverable only; never shown unless asked


@dataclass(frozen=True)
class NewVariable:
    key: str
    value: str = field(repr=False)
    kind: Kind = "writeonly"

    def body(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "kind": self.kind}


class BatchFailed(UnkeyError):
    """A batch failed after earlier ones succeeded: `done` were applied, `not_done` were not."""

    def __init__(self, message: str, *, done: list[str], not_done: list[str], cause: UnkeyError) -> None:
        super().__init__(message, details=cause.details)
        self.done = done
        self.not_done = not_done
        self.cause = cause
        self.exit_code = cause.exit_code


def check_name(name: str, where: str = "") -> str:
    """The spec's variable name rule, checked before any request."""
    prefix = f"{where}: " if where else ""
    if not name:
        raise UsageError(f"{prefix}a variable name is empty: write KEY=VALUE or KEY")
    if len(name) > NAME_MAX:
        raise UsageError(f"{prefix}variable name {name[:20]}… is {len(name)} characters; the API allows {NAME_MAX}")
    if not NAME.match(name):
        suggestion = re.sub(r"[^A-Za-z0-9_]", "_", name).lstrip("0123456789") or "MY_VAR"
        raise UsageError(
            f"{prefix}invalid variable name {name!r}: use letters, digits and '_', not starting with a digit "
            f"(the API's rule for environment variable names), e.g. {suggestion!r}"
        )
    return name


def check_value(name: str, value: str) -> str:
    """Values must be 1 to 16384 characters; the error names the variable, never its value."""
    if value == "":
        raise UsageError(
            f"{name} has an empty value, and the API needs at least one character: give it a value, "
            f"or remove it with `unkey env unset {name}`"
        )
    if len(value) > VARIABLE_VALUE_MAX:
        raise UsageError(f"{name} is {len(value)} characters long; the API allows at most {VARIABLE_VALUE_MAX}")
    return value


def batches(items: Sequence[Any], size: int = VARIABLES_PER_CALL) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def list_body(env: EnvironmentRef, cursor: str | None = None) -> dict[str, Any]:
    body = env.body()
    if cursor:
        body["cursor"] = cursor
    return require_valid("environments.listEnvironmentVariables", body)


def set_body(env: EnvironmentRef, variables: Sequence[NewVariable], *, prune: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {**env.body(), "variables": [v.body() for v in variables]}
    if prune:
        body["prune"] = True
    return require_valid("environments.setEnvironmentVariables", body)


def remove_body(env: EnvironmentRef, names: Sequence[str]) -> dict[str, Any]:
    return require_valid("environments.removeEnvironmentVariables", {**env.body(), "variables": list(names)})


class VariablesAPI:
    def __init__(self, client: Client) -> None:
        self.client = client

    def list_all(self, env: EnvironmentRef) -> list[Variable]:
        """Every variable of the environment, following the cursor through every page."""
        found: list[Variable] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            data = self.client.call("environments.listEnvironmentVariables", list_body(env, cursor))
            envelope = data.envelope
            for item in data.data if isinstance(data.data, list) else []:
                if isinstance(item, dict) and isinstance(item.get("key"), str):
                    found.append(_variable(item))
            raw_pagination = envelope.get("pagination")
            pagination: dict[str, Any] = raw_pagination if isinstance(raw_pagination, dict) else {}
            cursor = pagination.get("cursor") if pagination.get("hasMore") else None
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                return found
            seen.add(cursor)

    def set(
        self,
        env: EnvironmentRef,
        variables: Sequence[NewVariable],
        *,
        prune: bool = False,
        on_batch: Callable[[list[str]], None] | None = None,
    ) -> None:
        """Upsert `variables` in batches. With `prune` and one batch the API replaces the environment in
        one atomic call; with more, callers remove the leftovers themselves (a prune per batch would delete
        the batches before it)."""
        if prune and len(variables) > VARIABLES_PER_CALL:
            raise ValueError("prune works in one call only; remove the leftovers with remove()")
        self._in_batches(
            "environments.setEnvironmentVariables", list(batches(variables)) or [[]],
            lambda chunk: set_body(env, chunk, prune=prune), lambda v: v.key, ("setting", "set"), on_batch,
        )

    def remove(self, env: EnvironmentRef, names: Sequence[str]) -> None:
        self._in_batches(
            "environments.removeEnvironmentVariables", list(batches(list(names))),
            lambda chunk: remove_body(env, chunk), str, ("removing", "removed"),
        )

    def _in_batches(
        self,
        operation: str,
        chunks: list[Sequence[T]],
        body: Callable[[Sequence[T]], dict[str, Any]],
        name: Callable[[T], str],
        verb: tuple[str, str],
        on_batch: Callable[[list[str]], None] | None = None,
    ) -> None:
        """One call per chunk, each body built just before its call; `BatchFailed` after a first success."""
        names = [name(item) for chunk in chunks for item in chunk]
        done: list[str] = []
        for index, chunk in enumerate(chunks):
            request = body(chunk)
            try:
                self.client.call(operation, request)
            except UnkeyError as exc:
                if not done:
                    raise
                raise BatchFailed(
                    f"{verb[0]} variables failed at batch {index + 1} of {len(chunks)} ({exc.message}); "
                    f"{len(done)} were {verb[1]}, {len(names) - len(done)} were not",
                    done=list(done), not_done=names[len(done):], cause=exc,
                ) from None
            done.extend(name(item) for item in chunk)
            if on_batch:
                on_batch([name(item) for item in chunk])


def _variable(item: dict[str, Any]) -> Variable:
    kind = item.get("kind") if item.get("kind") in ("writeonly", "recoverable") else "writeonly"
    created = item.get("createdAt")
    value = item.get("value") if kind == "recoverable" and isinstance(item.get("value"), str) else None
    return Variable(
        key=str(item["key"]),
        kind=str(kind),
        created_at=created if isinstance(created, int) and not isinstance(created, bool) else None,
        value=value,
    )

