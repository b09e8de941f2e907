"""A real `unkey local serve` attacked over raw sockets: slow and half-open clients, lying Content-Length,
smuggled requests, deep JSON, more connections than it serves."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from tests.local.conftest import LocalServer


def _address(server: LocalServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def _connect(server: LocalServer, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(_address(server), timeout=timeout)
    return sock


def _read_all(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout` passes)."""
    sock.settimeout(timeout)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not data:
            return b"".join(chunks)
        chunks.append(data)
    raise AssertionError(f"the server kept the connection open: {b''.join(chunks)[:300]!r}")


def _responses(raw: bytes) -> list[tuple[int, dict]]:
    """(status, JSON body) of every HTTP response in `raw`."""
    found = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
        found.append((status, json.loads(rest[:length]) if length else {}))
        raw = rest[length:]
    return found


def _post(server: LocalServer, headers: str, body: bytes) -> list[tuple[int, dict]]:
    with _connect(server) as sock:
        sock.sendall(
            f"POST /v2/deployments.listDeployments HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {server.root_key}\r\nContent-Type: application/json\r\n{headers}\r\n".encode()
            + body
        )
        return _responses(_read_all(sock))


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def _liveness(server: LocalServer) -> int:
    with _connect(server) as sock:
        sock.sendall(b"GET /v2/liveness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return _responses(_read_all(sock))[0][0]


@pytest.fixture
def server(local_server) -> LocalServer:
    return local_server("--request-timeout", "1", "--max-connections", "8")


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5", " 0x10", "99999999999999999999999"])
def test_bad_content_length_is_400_and_closes(server, length):
    found = _post(server, f"Content-Length: {length}\r\n", b"{}")
    assert [status for status, _ in found] == [400]
    assert found[0][1]["error"]["type"].endswith("request_body_unreadable")


def test_conflicting_content_lengths_and_chunked_bodies_are_refused(server):
    assert [s for s, _ in _post(server, "Content-Length: 2\r\nContent-Length: 3\r\n", b"{}x")] == [400]
    chunked = b"2\r\n{}\r\n0\r\n\r\nGET /v2/liveness HTTP/1.1\r\nHost: x\r\n\r\n"
    assert [s for s, _ in _post(server, "Transfer-Encoding: chunked\r\n", chunked)] == [400]


def test_a_body_longer_than_its_content_length_is_never_read_as_another_request(server):
    smuggled = b"GET /v2/liveness HTTP/1.1\r\nHost: x\r\n\r\n"
    # the prefix the Content-Length covers is valid JSON: still one 400, and the rest is never served
    found = _post(server, "Content-Length: 2\r\n", b"{}" + smuggled)
    assert [status for status, _ in found] == [400]
    # the prefix is cut JSON
    found = _post(server, "Content-Length: 5\r\n", b'{"limit": 1}' + smuggled)
    assert [status for status, _ in found] == [400]
    # a GET with a body: the body is consumed as the body, never served as a request
    with _connect(server) as sock:
        sock.sendall(f"GET /v2/liveness HTTP/1.1\r\nHost: x\r\nContent-Length: {len(smuggled)}\r\n\r\n".encode()
                     + smuggled)
        assert [status for status, _ in _responses(_read_all(sock))] == [200]


def test_a_body_shorter_than_its_content_length_times_out(server):
    found = _post(server, "Content-Length: 100\r\n", b'{"limit"')
    assert [status for status, _ in found] == [408]


def test_deeply_nested_json_is_400_not_500(server):
    for depth in (100, 100_000):
        body = b"[" * depth + b"]" * depth
        found = _post(server, f"Content-Length: {len(body)}\r\n", body)
        assert [status for status, _ in found] == [400], depth
        assert "nests deeper" in found[0][1]["error"]["detail"]
    body = json.dumps({"limit": 5, "x": [[[[{"a": [1]}]]]]}).encode()
    # shallow nesting is fine (the unknown field is then refused by the schema, as a 400 of its own kind)
    found = _post(server, f"Content-Length: {len(body)}\r\n", body)
    assert found[0][0] != 500
    assert not found[0][1].get("error", {}).get("type", "").endswith("request_body_unreadable")
    for constant in (b"NaN", b'{"limit": Infinity}'):
        assert [s for s, _ in _post(server, f"Content-Length: {len(constant)}\r\n", constant)] == [400]


def test_a_non_ascii_key_is_401_not_500(server):
    with _connect(server) as sock:
        sock.sendall(b"POST /v2/deployments.listDeployments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Authorization: Bearer unkey_\xe9\xff\r\nContent-Length: 2\r\n\r\n{}")
        assert [status for status, _ in _responses(_read_all(sock))] == [401]


def test_half_open_connections_are_closed_after_the_request_timeout(server):
    sockets = [_connect(server) for _ in range(4)]
    try:
        for sock in sockets:
            assert _read_all(sock, timeout=10) == b""  # closed without a word: no request ever came
    finally:
        for sock in sockets:
            sock.close()
    assert _liveness(server) == 200


def test_slowloris_is_cut_at_the_deadline_and_threads_stay_bounded(server):
    pid = server.process.pid
    baseline = _threads(pid)
    attackers = [_connect(server) for _ in range(40)]
    try:
        for sock in attackers:
            sock.sendall(b"POST /v2/deployments.listDeployments HTTP/1.1\r\n")
        peak = 0
        closed: set[int] = set()
        started = time.monotonic()
        while time.monotonic() - started < 10 and len(closed) < len(attackers):
            for index, sock in enumerate(attackers):  # one header byte per socket every ~0.1 s
                if index in closed:
                    continue
                try:
                    sock.sendall(b"X")
                    sock.settimeout(0.001)
                    if sock.recv(65536) == b"":
                        closed.add(index)
                except (TimeoutError, BlockingIOError):
                    pass
                except OSError:
                    closed.add(index)
            peak = max(peak, _threads(pid))
            time.sleep(0.1)
        assert len(closed) == len(attackers), "trickling clients kept their connections past the deadline"
        assert peak <= baseline + 8 + 1, (baseline, peak)
    finally:
        for sock in attackers:
            sock.close()
    assert _liveness(server) == 200


def test_more_connections_than_allowed_get_503_at_once(local_server):
    server = local_server("--request-timeout", "3", "--max-connections", "2")
    idle = [_connect(server) for _ in range(2)]
    try:
        time.sleep(0.2)
        with _connect(server) as extra:
            extra.sendall(b"GET /v2/liveness HTTP/1.1\r\nHost: x\r\n\r\n")
            found = _responses(_read_all(extra))
        assert [status for status, _ in found] == [503]
        assert found[0][1]["error"]["status"] == 503
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 3
    while _liveness(server) != 200:  # the slots free as soon as the idle clients leave
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_options_are_checked(run_cli, tmp_path):
    for args, word in ((["--request-timeout", "0"], "--request-timeout"),
                       (["--request-timeout", "nan"], "--request-timeout"),
                       (["--max-connections", "0"], "--max-connections")):
        result = run_cli("local", "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), *args)
        assert result.returncode == 2
        assert word in result.stderr and "Traceback" not in result.stderr
