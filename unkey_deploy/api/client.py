"""Transport for Unkey's v2 API: every operation is `POST /v2/<operation>` with a JSON body.

Responses come as `{meta: {requestId}, data}`; errors as `{meta, error: {title, detail, status, type,
errors?}}` (RFC 7807). This module turns the latter into the errors of `unkey_deploy.errors`, retries
what is safe to retry, and never logs the root key. Answers are untrusted: redirects are not followed (the
key goes to the base URL's host only), bodies are read up to MAX_BODY, a 2xx must be a JSON envelope with
`data`, and with a deadline no call outlives it whatever the server does.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from unkey_deploy import __version__
from unkey_deploy.config import display_url
from unkey_deploy.errors import (
    APIError,
    AuthError,
    DeadlineExceeded,
    NotFoundError,
    RouteGoneError,
    TransientError,
)
from unkey_deploy.report.safe import text

# Unkey's API tags a deployment as made by the CLI when X-Unkey-Client starts with `unkey-cli/`;
# User-Agent names this implementation.
CLIENT_HEADER = f"unkey-cli/{__version__}"
USER_AGENT = f"unkey-deploy-python/{__version__}"
MAX_BODY = 32 * 1024 * 1024  # an answer larger than this is not one of Unkey's


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
        return min(self.cap, self.base * 2.0**attempt) * (0.5 + random.random() / 2)


class _Overdue(Exception):
    """A request did not finish in the time it was given (whatever the server was doing)."""


class Client:
    """POST /v2/<operation> with retries. With a deadline (`set_deadline`) no call outlives it: a hanging
    request, a slow body or a Retry-After beyond it ends in DeadlineExceeded when the deadline passes."""

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
        self._headers = {"X-Unkey-Client": CLIENT_HEADER, "User-Agent": USER_AGENT, "Accept": "application/json"}
        if root_key:
            self._headers["Authorization"] = f"Bearer {root_key}"
        self.base_url = base_url.rstrip("/")
        self.shown_url = display_url(self.base_url)
        self._secret = urlsplit(self.base_url).password
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self.deadline: float | None = None  # time.monotonic() value
        self._transport = transport
        self._http = self._open()

    def _open(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers=self._headers,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            transport=self._transport,
            trust_env=True,
            follow_redirects=False,  # the key never goes where a redirect points
        )

    def set_deadline(self, seconds: float) -> None:
        """No call ends later than `seconds` from now."""
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

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
                remaining = self.remaining()
                if remaining is not None and wait >= remaining:
                    exc.message += f"; not retried: the next try ({wait:.1f}s away) would come after --timeout"
                    raise
                if self.on_retry:
                    self.on_retry(exc, wait)
                self.retry.sleep(wait)
                attempt += 1

    def call_once(self, operation: str, body: dict[str, Any]) -> Response:
        url = f"/v2/{operation}"
        started = time.monotonic()
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(f"{operation}: the timeout ran out before the request", operation=operation,
                                   not_sent=True)
        limit = self.timeout if remaining is None else min(self.timeout, remaining)
        content = json.dumps(body)
        try:
            status, headers, raw = self._bounded(lambda: self._post(url, content, limit), limit)
        except (_Overdue, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            if self.deadline is not None and time.monotonic() >= self.deadline - 0.25:
                raise DeadlineExceeded(f"{operation}: the API at {self.shown_url} did not answer before the "
                                       "timeout", operation=operation) from None
            raise TransientError(f"{operation}: the API at {self.shown_url} did not answer in time") from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            err = TransientError(f"cannot reach {self.shown_url}: {self._reason(exc)}")
            err.not_sent = True  # type: ignore[attr-defined]
            raise err from None
        except httpx.TimeoutException:
            raise TransientError(f"{operation}: the API at {self.shown_url} did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransientError(
                f"{operation}: connection to {self.shown_url} failed: {self._reason(exc)}"
            ) from None
        elapsed_ms = int((time.monotonic() - started) * 1000)
        if raw is None:
            raise APIError(
                f"{operation}: the answer from {self.shown_url} is larger than {MAX_BODY // 2**20} MB, which "
                "Unkey's API never sends; check --api-url", status=status,
            )
        envelope, is_json = _decode(raw)
        meta = envelope.get("meta") if isinstance(envelope.get("meta"), dict) else {}
        request_id = meta.get("requestId") if meta and isinstance(meta.get("requestId"), str) else None
        if 300 <= status < 400:
            raise _redirect_error(operation, status, headers, self.shown_url, request_id)
        if status >= 400 or "error" in envelope:
            raise error_from_response(operation, status, envelope, request_id, headers)
        if not is_json or not isinstance(envelope, dict) or "_raw" in envelope:
            kind = text(headers.get("content-type") or "no content type", 80)
            raise APIError(
                f"{operation}: {self.shown_url} answered HTTP {status} with something that is not Unkey's JSON "
                f"({kind}); check --api-url points at Unkey's API",
                status=status,
            )
        if "data" not in envelope:
            raise malformed(operation, "the answer has no `data`", request_id)
        return Response(status, envelope.get("data"), envelope, request_id, elapsed_ms)

    def _post(self, url: str, content: str, limit: float) -> tuple[int, httpx.Headers, bytes | None]:
        """One POST, its body read in chunks up to MAX_BODY (None beyond)."""
        timeout = httpx.Timeout(limit, connect=min(limit, 10.0))
        headers = {"Content-Type": "application/json"}
        with self._http.stream("POST", url, content=content, headers=headers, timeout=timeout) as resp:
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():  # decoded (gzip...) chunk by chunk, so bounded as decoded
                size += len(chunk)
                if size > MAX_BODY:
                    return resp.status_code, resp.headers, None
                chunks.append(chunk)
            return resp.status_code, resp.headers, b"".join(chunks)

    def _bounded(self, work: Callable[[], Any], limit: float) -> Any:
        """Run `work` in a worker thread and wait at most `limit` seconds for it. A request still running
        then is abandoned with its connection (the next one gets a fresh connection pool)."""
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = work()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="unkey-api-request", daemon=True).start()
        if not done.wait(max(limit, 0.0) + 0.05):
            self._http = self._open()
            raise _Overdue
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def _reason(self, exc: Exception) -> str:
        reason = _reason(exc)
        return reason.replace(self._secret, "***") if self._secret else reason


def malformed(operation: str, problem: str, request_id: str | None = None) -> APIError:
    """An answer that is not what Unkey's API promises for `operation`: one line, never a success."""
    details = [f"request ID: {text(request_id, 200)}"] if request_id else []
    return APIError(
        f"{operation}: the API's answer is not what Unkey's API sends ({problem}); check --api-url, or retry",
        details=details,
    )


def _redirect_error(
    operation: str, status: int, headers: httpx.Headers, shown_url: str, request_id: str | None
) -> APIError:
    location = headers.get("location") or ""
    host = urlsplit(location).netloc.rpartition("@")[2] if "://" in location else ""
    where = f" to {text(host, 200)}" if host else ""
    return APIError(
        f"{operation}: {shown_url} answered with a redirect (HTTP {status}){where}; the root key is never sent "
        "after a redirect: pass the API's final URL as --api-url",
        status=status,
        request_id=request_id,
    )


def _reason(exc: Exception) -> str:
    reason = str(exc) or type(exc).__name__
    if "Connection refused" in reason or "Errno 111" in reason:
        return "connection refused"
    return text(reason.splitlines()[0] if reason.strip() else reason, 200)


def _decode(raw: bytes) -> tuple[dict[str, Any], bool]:
    """(the envelope, whether the body was JSON). A body that is not a JSON object is kept as `_raw`."""
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return {"_raw": raw[:500].decode("utf-8", "replace")}, False
    return (value, True) if isinstance(value, dict) else ({"_raw": value}, True)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    import math

    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def error_from_response(
    operation: str,
    status: int,
    envelope: dict[str, Any],
    request_id: str | None,
    headers: httpx.Headers | None = None,
) -> APIError:
    """Turn an error envelope into one clear line plus details (request ID, docs link, each field)."""
    from unkey_deploy.report.safe import MAX_LINES, lines

    raw_error = envelope.get("error")
    err: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
    detail = text(str(err.get("detail") or err.get("title") or envelope.get("_raw") or f"HTTP {status}").strip())
    error_type = err.get("type") if isinstance(err.get("type"), str) else None
    raw_items = err.get("errors")
    items: list[Any] = raw_items if isinstance(raw_items, list) else []
    entries = []
    for item in items[: MAX_LINES + 1]:
        if isinstance(item, dict):
            line = f"{text(item.get('location', 'body'), 200)}: {text(item.get('message', ''))}".strip()
            if item.get("fix"):
                line += f" (fix: {text(item['fix'])})"
            entries.append(line)
    details = lines(entries, what="errors")
    if len(items) > MAX_LINES + 1:
        details[-1] = f"… {len(items) - MAX_LINES:,} more errors not shown"
    if request_id:
        details.append(f"request ID: {text(request_id, 200)}")
    if error_type and error_type.startswith(("https://", "http://")):
        details.append(f"docs: {text(error_type, 500)}")
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


def open_client(api_url: str, root_key: str, warn: Callable[[str], None]) -> Client:
    """An API client whose retries are reported through `warn` (e.g. a reporter's warning)."""

    def on_retry(exc: TransientError, wait: float) -> None:
        warn(f"{exc.message}; retrying in {wait:.1f}s")

    return Client(api_url, root_key, on_retry=on_retry)
