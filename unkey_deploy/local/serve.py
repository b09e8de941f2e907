"""`unkey local serve`: wire store, runtime, rules and HTTP server together and run until a signal."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from unkey_deploy.errors import UsageError
from unkey_deploy.local.deployments_api import ROUTES as DEPLOYMENT_ROUTES
from unkey_deploy.local.deployments_api import Context
from unkey_deploy.local.endpoint import docker_available, load_or_create_root_key
from unkey_deploy.local.keys_api import ROUTES as KEY_ROUTES
from unkey_deploy.local.lifecycle import Controller
from unkey_deploy.local.proxy import EnvironmentProxies
from unkey_deploy.local.runtime import INTERMEDIATE_STEPS, Runtime, SimulateRuntime
from unkey_deploy.local.server import Handler, LocalServer
from unkey_deploy.local.store import Store

log = logging.getLogger("unkey.local")
DB_FILE = "state.db"
PID_FILE = "server.pid"


@dataclass
class ServeOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 7070
    runtime: str = "auto"  # docker, simulate or auto (docker when an engine answers)
    root_key: str | None = None
    allow_any_key: bool = False
    health_timeout: float = 60.0
    step_delay: float = 0.3
    ready_after: tuple[float, float] | None = None
    steps: tuple[str, ...] = INTERMEDIATE_STEPS
    step_times: dict[str, float] = field(default_factory=dict)
    fail_images: str = "*fail*"
    projects: frozenset[str] | None = None
    debug_timestamps: bool = False
    action_delay: float = 0.2
    verbose: bool = False


def serve(options: ServeOptions, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
    logging.basicConfig(
        stream=err, level=logging.DEBUG if options.verbose else logging.INFO,
        format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
    )
    stopping = threading.Event()
    runtime = _runtime(options, stopping)
    store = Store(options.data_dir / DB_FILE)
    more_routes = _variables_and_logs(options, store, runtime)
    proxies = EnvironmentProxies(store, options.host)
    proxies.restore()
    controller = Controller(store, runtime, stopping, action_delay=options.action_delay, proxies=proxies)
    controller.recover()
    context = Context(controller, projects=options.projects, debug_timestamps=options.debug_timestamps)
    root_key, generated = _root_key(options)
    try:
        server = LocalServer(
            (options.host, options.port), context, {**DEPLOYMENT_ROUTES, **KEY_ROUTES, **more_routes}, root_key=root_key
        )
    except OSError as exc:
        store.close()
        raise UsageError(
            f"cannot listen on {options.host}:{options.port} ({exc.strerror}); pick another --port "
            "(0 picks a free one) or stop what uses it"
        ) from None
    pid_file = options.data_dir / PID_FILE
    pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")

    def announce() -> None:
        print(_key_note(options, generated), file=err, flush=True)
        print(runtime.describe(), file=err, flush=True)
        print(server.url, file=out, flush=True)
        if generated:
            print(f"root key: {root_key}", file=out, flush=True)

    _serve_until_signal(server, announce)
    controller.shutdown()
    proxies.close()
    store.close()
    pid_file.unlink(missing_ok=True)
    print("stopped", file=err, flush=True)


def _variables_and_logs(options: ServeOptions, store: Store, runtime: Runtime) -> dict[str, Handler]:
    """Runtime variables (sealed with the data dir's key) and runtime logs: their routes, and the runtime
    wired to pass the variables into containers and store their output."""
    from unkey_deploy.local import logs_api, variables_api
    from unkey_deploy.local.log_capture import LogSink
    from unkey_deploy.local.sealed import Sealer

    for suffix in ("", "-wal", "-shm"):  # variable values live in the database: owner only
        path = options.data_dir / f"{DB_FILE}{suffix}"
        if path.exists():
            os.chmod(path, 0o600)
    variables = variables_api.Variables(store, Sealer.for_data_dir(options.data_dir))
    runtime.variables = variables.for_deployment  # type: ignore[attr-defined]
    runtime.logs = LogSink(store)  # type: ignore[attr-defined]
    return {**variables_api.routes(variables), **logs_api.routes(options.data_dir / DB_FILE)}


def _runtime(options: ServeOptions, stopping: threading.Event) -> Runtime:
    choice = options.runtime
    if choice == "auto":
        choice = "docker" if docker_available() else "simulate"
    if choice == "simulate":
        return SimulateRuntime(
            stopping,
            step_delay=options.step_delay,
            ready_after=options.ready_after,
            steps=options.steps,
            fail_images=options.fail_images,
            step_times=options.step_times,
        )
    from unkey_deploy.local.docker_runtime import DockerRuntime

    return DockerRuntime.connect(stopping, health_timeout=options.health_timeout)


def _root_key(options: ServeOptions) -> tuple[str | None, bool]:
    if options.allow_any_key:
        return None, False
    if options.root_key:
        return options.root_key, False
    return load_or_create_root_key(options.data_dir)


def _key_note(options: ServeOptions, generated: bool) -> str:
    if options.allow_any_key:
        return "auth: any non-empty root key is accepted (--allow-any-key)"
    if options.root_key:
        return "auth: the root key given with --root-key"
    state = "generated and stored in" if generated else "stored in"
    return f"auth: root key {state} {options.data_dir / 'root_key'}"


def _serve_until_signal(server: LocalServer, announce: Callable[[], None]) -> None:
    """Serve until SIGTERM or SIGINT; `announce` runs once the handlers are in place, so a client that
    stops the server right after reading its URL always gets a clean shutdown."""

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        announce()
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
