"""The HTTP side: `POST /v2/<operation>` with a JSON body, answered in Unkey's envelope.

Every response carries `meta.requestId`; errors come as `{meta, error}` with the problem types of
`problems`. Requests are served on threads, so polls never wait behind each other.

It holds up against clients that misbehave:
- at most `max_connections` connections are served at once; one more is answered 503 and closed;
- each request (head and body) must arrive within `request_timeout` seconds of the server starting to
  wait for it, however slowly it trickles in; an idle keep-alive connection is closed after as long;
- a body whose framing is in doubt (a Content-Length that is not one non-negative number, a
  Transfer-Encoding, bytes beyond the Content-Length, a body that does not parse) is answered 400 and the
  connection closed, so no part of it is ever read as another request;
- JSON nested deeper than `MAX_DEPTH` is a 400.
"""

from __future__ import annotations

import contextlib
import hmac
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from unkey_deploy.local import problems
from unkey_deploy.local.deployments_api import Context
from unkey_deploy.local.problems import Problem
from unkey_deploy.local.store import new_id

log = logging.getLogger("unkey.local")

Handler = Callable[[Context, Any], tuple[int, dict[str, Any]]]
MAX_BODY = 1 << 20
MAX_DEPTH = 64
REQUEST_TIMEOUT = 10.0
MAX_CONNECTIONS = 64
_DIGITS = re.compile(r"[0-9]{1,19}")
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
)


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        address: tuple[str, int],
        context: Context,
        routes: dict[str, Handler],
        *,
        root_key: str | None,
        request_timeout: float = REQUEST_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.context = context
        self.routes = routes
        self.root_key = root_key  # None: any non-empty bearer token is accepted
        self.request_timeout = request_timeout
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on a thread of its own, unless `max_connections` are being served."""
        if not self._slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke (reset, timed out while writing): a debug line, not a traceback."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{str(host)}:{port}"

    def authorize(self, header: str | None) -> None:
        if not header:
            raise problems.missing_key()
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise problems.malformed_key()
        if self.root_key is not None and not hmac.compare_digest(
            token.strip().encode("utf-8", "surrogateescape"), self.root_key.encode("utf-8")
        ):  # as bytes: compare_digest refuses str with non-ASCII characters
            raise problems.unknown_key()


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "unkey-local"
    deadline = 0.0

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by a reader that keeps each request to its deadline
        self.rfile = io.BufferedReader(_DeadlineReader(self), 65536)

    def handle_one_request(self) -> None:
        self.deadline = time.monotonic() + self.server.request_timeout
        super().handle_one_request()

    def send_response(self, code: int, message: str | None = None) -> None:
        self.connection.settimeout(self.server.request_timeout)  # writing gets its own time
        super().send_response(code, message)

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        request_id = new_id("req_")
        try:
            status, body = self._handle()
        except Problem as problem:
            status, body = problem.status, {"error": problem.as_json()}
        except Exception:
            log.exception("%s %s failed", request_id, self.path)
            crash = problems.unexpected("The local control plane hit an unexpected error; see its log.")
            status, body = crash.status, {"error": crash.as_json()}
        self._send(status, {"meta": {"requestId": request_id}, **body})

    def do_GET(self) -> None:  # noqa: N802
        try:
            self._read_body()
        except Problem as refused:
            self._send(refused.status, {"meta": {"requestId": new_id("req_")}, "error": refused.as_json()})
            return
        if self.path.rstrip("/") == "/v2/liveness":
            self._send(200, {"meta": {"requestId": new_id("req_")}, "data": {"message": "OK"}})
            return
        problem = self._missing_route("GET")
        self._send(problem.status, {"meta": {"requestId": new_id("req_")}, "error": problem.as_json()})

    def _handle(self) -> tuple[int, dict[str, Any]]:
        body_bytes = self._read_body()
        path = self.path.split("?", 1)[0]
        operation = path[len("/v2/"):] if path.startswith("/v2/") else None
        handler = self.server.routes.get(operation or "")
        if handler is None:
            raise problems.route_not_found(path)
        self.server.authorize(self.headers.get("Authorization"))
        try:
            body = parse_json(body_bytes)
        except Problem:
            self.close_connection = True  # a body cut short by its Content-Length may hide another request
            raise
        return handler(self.server.context, body)

    def _read_body(self) -> bytes:
        """The body as its Content-Length frames it; a 400 closing the connection when the framing is in doubt."""
        try:
            length = self._content_length()
            if length > MAX_BODY:
                raise problems.unreadable_body(f"The request body exceeds {MAX_BODY} bytes.")
            try:
                body = self.rfile.read(length) if length else b""
            except OSError:  # too slow (the deadline passed) or gone
                raise problems.request_timeout(
                    f"The request body did not arrive within {self.server.request_timeout:g}s."
                ) from None
            if len(body) < length:
                raise problems.unreadable_body("The request body ended before its Content-Length.")
            if self._more_waiting():
                raise problems.unreadable_body(
                    "The request body is longer than its Content-Length (requests after a POST are not pipelined)."
                )
        except Problem:
            self.close_connection = True
            raise
        return body

    def _content_length(self) -> int:
        if self.headers.get("Transfer-Encoding") is not None:
            raise problems.unreadable_body("Transfer-Encoding is not supported; send the body with a Content-Length.")
        values = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not values:
            return 0
        if len(values) > 1:
            raise problems.unreadable_body("The request has conflicting Content-Length headers.")
        value = values.pop()
        if not _DIGITS.fullmatch(value):
            raise problems.unreadable_body("Content-Length must be a non-negative whole number of bytes.")
        return int(value)

    def _more_waiting(self) -> bool:
        """Whether bytes beyond the body have already arrived (buffered, or on the socket right now)."""
        reader = self.rfile
        assert isinstance(reader, io.BufferedReader)
        raw = reader.raw
        assert isinstance(raw, _DeadlineReader)
        with raw.without_waiting():
            return bool(reader.peek(1))

    def _missing_route(self, method: str) -> Problem:
        path = self.path.split("?", 1)[0]
        if path[len("/v2/"):] in self.server.routes:
            return problems.method_not_allowed(method, path)
        return problems.route_not_found(path)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.debug("%s %s", self.address_string(), format % args)


def parse_json(data: bytes) -> Any:
    """A request body as JSON: a 400 for anything that is not plain JSON nested at most `MAX_DEPTH` deep."""
    if not data:
        return {}
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise problems.unreadable_body(f"The request body nests deeper than {MAX_DEPTH} levels.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise problems.unreadable_body(f"The request body is not valid JSON: {exc}") from None
    if _depth(value) > MAX_DEPTH:
        raise problems.unreadable_body(f"The request body nests deeper than {MAX_DEPTH} levels.")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _depth(value: Any) -> int:
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children)
    return deepest


class _DeadlineReader(io.RawIOBase):
    """The connection's bytes, each read bounded by the deadline of the request being read."""

    def __init__(self, handler: _RequestHandler) -> None:
        self._handler = handler
        self._sock: socket.socket = handler.connection
        self._waiting = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        if not self._waiting:
            self._sock.setblocking(False)
            try:
                return self._sock.recv_into(buffer)
            except (BlockingIOError, InterruptedError):
                return None
            finally:
                self._sock.setblocking(True)
        remaining = self._handler.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)

    @contextlib.contextmanager
    def without_waiting(self) -> Any:
        self._waiting = False
        try:
            yield
        finally:
            self._waiting = True


def _refuse_busy(request: socket.socket) -> None:
    payload = json.dumps({
        "meta": {"requestId": new_id("req_")},
        "error": problems.unavailable(
            "The local control plane is serving as many connections as it allows; retry shortly."
        ).as_json(),
    }).encode()
    with contextlib.suppress(OSError):
        request.settimeout(0.5)
        request.sendall(_BUSY % (len(payload), payload))
