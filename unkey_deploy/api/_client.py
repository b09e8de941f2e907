"""Transport for Unkey's v2 API: every operation is `POST /v2/<operation>` with a JSON body.

Responses come as `{meta: {requestId}, data}`; errors as `{meta, error: {title, detail, status, type,
errors?}}` (RFC 7807). This module turns the latter into the errors of `unkey_deploy.errors`, retries
what is safe to retry, and never logs the root key.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from unkey_deploy import __version__
from unkey_deploy.errors import (
    APIError,
    AuthError,
    NotFoundError,
    RouteGoneError,
    TransientError,
)

USER_AGENT = f"unkey-cli-py/{__version__}"
DOCS_ERRORS = "https://unkey.com/docs/errors"


@dataclass
class Response:
    status: int
    data: Any
    envelope: dict[str, Any]
    request_id: str | None
    elapsed_ms: int


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter; Retry-After wins when the server sends it."""

    attempts: int = 5
    base: float = 0.25
    cap: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), 60.0)
        return min(self.cap, self.base * 2**attempt) * (0.5 + random.random() / 2)


class Client:
    def __init__(
        self,
        base_url: str,
        root_key: str | None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        on_retry: Callable[[TransientError, float], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"X-Unkey-Client": USER_AGENT, "User-Agent": USER_AGENT, "Accept": "application/json"}
        if root_key:
            headers["Authorization"] = f"Bearer {root_key}"
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            trust_env=True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, operation: str, body: dict[str, Any], *, idempotent: bool = True) -> Response:
        """POST /v2/<operation>. Idempotent calls retry transient failures; the others retry only
        when the request provably never reached the server (connection refused, 429)."""
        attempt = 0
        while True:
            try:
                return self.call_once(operation, body)
            except TransientError as exc:
                retryable = idempotent or getattr(exc, "not_sent", False) or exc.status == 429
                if not retryable or attempt + 1 >= self.retry.attempts:
                    raise
                wait = self.retry.delay(attempt, exc.retry_after)
                if self.on_retry:
                    self.on_retry(exc, wait)
                self.retry.sleep(wait)
                attempt += 1

    def call_once(self, operation: str, body: dict[str, Any]) -> Response:
        url = f"/v2/{operation}"
        started = time.monotonic()
        try:
            resp = self._http.post(url, content=json.dumps(body), headers={"Content-Type": "application/json"})
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            err = TransientError(f"cannot reach {self.base_url}: {_reason(exc)}")
            err.not_sent = True  # type: ignore[attr-defined]
            raise err from None
        except httpx.TimeoutException:
            raise TransientError(f"{operation}: the API at {self.base_url} did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransientError(f"{operation}: connection to {self.base_url} failed: {_reason(exc)}") from None
        elapsed_ms = int((time.monotonic() - started) * 1000)
        envelope = _decode(resp)
        meta = envelope.get("meta") if isinstance(envelope.get("meta"), dict) else {}
        request_id = meta.get("requestId") if meta else None
        if resp.status_code >= 400 or "error" in envelope:
            raise error_from_response(operation, resp.status_code, envelope, request_id, resp.headers)
        return Response(resp.status_code, envelope.get("data"), envelope, request_id, elapsed_ms)


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    return text.splitlines()[0][:200]


def _decode(resp: httpx.Response) -> dict[str, Any]:
    try:
        value = resp.json()
    except ValueError:
        return {"_raw": resp.text[:500]}
    return value if isinstance(value, dict) else {"_raw": value}


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def error_from_response(
    operation: str,
    status: int,
    envelope: dict[str, Any],
    request_id: str | None,
    headers: httpx.Headers | None = None,
) -> APIError:
    """Turn an error envelope into one clear line plus details (request ID, docs link, each field)."""
    raw_error = envelope.get("error")
    err: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    detail = str(err.get("detail") or err.get("title") or envelope.get("_raw") or f"HTTP {status}").strip()
    error_type = err.get("type") if isinstance(err.get("type"), str) else None
    details: list[str] = []
    for item in err.get("errors") or []:
        if isinstance(item, dict):
            line = f"{item.get('location', 'body')}: {item.get('message', '')}".strip()
            if item.get("fix"):
                line += f" (fix: {item['fix']})"
            details.append(line)
    if request_id:
        details.append(f"request ID: {request_id}")
    if error_type and error_type.startswith("http"):
        details.append(f"docs: {error_type}")
    kwargs: dict[str, Any] = {
        "status": status,
        "request_id": request_id,
        "error_type": error_type,
        "details": details,
    }
    if status == 400:
        return APIError(f"the API rejected the request ({operation}): {detail}", **kwargs)
    if status == 401:
        return AuthError(
            f"the root key was not accepted ({detail}): pass a valid key with --root-key, "
            "UNKEY_ROOT_KEY or `unkey auth login`",
            **kwargs,
        )
    if status == 403:
        return AuthError(f"the root key lacks a permission for {operation}: {detail}", **kwargs)
    if status == 410 or (status == 404 and _is_route_missing(error_type, err)):
        return RouteGoneError(f"{operation} is not available on this API ({detail})", **kwargs)
    if status == 404:
        return NotFoundError(f"not found: {detail}", **kwargs)
    if status == 429 or status >= 500:
        what = "rate limited" if status == 429 else f"server error {status}"
        retry_after = _retry_after(headers) if headers is not None else None
        return TransientError(f"{operation}: {what}: {detail}", retry_after=retry_after, **kwargs)
    return APIError(f"{operation} failed with HTTP {status}: {detail}", **kwargs)


def _is_route_missing(error_type: str | None, err: dict[str, Any]) -> bool:
    """A 404 for an unknown route, as opposed to a 404 for a missing project or deployment."""
    if not err:
        return True  # a bare 404 with no Unkey envelope comes from the router, not a handler
    text = f"{error_type or ''} {err.get('title') or ''}".lower()
    if "/data/" in text or "_not_found" in text.replace("route_not_found", ""):
        return False  # project_not_found, deployment_not_found, ...: the route exists
    return any(marker in text for marker in ("route", "endpoint", "not_implemented", "unknown operation"))
