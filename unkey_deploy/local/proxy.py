"""Stable per-environment URLs: a small TCP proxy per production environment, forwarding each
connection to whichever deployment is current at that moment. Its port is kept in SQLite so the URL
survives restarts, promotions and rollbacks."""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from typing import Any

from unkey_deploy.local.store import Store

log = logging.getLogger("unkey.local")
_CHUNK = 65536


class EnvironmentProxies:
    def __init__(self, store: Store, host: str = "127.0.0.1") -> None:
        self.store = store
        self.host = host
        self._servers: dict[tuple[str, str, str], socketserver.ThreadingTCPServer] = {}
        self._lock = threading.Lock()

    def restore(self) -> None:
        for (project, app, environment), port in self.store.proxy_ports().items():
            if port:
                self.ensure(project, app, environment)

    def ensure(self, project: str, app: str, environment: str) -> int:
        """The stable port of an environment, listening from now on."""
        key = (project, app, environment)
        with self._lock:
            if key in self._servers:
                return int(self._servers[key].server_address[1])
            recorded = self.store.proxy_ports().get(key)
            server = self._listen(recorded or 0, project, app)
            if server is None:  # the recorded port is taken now: pick another one
                server = self._listen(0, project, app)
            assert server is not None
            port = int(server.server_address[1])
            if port != recorded:
                self.store.set_proxy_port(project, app, environment, port)
            self._servers[key] = server
            threading.Thread(target=server.serve_forever, name=f"proxy-{port}", daemon=True).start()
            log.info("%s/%s/%s: stable URL http://localhost:%d", project, app, environment, port)
            return port

    def port(self, project: str, app: str, environment: str) -> int | None:
        with self._lock:
            server = self._servers.get((project, app, environment))
        return int(server.server_address[1]) if server else None

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.shutdown()
            server.server_close()

    def _listen(self, port: int, project: str, app: str) -> socketserver.ThreadingTCPServer | None:
        store = self.store

        class Forward(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                _forward(self.request, store, project, app)

        try:
            server = socketserver.ThreadingTCPServer((self.host, port), Forward)
        except OSError:
            return None
        server.daemon_threads = True
        return server


def _forward(client: socket.socket, store: Store, project: str, app: str) -> None:
    current_id = store.app_state(project, app).current_deployment_id
    deployment = store.get_deployment(current_id) if current_id else None
    if deployment is None or deployment.status != "ready":
        reply(client, 503, f"{project}/{app} has no current deployment\n")
        return
    if deployment.port is None:
        reply(client, 200, f"{deployment.id} is current (runtime simulate: nothing runs)\n")
        return
    connect(client, deployment.id, deployment.port)


def connect(client: socket.socket, deployment_id: str, port: int, first: bytes = b"") -> None:
    """Pipe `client` to a deployment listening on `port` both ways until both sides are done (`first`: what
    was read from the client already); a 502 when nothing answers there."""
    try:
        upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError as exc:
        reply(client, 502, f"{deployment_id} does not answer on localhost:{port}: {exc}\n")
        return
    client.settimeout(None)
    upstream.settimeout(None)
    if first:
        upstream.sendall(first)
    pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    pump.start()
    _pipe(client, upstream)
    pump.join(30)
    upstream.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(_CHUNK):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def reply(client: Any, status: int, text: str) -> None:
    """A plain-text HTTP answer, then the connection closes."""
    body = text.encode()
    reason = {200: "OK", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    with contextlib.suppress(OSError):
        client.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
