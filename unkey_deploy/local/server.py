"""The HTTP side: `POST /v2/<operation>` with a JSON body, answered in Unkey's envelope.

Every response carries `meta.requestId`; errors come as `{meta, error}` with the problem types of
`problems`. Requests are served on threads, so polls never wait behind each other.
"""

from __future__ import annotations

import hmac
import json
import logging
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


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        context: Context,
        routes: dict[str, Handler],
        *,
        root_key: str | None,
    ) -> None:
        super().__init__(address, _RequestHandler)
        self.context = context
        self.routes = routes
        self.root_key = root_key  # None: any non-empty bearer token is accepted

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
        if self.root_key is not None and not hmac.compare_digest(token.strip(), self.root_key):
            raise problems.unknown_key()


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalServer
    protocol_version = "HTTP/1.1"
    server_version = "unkey-local"

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
            body = json.loads(body_bytes or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise problems.unreadable_body(f"The request body is not valid JSON: {exc}") from None
        return handler(self.server.context, body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise problems.unreadable_body(f"The request body exceeds {MAX_BODY} bytes.")
        return self.rfile.read(length) if length else b""

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
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.debug("%s %s", self.address_string(), format % args)
