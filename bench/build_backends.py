"""Cold and warm build times of the Python and Node examples on each build backend available: the local
Docker engine, buildah, podman and (with --start-remote or --remote HOST) a remote Docker engine, side by
side as ratios to the local docker build.

"Cold": a fresh label right after each FROM, so every step after the base image runs. "Warm": one line of
the app's source changed, then built again (the COPY and what follows run, the rest comes from the cache).
Base images are already in each backend's storage (copied there by a first, unmeasured build).

Needs a Docker engine and the stand-in base images (`bash .ci/services.sh`); buildah and podman are used
when installed. --start-remote starts a second dockerd (root: own data root, bridge and TCP socket on
127.0.0.1; removed afterwards).

    python bench/build_backends.py [--examples python-http node-http] [--start-remote | --remote tcp://HOST:PORT]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from unkey_deploy.dockerfile import render
from unkey_deploy.image.build import BuildRequest, build_image
from unkey_deploy.plan import make_plan
from unkey_deploy.report import Reporter

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVICES_ENV = Path(os.environ.get("UNKEY_CI_DIR", "/tmp/unkey-ci")) / "services.env"
MAIN_FILES = {"python-http": "main.py", "node-http": "server.js"}


def load_services() -> None:
    if "UNKEY_BASE_IMAGES" in os.environ or not SERVICES_ENV.is_file():
        return
    for line in SERVICES_ENV.read_text().splitlines():
        name, _, value = line.partition("=")
        if name == "UNKEY_BASE_IMAGES":
            os.environ[name] = value.strip("'")


def labelled(dockerfile: str, marker: str) -> str:
    """The Dockerfile with a label after each FROM: every later step's cache key changes."""
    return re.sub(r"^(FROM .*)$", rf"\1\nLABEL bench.marker={marker}", dockerfile, flags=re.M)


def timed_build(backend: str, app: Path, dockerfile: str, ignore: str | None, host: str | None) -> float:
    request = BuildRequest(app, f"localhost/unkey-bench/{backend}-{app.name}:latest", dockerfile_text=dockerfile,
                           dockerignore_text=ignore, backend="docker" if backend == "remote" else backend)  # fmt: skip
    previous = os.environ.get("DOCKER_HOST")
    if host:
        os.environ["DOCKER_HOST"] = host
    try:
        started = time.perf_counter()
        build_image(request, Reporter())
        return time.perf_counter() - started
    finally:
        if host:
            if previous is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = previous


def measure(backend: str, example: str, host: str | None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="unkey-bench-") as tmp:
        app = Path(tmp) / example
        shutil.copytree(EXAMPLES / example, app)
        rendered = render(make_plan(app))
        timed_build(backend, app, rendered.dockerfile, rendered.dockerignore, host)  # base images in place
        cold = timed_build(backend, app, labelled(rendered.dockerfile, uuid.uuid4().hex), rendered.dockerignore, host)
        marker = uuid.uuid4().hex
        timed_build(backend, app, labelled(rendered.dockerfile, marker), rendered.dockerignore, host)
        with (app / MAIN_FILES[example]).open("a") as handle:
            handle.write("\n// changed\n" if example.startswith("node") else "\n# changed\n")
        warm = timed_build(backend, app, labelled(rendered.dockerfile, marker), rendered.dockerignore, host)
    return cold, warm


@contextlib.contextmanager
def second_engine(base_images: list[str]) -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="unkey-bench-dockerd-"))
    bridge = f"unkeybn{os.getpid() % 100000}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        host = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    (directory / "daemon.json").write_text("{}")
    for command in (["ip", "link", "add", "name", bridge, "type", "bridge"],
                    ["ip", "addr", "add", f"10.{210 + os.getpid() % 40}.{os.getpid() % 250}.1/24", "dev", bridge],
                    ["ip", "link", "set", bridge, "up"]):  # fmt: skip
        subprocess.run(command, check=True, capture_output=True)
    process = subprocess.Popen(
        ["dockerd", "--config-file", str(directory / "daemon.json"), "--data-root", str(directory / "data"),
         "--exec-root", str(directory / "exec"), "--pidfile", str(directory / "docker.pid"), "-H", host,
         "--bridge", bridge, "--iptables=false", "--ip-masq=false"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(120):
            if subprocess.run(["docker", "-H", host, "version"], capture_output=True).returncode == 0:
                break
            time.sleep(0.5)
        for image in base_images:
            saved = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            subprocess.run(["docker", "-H", host, "load"], stdin=saved.stdout, capture_output=True, check=True)
            saved.wait()
        yield host
    finally:
        process.terminate()
        process.wait(timeout=60)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


def remove(backend: str, tag: str, host: str | None) -> None:
    """Remove the bench's image (its build cache stays, as it would on a CI runner)."""
    command = {"docker": ["docker", "rmi", tag], "remote": ["docker", "-H", host or "", "rmi", tag]}.get(
        backend, [backend, "rmi", tag])
    subprocess.run(command, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", nargs="+", default=["python-http", "node-http"], choices=sorted(MAIN_FILES))
    parser.add_argument("--remote", metavar="HOST", help="a remote Docker engine (DOCKER_HOST value) to compare")
    parser.add_argument("--start-remote", action="store_true", help="start a second dockerd to compare (root)")
    args = parser.parse_args()
    load_services()
    backends = ["docker"] + [name for name in ("buildah", "podman") if shutil.which(name)]
    with contextlib.ExitStack() as stack:
        remote = args.remote
        if args.start_remote:
            mapping = json.loads(os.environ.get("UNKEY_BASE_IMAGES", "{}"))
            bases = sorted({mapping.get("python", "python"), mapping.get("node", "node")})
            remote = stack.enter_context(second_engine(bases))
        if remote:
            backends.append("remote")
        results: dict[tuple[str, str], tuple[float, float]] = {}
        for example in args.examples:
            for backend in backends:
                results[(example, backend)] = measure(backend, example, remote if backend == "remote" else None)
                cold, warm = results[(example, backend)]
                print(f"{example:12} {backend:8} cold {cold:6.2f} s  warm {warm:6.2f} s", file=sys.stderr)
        for example in args.examples:
            for backend in backends:
                remove(backend, f"localhost/unkey-bench/{backend}-{example}:latest", remote)
    print(f"\n| Example | {' | '.join(backends)} |")
    print(f"|---|{'---|' * len(backends)}")
    for example in args.examples:
        base_cold, base_warm = results[(example, "docker")]
        cells = []
        for backend in backends:
            cold, warm = results[(example, backend)]
            cells.append(f"{cold:.1f} s / {warm:.1f} s ({cold / base_cold:.2f}× / {warm / base_warm:.2f}×)")
        print(f"| {example} (cold / warm) | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
