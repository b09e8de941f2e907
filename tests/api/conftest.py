"""A recording stand-in for Unkey's API on 127.0.0.1: it keeps every request and answers canned envelopes."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

ROOT_KEY = "unkey_test_3ZkPq9wXyZ1234"
REQUEST_ID = "req_2c9a0jf23l4k567"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Reply:
    status: int
    envelope: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class RecordingAPI:
    """Answers `{meta, data}` with `data` set per operation; `fail` queues error envelopes."""

    root_key = ROOT_KEY
    request_id = REQUEST_ID

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.data: dict[str, Any] = {}
        self.replies: list[Reply] = []
        self.url = ""
        self._lock = threading.Lock()

    @property
    def last(self) -> Recorded:
        assert self.requests, "the CLI sent no request"
        return self.requests[-1]

    def fail(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
             errors: list[dict[str, str]] | None = None) -> None:
        """Queue `times` Unkey error envelopes with this status."""
        for _ in range(times):
            self.replies.append(Reply(status, error_envelope(status, errors), headers or {}))

    def answer(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            if self.replies:
                return self.replies.pop(0)
        operation = recorded.path.removeprefix("/v2/")
        return Reply(200, {"meta": {"requestId": REQUEST_ID}, "data": self.data.get(operation, {})})


ERRORS = {
    400: ("Bad Request", "https://unkey.com/docs/errors/unkey/application/invalid_input",
          "POST request body for '/v2/keys.updateKey' failed to validate schema"),
    401: ("Unauthorized", "https://unkey.com/docs/errors/unkey/authentication/key_not_found",
          "The provided root key is invalid."),
    403: ("Forbidden", "https://unkey.com/docs/errors/unkey/authorization/insufficient_permissions",
          "Missing permission: api.*.update_key"),
    404: ("Not Found", "https://unkey.com/docs/errors/unkey/data/key_not_found",
          "The specified key was not found."),
    429: ("Too Many Requests", "https://unkey.com/docs/errors/unkey/application/rate_limited",
          "Too many requests, slow down."),
    500: ("Internal Server Error", "https://unkey.com/docs/errors/unkey/application/unexpected_error",
          "Something went wrong on our side."),
}


def error_envelope(status: int, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    title, type_, detail = ERRORS[status]
    error: dict[str, Any] = {"title": title, "detail": detail, "status": status, "type": type_}
    if errors is not None:
        error["errors"] = errors
    return {"meta": {"requestId": f"req_err{status}"}, "error": error}


def _handler(api: RecordingAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = api.answer(Recorded("POST", self.path, dict(self.headers.items()), raw))
            payload = json.dumps(reply.envelope).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def api() -> Iterator[RecordingAPI]:
    recording = RecordingAPI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recording))
    recording.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield recording
    server.shutdown()
    server.server_close()


@pytest.fixture
def unkey_api(run_cli, api: RecordingAPI):
    """Run `unkey api ...` against the recording server with a root key in the environment."""

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
        merged = {"UNKEY_ROOT_KEY": ROOT_KEY, "UNKEY_API_BASE_URL": api.url, **(env or {})}
        return run_cli("api", *args, env=merged, input=input)

    return run


@pytest.fixture
def sent(api: RecordingAPI):
    """The one request the CLI made, checked for method, path, headers and a schema-valid body."""
    from unkey_deploy.api.schemas import check_body

    def check(operation: str) -> Any:
        assert len(api.requests) == 1, [r.path for r in api.requests]
        request = api.last
        assert (request.method, request.path) == ("POST", f"/v2/{operation}")
        assert request.headers["Authorization"] == f"Bearer {ROOT_KEY}"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Unkey-Client"].startswith("unkey-cli/")
        body = request.body
        assert check_body(operation, body) == [], body
        return body

    return check


@pytest.fixture
def unkey_api_in_process(monkeypatch, capsys, api: RecordingAPI, tmp_path):
    """`unkey api ...` through the real entry point in this process: for the many usage-error cases,
    where starting a process per case only costs time."""
    from types import SimpleNamespace

    from unkey_deploy.cli.main import run as unkey_main

    for name in [name for name in os.environ if name.startswith("UNKEY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("UNKEY_ROOT_KEY", ROOT_KEY)
    monkeypatch.setenv("UNKEY_API_BASE_URL", api.url)
    monkeypatch.setenv("UNKEY_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str) -> SimpleNamespace:
        with pytest.raises(SystemExit) as exit:
            unkey_main(["api", *args])
        captured = capsys.readouterr()
        return SimpleNamespace(returncode=exit.value.code, stdout=captured.out, stderr=captured.err)

    return run
