"""The CLI against a hostile API: crafted answers over real HTTP on 127.0.0.1.

Server strings are data (control characters, workflow commands, Markdown), output stays bounded, answers
that are not what the API promises are one clear error, and --timeout holds whatever the server does.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

IMAGE = "ghcr.io/acme/api:v1"
KEY = "unkey_hostilekey123"
Route = Callable[[BaseHTTPRequestHandler, Any], None]
# Every control character but the newline that ends a line (a tab is never printed either).
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@dataclass
class Hostile:
    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def calls(self, operation: str) -> int:
        return sum(1 for path, _ in self.requests if path == f"/v2/{operation}")


@contextmanager
def hostile() -> Iterator[Hostile]:
    server_state = Hostile()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server_state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = server_state.routes.get(self.path.removeprefix("/v2/"))
            if route is None:
                send_json(self, 404, {"error": {"title": "Not Found", "detail": "no route", "status": 404}})
                return
            with suppress(BrokenPipeError, ConnectionResetError):
                route(self, json.loads(raw or b"null"))

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        block_on_close = False

    server = Server(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any,
              headers: dict[str, str] | None = None) -> None:
    send(handler, status, json.dumps(payload).encode(), headers=headers)


def answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> Route:
    return lambda handler, body: send_json(handler, status, payload, headers)


def data(value: Any) -> dict[str, Any]:
    return {"meta": {"requestId": "req_1"}, "data": value}


CREATED = answer(201, data({"deploymentId": "d_1"}))


def deploy(run_cli, api: Hostile, *extra: str, env: dict[str, str] | None = None, timeout: float = 60):
    return run_cli("deploy", IMAGE, "--project=acme", f"--api-url={api.url}", f"--root-key={KEY}", *extra,
                   env=env, timeout=timeout)


def assert_no_control(result) -> None:
    for name in ("stdout", "stderr"):
        found = CONTROL.search(getattr(result, name))
        assert found is None, f"{name} holds {found.group(0)!r}: {getattr(result, name)[:2000]!r}"


def one_error_line(result) -> str:
    """The error of a failed command: exactly one line on stderr (no details), no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


# -- untrusted strings ------------------------------------------------------------------------------

NASTY = [
    "\x1b]0;owned title\x07osc",  # OSC: retitle the terminal
    "\x1b[2J\x1b[Hclear",  # CSI: clear the screen
    "real\rFAKE overwrite",  # CR: overwrite the line
    "bs\x08\x08\x08erase",  # BS
    "\x9b31mc1 csi",  # 8-bit CSI
    "bell\x07\x00nul",
]


def test_control_characters_from_the_server_are_neutralised(run_cli):
    with hostile() as api:
        api.routes["deploy.createDeployment"] = CREATED
        steps = [{"status": "DEPLOYING", "message": message} for message in NASTY]
        api.routes["deploy.getDeployment"] = answer(200, data({
            "id": "d_1", "status": "READY", "steps": steps, "hostnames": ["acme\x1b[31m.example.com"],
        }))
        result = deploy(run_cli, api)
    assert result.returncode == 0, result.stderr
    assert_no_control(result)
    assert "\\x1b]0;owned title\\x07osc" in result.stdout  # shown, as visible escapes
    assert "real\\rFAKE overwrite" in result.stdout


def test_a_newline_in_a_server_error_never_breaks_the_one_line_error(run_cli):
    with hostile() as api:
        api.routes["deploy.createDeployment"] = answer(400, {
            "meta": {"requestId": "req_\x1b[31mred"},
            "error": {"title": "Bad", "detail": "first line\nerror: forged second line\x1b[2J", "status": 400,
                      "errors": [{"location": "body.\x1b]0;x\x07", "message": "m\r\nforged"}]},
        })
        result = deploy(run_cli, api)
    assert result.returncode == 1
    assert_no_control(result)
    assert one_error_line(result).startswith("error: the API rejected the request (deploy.createDeployment): "
                                             "first line\\nerror: forged second line")
    assert all(line.startswith(("error:", "  ")) for line in result.stderr.splitlines())


def read_workflow_commands(output: str) -> list[tuple[str, str]]:
    """What the GitHub Actions runner would execute: (command, rest) for every command line it reads,
    honouring ::stop-commands:: (leading whitespace is ignored, as the runner trims it)."""
    commands: list[tuple[str, str]] = []
    stop_token: str | None = None
    for line in output.splitlines():
        stripped = line.lstrip()
        if stop_token is not None:
            if stripped == f"::{stop_token}::":
                stop_token = None
            continue
        match = re.match(r"::([A-Za-z-]+)(?:\s[^:]*)?::(.*)", stripped)
        if match:
            commands.append((match.group(1), stripped))
            if match.group(1) == "stop-commands":
                stop_token = match.group(2)
    return commands


def test_on_github_actions_server_strings_start_no_command_and_no_markdown(run_cli, tmp_path):
    summary = tmp_path / "summary.md"
    outputs = tmp_path / "outputs.txt"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(outputs)}
    with hostile() as api:
        api.routes["deploy.createDeployment"] = CREATED
        api.routes["deploy.getDeployment"] = answer(200, data({
            "id": "d_1",
            "status": "FAILED",
            "errorMessage": "pull failed\n::error::forged annotation\n::add-mask::abc",
            "steps": [
                {"status": "DEPLOYING", "message": "::add-mask::hidden"},
                {"status": "DEPLOYING", "message": "   ::set-env name=X::1"},
                {"status": "DEPLOYING", "message": "ok\n::warning::forged %0A::error::x"},
            ],
            "hostnames": ["![img](https://evil.example/pixel.png)", "evil.example) [click](https://evil.example"],
        }))
        result = deploy(run_cli, api, env=env)
    assert result.returncode == 1
    commands = read_workflow_commands(result.stdout + "\n" + result.stderr)
    errors = [rest for name, rest in commands if name == "error"]
    assert len(errors) == 1 and errors[0].startswith("::error title=unkey deploy failed (deploy)::"), commands
    assert {name for name, _ in commands} <= {"error", "group", "endgroup", "stop-commands"}, commands
    markdown = summary.read_text()
    assert "![" not in markdown and "](https://evil" not in markdown and "[click]" not in markdown
    assert "::error::forged annotation" in html.unescape(markdown)  # shown as text, not run
    assert "\n::" not in markdown


def test_a_ten_megabyte_message_is_cut_with_a_note(run_cli):
    with hostile() as api:
        api.routes["deploy.createDeployment"] = answer(400, {
            "meta": {"requestId": "req_1"},
            "error": {"title": "Bad", "detail": "A" * 10_000_000, "status": 400,
                      "errors": [{"location": "body", "message": "B" * 1000}] * 5000},
        })
        result = deploy(run_cli, api)
    assert result.returncode == 1
    assert len(result.stderr) < 600_000
    assert "truncated, 10,000,000 characters in all" in one_error_line(result)
    assert "more errors not shown" in result.stderr


def test_a_quarter_million_steps_are_not_printed_whole(run_cli):
    steps = [{"status": "DEPLOYING", "message": f"step {n}"} for n in range(250_000)]
    with hostile() as api:
        api.routes["deploy.createDeployment"] = CREATED
        api.routes["deploy.getDeployment"] = answer(200, data({"id": "d_1", "status": "READY", "steps": steps}))
        result = deploy(run_cli, api, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) < 400
    assert "250,000 steps; only the first 200 are shown" in result.stdout


# -- answers that are not what the API promises -----------------------------------------------------

@pytest.mark.parametrize(("route", "expected"), [
    (lambda h, b: send(h, 200, b"<html>welcome to nginx</html>", "text/html"), "not Unkey's JSON (text/html)"),
    (lambda h, b: send(h, 200, b"", "application/json"), "not Unkey's JSON"),
    (answer(200, {"meta": {"requestId": "req_1"}}), "the answer has no `data`"),
    (answer(200, data({})), "`deploymentId` must be a non-empty string, got nothing"),
    (answer(200, data({"deploymentId": 42})), "`deploymentId` must be a non-empty string, got a number"),
    (answer(200, data(["d_1"])), "`data` must be an object"),
    (answer(200, [1, 2]), "not Unkey's JSON"),
], ids=["html", "empty", "no-data", "no-id", "id-number", "data-list", "array"])
def test_a_create_answer_that_breaks_the_promise_is_one_error(run_cli, route, expected):
    with hostile() as api:
        api.routes["deploy.createDeployment"] = route
        result = deploy(run_cli, api)
    assert result.returncode == 1, result.stdout
    assert expected in one_error_line(result)
    assert "Deployment completed" not in result.stdout


@pytest.mark.parametrize(("state", "expected"), [
    ({"id": "d_1", "status": "READY", "hostnames": "acme.example.com"}, "`hostnames` must be a list of strings"),
    ({"id": "d_1", "status": 3}, "`status` must be a non-empty string, got a number"),
    ({"id": "d_1"}, "`status` must be a non-empty string, got nothing"),
    ({"id": "d_1", "status": "READY", "steps": "many"}, "`steps` must be a list of objects"),
    ({"id": "d_1", "status": "READY", "steps": [{"message": ["x"]}]}, "`message` must be a string"),
], ids=["hostnames-string", "status-number", "no-status", "steps-string", "step-message-list"])
def test_a_state_that_breaks_the_promise_is_one_error_never_success(run_cli, state, expected):
    with hostile() as api:
        api.routes["deploy.createDeployment"] = CREATED
        api.routes["deploy.getDeployment"] = answer(200, data(state))
        result = deploy(run_cli, api)
    assert result.returncode == 1
    assert expected in one_error_line(result)
    assert "Deployment completed" not in result.stdout


def test_deployments_get_with_wrong_types_is_one_error(run_cli):
    with hostile() as api:
        api.routes["deployments.getDeployment"] = answer(200, data({"id": "d_1", "status": "ready",
                                                                    "domains": "a.example"}))
        result = run_cli("deployments", "get", "d_123", f"--api-url={api.url}", f"--root-key={KEY}")
    assert result.returncode == 1
    assert "`domains` must be a list of strings" in one_error_line(result)


def test_a_redirect_is_not_followed_and_the_key_never_reaches_the_other_host(run_cli):
    with hostile() as elsewhere, hostile() as api:
        elsewhere.routes["deploy.createDeployment"] = CREATED
        target = elsewhere.url.replace("127.0.0.1", "localhost") + "/v2/deploy.createDeployment"
        api.routes["deploy.createDeployment"] = lambda h, b: send(h, 307, b"", headers={"Location": target})
        result = deploy(run_cli, api)
    assert result.returncode == 1
    line = one_error_line(result)
    assert "answered with a redirect (HTTP 307) to localhost:" in line and "--api-url" in line
    assert elsewhere.requests == []
    assert KEY not in result.stdout + result.stderr


# -- --timeout is a deadline ------------------------------------------------------------------------

def hang(seconds: float) -> Route:
    def route(handler: BaseHTTPRequestHandler, body: Any) -> None:
        time.sleep(seconds)
        send_json(handler, 200, data({"deploymentId": "d_late"}))

    return route


def trickle(handler: BaseHTTPRequestHandler, body: Any) -> None:
    """Headers at once, then a body of one byte every 0.2 s for a minute."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.write(b'{"meta": {}, "data": {"id": "d_1", "status": "READY", "x": "')
    for _ in range(300):
        handler.wfile.write(b"a")
        handler.wfile.flush()
        time.sleep(0.2)


@pytest.mark.parametrize("case", ["create-hangs", "get-hangs", "slow-body", "retry-after-beyond"])
def test_timeout_is_a_deadline_whatever_the_server_does(run_cli, case):
    with hostile() as api:
        api.routes["deploy.createDeployment"] = hang(60) if case == "create-hangs" else CREATED
        api.routes["deploy.getDeployment"] = {
            "create-hangs": CREATED,
            "get-hangs": hang(60),
            "slow-body": trickle,
            "retry-after-beyond": answer(429, {"error": {"title": "Too Many Requests", "detail": "slow down",
                                                          "status": 429}}, {"Retry-After": "3600"}),
        }[case]
        started = time.monotonic()
        result = deploy(run_cli, api, "--timeout=2", timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode == 6, result.stderr
    assert elapsed < 8, f"took {elapsed:.1f}s with --timeout=2"  # the server would have held it 60 s or more
    line = one_error_line(result)
    assert "d_1" in line if case != "create-hangs" else "a deployment may have been created" in line


def test_a_create_rate_limited_beyond_the_timeout_ends_at_once(run_cli):
    with hostile() as api:
        api.routes["deploy.createDeployment"] = answer(
            429, {"error": {"title": "Too Many Requests", "detail": "slow down", "status": 429}},
            {"Retry-After": "3600"},
        )
        started = time.monotonic()
        result = deploy(run_cli, api, "--timeout=30")
        elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert elapsed < 15
    assert "not retried: the next try (60.0s away) would come after --timeout" in one_error_line(result)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-5", "0"])
def test_nonsense_timeouts_are_usage_errors(run_cli, value):
    for args, env in (([f"--timeout={value}"], {}), ([], {"UNKEY_TIMEOUT": value})):
        result = run_cli("deploy", IMAGE, "--project=acme", "--api-url=http://127.0.0.1:9", f"--root-key={KEY}",
                         *args, env=env)
        assert result.returncode == 2, (value, result.stderr)
        assert "UNKEY_TIMEOUT" in one_error_line(result)
    result = run_cli("deployments", "promote", "d_1", "--yes", f"--timeout={value}", "--api-url=http://127.0.0.1:9",
                     f"--root-key={KEY}")
    assert result.returncode == 2


def test_a_password_in_the_api_url_is_never_printed(run_cli):
    result = run_cli("deploy", IMAGE, "--project=acme", "--api-url=http://deployer:s3cretpw@127.0.0.1:9",
                     f"--root-key={KEY}", "--timeout=2")
    assert result.returncode in (1, 6)
    assert "s3cretpw" not in result.stdout + result.stderr
    assert "deployer:***@127.0.0.1:9" in result.stderr
    bad = run_cli("deploy", IMAGE, "--project=acme", "--api-url=ftp://deployer:s3cretpw@host", f"--root-key={KEY}")
    assert bad.returncode == 2 and "s3cretpw" not in bad.stderr


def test_api_text_output_shows_server_strings_as_data(run_cli):
    with hostile() as api:
        api.routes["keys.updateKey"] = answer(200, {"meta": {"requestId": "::error::req\x1b[31m"},
                                                    "data": {"note": "\x9b31m\u202egnp.exe"}})
        result = run_cli("api", "keys", "update-key", "--key-id=key_123", "--enabled=false",
                         f"--api-url={api.url}", f"--root-key={KEY}")
    assert result.returncode == 0, result.stderr
    assert_no_control(result)
    assert "\u202e" not in result.stdout
    assert not result.stdout.lstrip().startswith("::")
    assert api.requests[0][1]["x-unkey-client"].startswith("unkey-cli/")


def test_deployments_list_rows_cannot_start_a_workflow_command(run_cli):
    deployment = {"id": "::error::forged", "status": "ready", "project": "acme", "app": "api",
                  "environment": "production", "isCurrent": False}
    with hostile() as api:
        api.routes["deployments.listDeployments"] = answer(200, {**data([deployment]), "pagination": {}})
        result = run_cli("deployments", "list", "--project=acme", f"--api-url={api.url}", f"--root-key={KEY}",
                         env={"GITHUB_ACTIONS": "true"})
    assert result.returncode == 0, result.stderr
    assert read_workflow_commands(result.stdout + result.stderr) == []
    assert '"::error::forged"' in result.stdout



def test_a_flood_of_domains_is_not_printed_whole(run_cli):
    hostnames = [f"h{n}.example.com" for n in range(100_000)]
    with hostile() as api:
        api.routes["deploy.createDeployment"] = CREATED
        api.routes["deploy.getDeployment"] = answer(200, data({"id": "d_1", "status": "READY",
                                                               "hostnames": hostnames}))
        api.routes["deployments.getDeployment"] = answer(200, data({"id": "d_1", "status": "ready",
                                                                    "domains": hostnames}))
        deployed = deploy(run_cli, api)
        shown = run_cli("deployments", "get", "d_1", f"--api-url={api.url}", f"--root-key={KEY}")
    for result in (deployed, shown):
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) < 400
        assert "99,800 more domains not shown" in result.stdout
