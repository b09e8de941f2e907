"""Runtime `docker`: pull (or find) the image, run it with PORT set (8080, or the environment's `port`
setting, with its command and CPU and memory limits) on a free 127.0.0.1 port, wait until it answers HTTP
(its health check when it has one), and report `localhost:<port>`. Containers carry labels so `unkey local ps`
and `unkey local down` can find them."""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import UsageError
from unkey_deploy.local.runtime import Advance, Cancelled, Placement, RuntimeFailure
from unkey_deploy.local.store import Deployment

if TYPE_CHECKING:
    from unkey_deploy.local.log_capture import ContainerLogs, LogSink

LABEL = "dev.unkey.local"
CONTAINER_PORT = 8080
LOG_TAIL_LINES = 20


def owner_label(data_dir: Path) -> str:
    """Names the control plane (its data dir) that started a container, so one server's `down` never
    removes another's containers on a shared engine."""
    return hashlib.sha256(str(data_dir.expanduser().resolve()).encode()).hexdigest()[:16]


def labels_for(deployment: Deployment, owner: str = "") -> dict[str, str]:
    return {
        LABEL: "1",
        f"{LABEL}.owner": owner,
        f"{LABEL}.deployment": deployment.id,
        f"{LABEL}.project": deployment.project,
        f"{LABEL}.app": deployment.app,
        f"{LABEL}.environment": deployment.environment,
    }


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def answers_http(port: int, timeout: float = 1.0, check: dict[str, Any] | None = None) -> bool:
    """Any HTTP answer to `GET /`; with an environment's health `check`, a 2xx or 3xx to its method and path."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(str(check.get("method", "GET")) if check else "GET", str(check["path"]) if check else "/")
        response = connection.getresponse()
        response.read(0)
        return check is None or 200 <= response.status < 400
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@dataclass
class DockerRuntime:
    client: Any
    stopping: threading.Event
    health_timeout: float = 60.0
    owner: str = ""
    name: str = field(default="docker", init=False)
    # The environment's runtime variables (passed through the Docker API, never a command line) and where
    # the containers' output goes; set by `unkey local serve`.
    variables: Callable[[Deployment], dict[str, str]] | None = None
    logs: LogSink | None = None
    # The environment's settings set with environments.updateSettings (port, command, healthcheck, vCpus,
    # memoryMib), applied to its containers; set by `unkey local serve`.
    settings: Callable[[Deployment], dict[str, Any]] | None = None

    @classmethod
    def connect(cls, stopping: threading.Event, *, health_timeout: float, owner: str = "") -> DockerRuntime:
        import docker

        try:
            client = docker.from_env(timeout=120)
            client.ping()
        except Exception as exc:
            raise UsageError(
                f"runtime docker needs a Docker engine, and none answers ({_first_line(exc)}): start dockerd "
                "or use --runtime simulate"
            ) from None
        return cls(client, stopping, health_timeout, owner)

    def describe(self) -> str:
        return (f"runtime docker: deployments run as containers labelled {LABEL}=1 on 127.0.0.1; "
                "`unkey local down` removes them")

    def deploy(self, deployment: Deployment, advance: Advance) -> Placement:
        advance("deploying", f"Pulling image {deployment.image}")
        self._ensure_image(deployment.image)
        port = free_port()
        settings = self.settings(deployment) if self.settings else {}
        check = settings.get("healthcheck")
        waiting = f"{check['method']} {check['path']}" if check else "HTTP"
        advance("network", f"Starting container; waiting for {waiting} on localhost:{port}")
        container = self._run(deployment, port, settings)
        capture = self._capture(deployment, container.id)
        self._wait_until_answering(container, port, capture, settings)
        return Placement([f"localhost:{port}"], port=port, container_id=container.id)

    def stop(self, deployment: Deployment) -> None:
        container = self._container(deployment)
        if container is not None:
            container.stop(timeout=10)

    def start(self, deployment: Deployment) -> None:
        container = self._container(deployment)
        if container is not None:
            container.start()
            self._capture(deployment, container.id, since=int(time.time()))

    def _ensure_image(self, image: str) -> None:
        import docker.errors

        try:
            self.client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            raise RuntimeFailure("deploying", f"cannot inspect image {image}: {_first_line(exc)}") from None
        try:
            self.client.images.pull(image)
        except (docker.errors.APIError, docker.errors.ImageNotFound) as exc:
            raise RuntimeFailure(
                "deploying",
                f"cannot pull image {image}: {_first_line(exc)}; build or pull it locally first",
            ) from None

    def _run(self, deployment: Deployment, port: int, settings: dict[str, Any] | None = None) -> Any:
        import docker.errors

        settings = settings or {}
        container_port = int(settings.get("port") or CONTAINER_PORT)
        limits: dict[str, Any] = {}
        if settings.get("command"):
            limits["command"] = list(settings["command"])
        if settings.get("memoryMib"):
            limits["mem_limit"] = f"{int(settings['memoryMib'])}m"
        if settings.get("vCpus"):
            limits["nano_cpus"] = int(float(settings["vCpus"]) * 1_000_000_000)
        try:
            return self.client.containers.run(
                deployment.image,
                detach=True,
                name=f"unkey-local-{deployment.id}",
                environment={**self._environment(deployment), "PORT": str(container_port)},
                ports={f"{container_port}/tcp": ("127.0.0.1", port)},
                labels=labels_for(deployment, self.owner),
                **limits,
            )
        except docker.errors.APIError as exc:
            raise RuntimeFailure("network", f"cannot start a container: {_first_line(exc)}") from None

    def _environment(self, deployment: Deployment) -> dict[str, str]:
        """The runtime variables, then the system variables, which win as on Unkey."""
        system = {
            "PORT": str(CONTAINER_PORT),
            "UNKEY_DEPLOYMENT_ID": deployment.id,
            "UNKEY_ENVIRONMENT_SLUG": deployment.environment,
            "UNKEY_REGION": "local",
            "UNKEY_INSTANCE_ID": f"unkey-local-{deployment.id}",
        }
        if deployment.commit_sha:
            system["UNKEY_GIT_COMMIT_SHA"] = deployment.commit_sha
        if deployment.branch:
            system["UNKEY_GIT_BRANCH"] = deployment.branch
        user = self.variables(deployment) if self.variables else {}
        return {**user, **system}

    def _capture(self, deployment: Deployment, container_id: str, since: int | None = None) -> ContainerLogs | None:
        if self.logs is None:
            return None
        from unkey_deploy.local.log_capture import ContainerLogs

        return ContainerLogs(self.client.api, container_id, deployment, self.logs, since=since)

    def _wait_until_answering(self, container: Any, port: int, capture: ContainerLogs | None = None,
                              settings: dict[str, Any] | None = None) -> None:
        settings = settings or {}
        container_port = int(settings.get("port") or CONTAINER_PORT)
        check = settings.get("healthcheck")
        deadline = time.monotonic() + self.health_timeout
        while True:
            if answers_http(port, check=check):
                return
            container.reload()
            if container.status in ("exited", "dead"):
                if capture is not None:
                    capture.wait(5.0)  # its last lines are stored before the deployment shows FAILED
                code = container.attrs.get("State", {}).get("ExitCode")
                raise RuntimeFailure("network", f"the container exited with code {code}{self._log_tail(container)}")
            if time.monotonic() > deadline:
                container.stop(timeout=5)
                raise RuntimeFailure(
                    "network",
                    f"the container did not answer {_expected(check)} on port {container_port} (PORT) within "
                    f"{self.health_timeout:g}s; make it listen on $PORT (or set the environment's port with "
                    "`unkey environments set --port`) or raise --health-timeout"
                    f"{self._log_tail(container)}",
                )
            if self.stopping.wait(0.2):
                raise Cancelled()

    def _log_tail(self, container: Any) -> str:
        try:
            text = container.logs(tail=LOG_TAIL_LINES).decode("utf-8", errors="replace").strip()
        except Exception:
            return ""
        return f"; last log lines:\n{text}" if text else "; the container wrote no log"

    def _container(self, deployment: Deployment) -> Any:
        import docker.errors

        if not deployment.container_id:
            return None
        try:
            return self.client.containers.get(deployment.container_id)
        except docker.errors.NotFound:
            return None


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "explanation", None) or str(exc) or type(exc).__name__
    return str(text).strip().splitlines()[0][:300]


@dataclass(frozen=True)
class LocalContainer:
    name: str
    deployment_id: str
    project: str
    app: str
    environment: str
    state: str
    url: str | None


def engine() -> Any:
    """A Docker client, or a UsageError saying how to get one."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        raise UsageError(f"no Docker engine answers ({_first_line(exc)}): start dockerd") from None
    return client


def _filters(owner: str | None, deployment_id: str | None = None) -> dict[str, list[str]]:
    labels = [f"{LABEL}=1"]
    if owner is not None:
        labels.append(f"{LABEL}.owner={owner}")
    if deployment_id:
        labels.append(f"{LABEL}.deployment={deployment_id}")
    return {"label": labels}


def local_containers(client: Any, owner: str | None = None) -> list[LocalContainer]:
    """The local control plane's containers: those of one data dir's server, or all (owner None)."""
    found = []
    for container in client.containers.list(all=True, filters=_filters(owner)):
        labels = container.labels
        bindings = (container.attrs.get("HostConfig", {}).get("PortBindings") or {}).get(f"{CONTAINER_PORT}/tcp")
        port = bindings[0].get("HostPort") if bindings else None
        found.append(
            LocalContainer(
                name=container.name,
                deployment_id=labels.get(f"{LABEL}.deployment", "?"),
                project=labels.get(f"{LABEL}.project", "?"),
                app=labels.get(f"{LABEL}.app", "?"),
                environment=labels.get(f"{LABEL}.environment", "?"),
                state=container.status,
                url=f"http://localhost:{port}" if port else None,
            )
        )
    return found


def remove_containers(client: Any, deployment_id: str | None = None, owner: str | None = None) -> int:
    """Remove one deployment's container, or those of one data dir's server, or all (owner None)."""
    containers = client.containers.list(all=True, filters=_filters(owner, deployment_id))
    for container in containers:
        container.remove(force=True)
    return len(containers)


def _expected(check: dict[str, Any] | None) -> str:
    return f"{check.get('method', 'GET')} {check.get('path')} with a 2xx or 3xx" if check else "HTTP"
