"""A scriptable stand-in for Unkey's API over real HTTP on 127.0.0.1, for error and retry tests.

Each route answers from a queue of scripted responses (status, JSON body, headers); every request is
recorded with its headers and JSON body.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, Any, dict[str, str]]


def envelope(data: Any, request_id: str = "req_test") -> dict[str, Any]:
    return {"meta": {"requestId": request_id}, "data": data}


def error(status: int, detail: str, *, kind: str = "unkey/application/invalid_input", errors: list | None = None,
          title: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meta": {"requestId": f"req_err{status}"},
        "error": {
            "title": title or {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                               410: "Gone", 429: "Too Many Requests"}.get(status, "Internal Server Error"),
            "detail": detail,
            "status": status,
            "type": f"https://unkey.com/docs/errors/{kind}",
        },
    }
    if errors is not None:
        body["error"]["errors"] = errors
    return body


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeAPI:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    scripts: dict[str, deque[Answer | Callable[[Any], Answer]]] = field(default_factory=lambda: defaultdict(deque))
    sticky: dict[str, Answer | Callable[[Any], Answer]] = field(default_factory=dict)

    def on(self, operation: str, *answers: Answer | Callable[[Any], Answer], then: Answer | None = None) -> None:
        """Answer the next calls of `operation` in order; `then` answers every call after those."""
        self.scripts[operation].extend(answers)
        if then is not None:
            self.sticky[operation] = then

    def calls(self, operation: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == f"/v2/{operation}"]

    def answer(self, path: str, body: Any) -> Answer:
        operation = path.removeprefix("/v2/")
        queue = self.scripts.get(operation)
        script = queue.popleft() if queue else self.sticky.get(operation)
        if script is None:
            return 404, error(404, f"no route {path}", kind="user/bad_request/route_not_found"), {}
        return script(body) if callable(script) else script


@contextmanager
def serve() -> Iterator[FakeAPI]:
    api = FakeAPI()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            api.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, payload, headers = api.answer(self.path, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
