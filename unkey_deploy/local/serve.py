"""`unkey local serve`: check its flags, wire store, runtime, rules and HTTP server together and run until a
signal."""

from __future__ import annotations

import logging
import math
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from unkey_deploy.errors import UsageError
from unkey_deploy.local.datadir import DataDirLock, open_private, prepare, private_umask
from unkey_deploy.local.deployments_api import ROUTES as DEPLOYMENT_ROUTES
from unkey_deploy.local.deployments_api import Context
from unkey_deploy.local.endpoint import ROOT_KEY_FILE, default_data_dir, docker_available, load_or_create_root_key
from unkey_deploy.local.keys_api import ROUTES as KEY_ROUTES
from unkey_deploy.local.lifecycle import Controller
from unkey_deploy.local.proxy import EnvironmentProxies
from unkey_deploy.local.runtime import INTERMEDIATE_STEPS, Runtime, SimulateRuntime, parse_seconds_range
from unkey_deploy.local.server import MAX_CONNECTIONS, REQUEST_TIMEOUT, Handler, LocalServer
from unkey_deploy.local.store import Store

if TYPE_CHECKING:
    from unkey_deploy.local.domain_proxy import DomainProxy

log = logging.getLogger("unkey.local")
DB_FILE = "state.db"

# The API's operations, one table per module; a new module of routes is added here.
ROUTE_TABLES: tuple[Mapping[str, Handler], ...] = (DEPLOYMENT_ROUTES, KEY_ROUTES)


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
    request_timeout: float = REQUEST_TIMEOUT
    max_connections: int = MAX_CONNECTIONS


def options_from_flags(
    *,
    data_dir: Path | None,
    host: str,
    port: int,
    runtime: str,
    root_key: str | None,
    allow_any_key: bool,
    health_timeout: float,
    step_delay: float,
    ready_after: str | None,
    steps: str,
    fail_images: str,
    projects: str | None,
    debug_timestamps: bool,
    request_timeout: float,
    max_connections: int,
    verbose: bool,
) -> ServeOptions:
    """The options of `unkey local serve` from its flags as given, each checked: a usage error names the flag
    at fault and how to fix it."""
    if runtime not in ("auto", "docker", "simulate"):
        raise UsageError(f"--runtime must be docker, simulate or auto, not {runtime!r}")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")
    if root_key is not None and not root_key.strip():
        raise UsageError("--root-key is empty: pass a key or leave it out to use the generated one")
    if not (math.isfinite(request_timeout) and request_timeout > 0):
        raise UsageError(f"--request-timeout must be a positive number of seconds, not {request_timeout}")
    if max_connections < 1:
        raise UsageError(f"--max-connections must be at least 1, not {max_connections}")
    walked, step_times = parse_steps(steps)
    window = None
    if ready_after:
        try:
            window = parse_seconds_range(ready_after)
        except ValueError as exc:
            raise UsageError(f"--ready-after: {exc}") from None
    project_set = frozenset(p.strip() for p in projects.split(",") if p.strip()) if projects else None
    return ServeOptions(
        data_dir=(data_dir or default_data_dir()).expanduser(),
        host=host,
        port=port,
        runtime=runtime,
        root_key=root_key.strip() if root_key else None,
        allow_any_key=allow_any_key,
        health_timeout=health_timeout,
        step_delay=step_delay,
        ready_after=window,
        steps=walked,
        step_times=step_times,
        fail_images=fail_images,
        projects=project_set,
        debug_timestamps=debug_timestamps,
        verbose=verbose,
        request_timeout=request_timeout,
        max_connections=max_connections,
    )


def parse_steps(text: str) -> tuple[tuple[str, ...], dict[str, float]]:
    """`deploying,network=0.5` → the statuses walked, and the fixed seconds of those that have one."""
    walked: list[str] = []
    times: dict[str, float] = {}
    for item in (part.strip().lower() for part in text.split(",")):
        if not item or item == "none":
            continue
        status, _, seconds = item.partition("=")
        if status not in (*INTERMEDIATE_STEPS, "starting", "building", "finalizing"):
            raise UsageError(f"--steps: unknown status {status!r}; use e.g. deploying,network=0.5 or none")
        if seconds:
            try:
                times[status] = float(seconds)
            except ValueError:
                raise UsageError(f"--steps: {item!r} needs seconds after '=', e.g. network=0.5") from None
        walked.append(status)
    return tuple(walked), times


def serve(options: ServeOptions, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
    """Run until SIGTERM or SIGINT. Every file it creates is private to the user (umask 077), and the data dir
    is locked before any state is touched, so a second server on it is refused before it can do harm."""
    previous_umask = private_umask()
    try:
        data_dir = prepare(options.data_dir)
        lock = DataDirLock.acquire(data_dir)
        try:
            _serve_locked(options, data_dir, lock, out, err)
        finally:
            lock.release()
    finally:
        os.umask(previous_umask)


def _serve_locked(options: ServeOptions, data_dir: Path, lock: DataDirLock, out: TextIO, err: TextIO) -> None:
    logging.basicConfig(
        stream=err, level=logging.DEBUG if options.verbose else logging.INFO,
        format="%(asctime)s %(message)s", datefmt="%H:%M:%S",
    )
    root_key, generated = _root_key(options, data_dir)
    stopping = threading.Event()
    runtime = _runtime(options, stopping)
    store = open_store(data_dir / DB_FILE)
    try:
        from unkey_deploy.local.domain_proxy import DomainProxy

        domains = DomainProxy(store, options.host)
        domains.start()
        more_routes = _variables_and_logs(data_dir, store, runtime, domains)
        proxies = EnvironmentProxies(store, options.host)
        proxies.restore()
        controller = Controller(store, runtime, stopping, action_delay=options.action_delay, proxies=proxies)
        controller.recover()
        context = Context(controller, projects=options.projects, debug_timestamps=options.debug_timestamps)
        from unkey_deploy.local.git_builds import GitBuilds

        context.git_builds = GitBuilds(store, controller).create
        try:
            server = LocalServer(
                (options.host, options.port), context, routes(more_routes), root_key=root_key,
                request_timeout=options.request_timeout, max_connections=options.max_connections,
            )
        except OSError as exc:
            proxies.close()
            domains.close()
            raise UsageError(
                f"cannot listen on {options.host}:{options.port} ({exc.strerror}); pick another --port "
                "(0 picks a free one) or stop what uses it"
            ) from None
        lock.announce(server.url)

        def announce() -> None:
            print(_key_note(options, data_dir, generated), file=err, flush=True)
            print(runtime.describe(), file=err, flush=True)
            print(server.url, file=out, flush=True)
            if generated and _is_terminal(out):  # never into a file or pipe: logs are not for keys
                print(f"root key: {root_key}", file=out, flush=True)

        _serve_until_signal(server, announce)
        controller.shutdown()
        proxies.close()
        domains.close()
    finally:
        store.close()
    print("stopped", file=err, flush=True)


def _variables_and_logs(data_dir: Path, store: Store, runtime: Runtime,
                        domains: DomainProxy | None = None) -> dict[str, Handler]:
    """Runtime variables (sealed with the data dir's key), runtime logs, and projects, apps, environment settings
    and domains: their routes, and the runtime wired to pass the variables and the environment's settings into
    containers and store their output."""
    from unkey_deploy.local import logs_api, platform_api, variables_api
    from unkey_deploy.local.log_capture import LogSink
    from unkey_deploy.local.sealed import Sealer

    variables = variables_api.Variables(store, Sealer.for_data_dir(data_dir))
    runtime.variables = variables.for_deployment  # type: ignore[attr-defined]
    runtime.logs = LogSink(store)  # type: ignore[attr-defined]
    runtime.settings = lambda d: platform_api.stored_settings(  # type: ignore[attr-defined]
        store, d.project, d.app, d.environment)
    return {**variables_api.routes(variables), **logs_api.routes(data_dir / DB_FILE),
            **platform_api.routes(variables, domains)}


def routes(*more: Mapping[str, Handler]) -> dict[str, Handler]:
    """Every operation the server answers: the route tables of the API modules (and `more`), merged."""
    table: dict[str, Handler] = {}
    for module_routes in (*ROUTE_TABLES, *more):
        table.update(module_routes)
    return table


def open_store(path: Path) -> Store:
    """The SQLite state, or a UsageError when the file is not a database this version can use."""
    try:
        fd = open_private(path, os.O_RDWR)  # create it 0600 before SQLite does (its -wal/-shm follow its mode)
        os.close(fd)
        store = Store(path)
        try:
            problem = store.check()
        except BaseException:
            store.close()
            raise
        if problem:
            store.close()
            raise sqlite3.DatabaseError(problem)
        return store
    except sqlite3.DatabaseError as exc:
        raise UsageError(
            f"{path} is not a usable state database ({exc}): move it away (mv {path} {path}.bad) to start "
            "with empty local state, or pass another --data-dir"
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot open {path} ({exc.strerror or exc}): fix its permissions (chmod 600 {path}) "
            "or pass another --data-dir"
        ) from None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


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
    from unkey_deploy.local.docker_runtime import DockerRuntime, owner_label

    return DockerRuntime.connect(
        stopping, health_timeout=options.health_timeout, owner=owner_label(options.data_dir)
    )


def _root_key(options: ServeOptions, data_dir: Path) -> tuple[str | None, bool]:
    if options.allow_any_key:
        return None, False
    if options.root_key:
        return options.root_key, False
    return load_or_create_root_key(data_dir)


def _key_note(options: ServeOptions, data_dir: Path, generated: bool) -> str:
    if options.allow_any_key:
        return "auth: any non-empty root key is accepted (--allow-any-key)"
    if options.root_key:
        return "auth: the root key given with --root-key"
    state = "generated and stored in" if generated else "stored in"
    return f"auth: root key {state} {data_dir / ROOT_KEY_FILE} (readable by you only)"


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
