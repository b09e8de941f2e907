"""Every example with a `.unkey-e2e.yaml` is built and run for real: `unkey deploy <dir> --build --local` on
`unkey local serve --runtime docker`, then each listed request goes to the deployment's URL.

The file lists what the running app must answer, and optionally build variables or a reason to skip:

    requests:
      - {path: /, status: 200, contains: "hello"}
    env: {API_URL: "https://example.com"}   # build variables (--var), never printed
    skip_reason: "why this example cannot run here yet"

A monorepo example names its app in `.root-dir` (passed as --root-dir). Each example is copied to a private
directory first, so the image gets a name of its own and is removed afterwards with the deployment's container.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.local.conftest import LocalServer, start_server

pytestmark = pytest.mark.docker

EXAMPLES = REPO / "examples"
SPEC_NAME = ".unkey-e2e.yaml"
SPEC_KEYS = {"requests", "env", "skip_reason"}
REQUEST_KEYS = {"path", "status", "contains"}
BUILD_TIMEOUT = 600  # seconds for one example's build and deploy
READY_TIMEOUT = 240  # seconds the deployment gets to become READY once built
ANSWER_TIMEOUT = 30  # seconds a READY app gets to give the expected answer
COPY_IGNORE = shutil.ignore_patterns("node_modules", ".venv", "__pycache__", "target", "dist", ".next")


def example_dirs() -> list[Path]:
    return sorted(path.parent for path in EXAMPLES.glob(f"*/{SPEC_NAME}"))


def load_spec(example: Path) -> dict[str, Any]:
    """The example's checks, or a test failure naming what is wrong with the file."""
    path = example / SPEC_NAME
    spec = yaml.safe_load(path.read_text())
    problems = []
    if not isinstance(spec, dict):
        pytest.fail(f"{path}: expected a mapping with `requests:`")
    if unknown := set(spec) - SPEC_KEYS:
        problems.append(f"unknown keys {sorted(unknown)} (allowed: {sorted(SPEC_KEYS)})")
    requests = spec.get("requests")
    if not isinstance(requests, list) or not requests:
        problems.append("`requests` must be a non-empty list")
    else:
        for request in requests:
            if not isinstance(request, dict) or not str(request.get("path", "")).startswith("/"):
                problems.append(f"request {request!r} needs a `path` starting with /")
            elif unknown := set(request) - REQUEST_KEYS:
                problems.append(f"request {request['path']}: unknown keys {sorted(unknown)}")
    env = spec.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, (str, int, float, bool)) for v in env.values()):
        problems.append("`env` must map names to values")
    if problems:
        pytest.fail(f"{path}: " + "; ".join(problems))
    return spec


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, docker_engine: str, base_images: dict[str, str]) -> Iterator[LocalServer]:
    """A control plane with the docker runtime in a private data dir, for this module only."""
    server = start_server(tmp_path_factory.mktemp("real-apps"), "--runtime", "docker", "--health-timeout", "90")
    yield server
    server.stop()


def base_images_of(dockerfile: str) -> list[str]:
    """The images a Dockerfile starts stages FROM (stage names, `scratch` and ARG-built names left out)."""
    stages: set[str] = set()
    images = []
    for line in dockerfile.splitlines():
        match = re.match(r"\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if not match:
            continue
        image, stage = match.group(1), match.group(2)
        if image.lower() not in stages and image != "scratch" and "$" not in image:
            images.append(image)
        if stage:
            stages.add(stage.lower())
    return images


def root_dir_args(example: Path) -> list[str]:
    """A monorepo example names its app in `.root-dir`, as --root-dir would."""
    marker = example / ".root-dir"
    return [f"--root-dir={marker.read_text().strip()}"] if marker.is_file() else []


def missing_standins(run_cli, example: Path, base_images: dict[str, str], docker: str) -> list[str]:
    """Base images of the example that have no local stand-in (the build would try to pull them)."""
    from unkey_deploy.plan import ImageMap

    own = example / "Dockerfile"
    if own.is_file():
        text = own.read_text()
    else:
        result = run_cli("dockerfile", str(example), *root_dir_args(example),
                         env={"UNKEY_BASE_IMAGES": json.dumps(base_images)})
        if result.returncode != 0:
            return []  # the deploy reports the problem itself
        text = result.stdout
    mapping = ImageMap(base_images)
    missing = []
    for image in base_images_of(text):
        local = mapping.remap(image)
        if subprocess.run([docker, "image", "inspect", local], capture_output=True).returncode != 0:
            missing.append(image if local == image else f"{image} (→ {local})")
    return missing


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def check_request(base_url: str, request: dict[str, Any]) -> None:
    """GET the path until it gives the expected status and text, or fail with what it gave last."""
    want_status = int(request.get("status", 200))
    want_text = str(request.get("contains", ""))
    url = base_url.rstrip("/") + request["path"]
    deadline = time.monotonic() + ANSWER_TIMEOUT
    last = "no answer"
    while True:
        try:
            status, body = get(url)
            if status == want_status and want_text in body:
                return
            last = f"status {status}, body {body[:500]!r}"
        except OSError as exc:
            last = f"no answer ({exc})"
        if time.monotonic() > deadline:
            pytest.fail(f"GET {request['path']}: wanted status {want_status} containing {want_text!r}; got {last}")
        time.sleep(0.5)


def cleanup(docker: str, run_cli, data: dict[str, Any], app_dir: Path) -> None:
    """Remove the deployment's container and the image (named after the private copy of the app)."""
    if data.get("deploymentId"):
        run_cli("local", "down", "--deployment", str(data["deploymentId"]))
    images = {data.get("image"), f"{app_dir.name}:latest"} - {None}
    subprocess.run([docker, "image", "rm", "-f", *images], capture_output=True)


def container_logs(docker: str, deployment: str | None) -> str:
    if not deployment:
        return ""
    ids = subprocess.run([docker, "ps", "-aq", "--filter", f"label=dev.unkey.local.deployment={deployment}"],
                         capture_output=True, text=True).stdout.split()
    logs = [subprocess.run([docker, "logs", "--tail", "40", i], capture_output=True, text=True) for i in ids]
    return "".join(log.stdout + log.stderr for log in logs)[-3000:]


@pytest.mark.parametrize("example", example_dirs(), ids=lambda path: path.name)
def test_example_builds_deploys_and_answers(example: Path, run_cli, app_server: LocalServer,
                                            base_images: dict[str, str], docker_engine: str, tmp_path: Path):
    spec = load_spec(example)
    if spec.get("skip_reason"):
        pytest.skip(f"{example.name}: {spec['skip_reason']}")
    if missing := missing_standins(run_cli, example, base_images, docker_engine):
        pytest.skip(f"{example.name}: no local stand-in for {', '.join(missing)}; add one in .ci/services.sh")

    app_dir = tmp_path / f"e2e-{example.name}-{secrets.token_hex(3)}"
    shutil.copytree(example, app_dir, ignore=COPY_IGNORE, symlinks=True)
    variables = {str(k): str(v) for k, v in (spec.get("env") or {}).items()}
    env = {"UNKEY_BASE_IMAGES": json.dumps(base_images), "UNKEY_LOCAL_URL": app_server.url, **variables}
    args = [f"--var={name}" for name in variables] + root_dir_args(example)
    data: dict[str, Any] = {}
    try:
        try:
            result = run_cli("deploy", str(app_dir), "--project=e2e", f"--app={example.name}", "--local",
                             f"--root-key={app_server.root_key}", f"--timeout={READY_TIMEOUT}", "--output=json",
                             *args, env=env, timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{example.name}: build and deploy took longer than {BUILD_TIMEOUT} s")
        try:
            data = json.loads(result.stdout)
        except ValueError:
            data = {}
        assert result.returncode == 0 and data.get("status") == "READY", (
            f"exit {result.returncode}\n{result.stderr[-3000:]}\n"
            f"{container_logs(docker_engine, data.get('deploymentId'))}")
        assert data.get("urls"), data
        for request in spec["requests"]:
            check_request(data["urls"][0], request)
    finally:
        cleanup(docker_engine, run_cli, data, app_dir)
