"""Custom domains on `unkey local`: one HTTP proxy that routes each connection by its Host header to the
environment the domain is attached to (`domains.createDomain`), so `curl http://api.localhost:<port>/` reaches
the app. A production environment answers with its app's current deployment, any other with its latest ready
one. The port is kept in the store, so it survives restarts when it is free.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading

from unkey_deploy.local.proxy import connect, reply
from unkey_deploy.local.store import Deployment, Store

log = logging.getLogger("unkey.local")
PORT_RECORD = ("setting", "domain_proxy_port")
HEAD_LIMIT = 65536


class DomainProxy:
    def __init__(self, store: Store, host: str = "127.0.0.1") -> None:
        self.store = store
        self.host = host
        self._server: socketserver.ThreadingTCPServer | None = None

    @property
    def port(self) -> int | None:
        return int(self._server.server_address[1]) if self._server else None

    def start(self) -> int:
        recorded = (self.store.get_record(*PORT_RECORD) or {}).get("port")
        store = self.store

        class Route(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                _route(self.request, store)

        server = None
        for port in ([recorded] if isinstance(recorded, int) else []) + [0]:
            try:
                server = socketserver.ThreadingTCPServer((self.host, port), Route)
                break
            except OSError:
                continue
        assert server is not None
        server.daemon_threads = True
        self._server = server
        port = int(server.server_address[1])
        if port != recorded:
            self.store.put_record(*PORT_RECORD, {"port": port})
        threading.Thread(target=server.serve_forever, name="domain-proxy", daemon=True).start()
        log.info("custom domains: http://<domain>:%d (e.g. a *.localhost domain)", port)
        return port

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _route(client: socket.socket, store: Store) -> None:
    client.settimeout(10)
    head = b""
    try:
        while b"\r\n\r\n" not in head and len(head) < HEAD_LIMIT:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
    except OSError:
        return
    host = _host(head)
    record = store.get_record("domain", host) if host else None
    if record is None:
        reply(client, 503, f"no environment has the domain {host or '(no Host header)'}\n")
        return
    deployment = _serving(store, record["project"], record["app"], record["environment"])
    if deployment is None:
        reply(client, 503, f"{host}: its environment has no ready deployment\n")
        return
    if deployment.port is None:
        reply(client, 200, f"{deployment.id} serves {host} (runtime simulate: nothing runs)\n")
        return
    connect(client, deployment.id, deployment.port, head)


def _host(head: bytes) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            host = value.strip().decode("latin-1").lower()
            return host.rsplit(":", 1)[0] if not host.startswith("[") else host
    return None


def _serving(store: Store, project: str, app: str, environment: str) -> Deployment | None:
    if environment == "production":
        current = store.app_state(project, app).current_deployment_id
        found = store.get_deployment(current) if current else None
        return found if found is not None and found.status == "ready" else None
    ready = store.list_deployments(project=project, app=app, environment=environment, statuses=["ready"], limit=1)
    return ready[0] if ready else None
