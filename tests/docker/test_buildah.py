"""Daemonless builds for real: buildah and podman build the examples, push them to the registry on
127.0.0.1 with their own push, and `unkey local` runs them by digest. The build variables reach the
build only as the secret: absent from the image's files, config and history, and from the output."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.local.conftest import LocalServer, start_server

pytestmark = pytest.mark.docker

EXAMPLES = REPO / "examples"
SECRET = "s3cr3t-Value with spaces 'q' #hash"


def _usable(name: str) -> str:
    program = shutil.which(name)
    if not program:
        pytest.skip(f"{name} is not installed; `apt-get install {name}` (bash .ci/services.sh installs it)")
    try:
        result = subprocess.run([program, "info"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"{name} cannot run here: {exc}")
    if result.returncode != 0:
        pytest.skip(f"{name} cannot run here: {result.stderr.strip()[:200]}")
    return program


@pytest.fixture(params=["buildah", "podman"])
def backend(request) -> str:
    _usable(request.param)
    return request.param


@pytest.fixture(scope="module")
def buildah() -> str:
    return _usable("buildah")


@pytest.fixture(scope="module")
def docker_server(tmp_path_factory, docker_engine, base_images) -> Iterator[LocalServer]:
    server = start_server(tmp_path_factory.mktemp("local"), "--runtime", "docker", "--health-timeout", "60")
    yield server
    server.stop()


def _answers(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode(errors="replace")


def _registry_digest(registry: str, name: str, tag: str) -> str:
    accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
    response = httpx.head(f"http://{registry}/v2/{name}/manifests/{tag}", headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200, response.text
    return response.headers["Docker-Content-Digest"]


@pytest.mark.parametrize("example", ["python-http", "node-http"])
def test_build_push_deploy_by_digest(run_cli, docker_server, base_images, registry, backend, example):
    name = f"daemonless-{backend}-{example}"
    result = run_cli(
        "deploy", f"{registry}/{name}:t1", "--build", f"--context={EXAMPLES / example}", f"--app={name}",
        "--project=daemonless", f"--api-url={docker_server.url}", f"--root-key={docker_server.root_key}",
        "--builder-backend", backend, "--var", f"API_TOKEN={SECRET}", "--output=json",
        env={"UNKEY_BASE_IMAGES": json.dumps(base_images)}, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "READY"
    digest = _registry_digest(registry, name, "t1")
    assert data["image"] == f"{registry}/{name}:t1@{digest}"
    assert f"building with {backend}" in result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert _answers(data["urls"][0]).strip()


def test_auto_without_engine_picks_buildah_and_says_why(run_cli, base_images, registry, buildah, tmp_path):
    config = tmp_path / "docker-config"
    gone = tmp_path / "no-docker.sock"
    subprocess.run(["docker", "--config", str(config), "context", "create", "gone", "--docker", f"host=unix://{gone}"],
                   check=True, capture_output=True)  # fmt: skip
    (config / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    result = run_cli("build", str(EXAMPLES / "python-http"), "-t", f"{registry}/daemonless-auto:t1", "--push",
                     env={"UNKEY_BASE_IMAGES": json.dumps(base_images), "DOCKER_CONFIG": str(config)}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "building with buildah: no Docker engine" in result.stderr
    digest = _registry_digest(registry, "daemonless-auto", "t1")
    assert result.stdout.strip() == f"{registry}/daemonless-auto:t1@{digest}"


class MountedImage:
    """An image's root filesystem through a buildah working container, removed afterwards."""

    def __init__(self, buildah: str, image: str) -> None:
        self.buildah = buildah
        self.container = subprocess.run([buildah, "from", "--pull=never", image], capture_output=True, text=True,
                                        check=True).stdout.strip()  # fmt: skip
        self.root = Path(subprocess.run([buildah, "mount", self.container], capture_output=True, text=True,
                                        check=True).stdout.strip())  # fmt: skip

    def close(self) -> None:
        subprocess.run([self.buildah, "rm", self.container], capture_output=True)


def _secret_app(directory: Path, base: str) -> Path:
    directory.mkdir()
    (directory / "Dockerfile").write_text(
        f"FROM {base}\n"
        "ARG UNKEY_SECRETS_ID\n"
        "RUN --mount=type=cache,target=/root/.cache/unkey-test \\\n"
        "    --mount=type=secret,id=${UNKEY_SECRETS_ID},target=/run/secrets/.env \\\n"
        "    set -a && . /run/secrets/.env && set +a && test -n \"$API_TOKEN\" && \\\n"
        "    printf %s \"$API_TOKEN\" | sha256sum | cut -d' ' -f1 > /token.sha256\n"
        "COPY . /src\n"
    )
    (directory / "kept.txt").write_text("kept\n")
    (directory / "local.env").write_text(f"API_TOKEN={SECRET}\n")
    (directory / ".dockerignore").write_text("local.env\n")
    return directory


def test_secret_reaches_the_build_only(run_cli, base_images, registry, backend, buildah, tmp_path):
    app = _secret_app(tmp_path / "app", base_images["debian"])
    ref = f"{registry}/daemonless-secret-{backend}:t1"
    result = run_cli("build", str(app), "-t", ref, "--push", f"--builder-backend={backend}", "--var", "API_TOKEN",
                     env={"API_TOKEN": SECRET}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    inspect = subprocess.run([buildah, "inspect", "--type", "image", ref], capture_output=True, text=True, check=True)
    history = subprocess.run(["podman", "history", "--no-trunc", ref] if shutil.which("podman") else
                             [buildah, "images", "--json", ref], capture_output=True, text=True)  # fmt: skip
    for text in (inspect.stdout, history.stdout):
        assert SECRET not in text and "s3cr3t" not in text
    image = MountedImage(buildah, ref)
    try:
        assert (image.root / "token.sha256").read_text().strip() == hashlib.sha256(SECRET.encode()).hexdigest()
        assert (image.root / "src" / "kept.txt").is_file()
        assert not (image.root / "src" / "local.env").exists(), ".dockerignore was not honoured"
        assert not (image.root / "run" / "secrets" / ".env").exists()
        found = subprocess.run(["grep", "-rlF", "--exclude-dir=proc", "--exclude-dir=sys", SECRET, str(image.root)],
                               capture_output=True, text=True)  # fmt: skip
        assert found.stdout == "", f"the secret is in the image: {found.stdout}"
    finally:
        image.close()


def test_generated_dockerfile_honours_the_context_dockerignore(run_cli, base_images, buildah, tmp_path):
    app = tmp_path / "py"
    shutil.copytree(EXAMPLES / "python-http", app)
    (app / "notes.private").write_text("not for the image\n")
    (app / ".dockerignore").write_text("*.private\n")
    ref = "localhost/unkey-test/daemonless-ignore:t1"
    result = run_cli("build", str(app), "-t", ref, "--builder-backend=buildah",
                     env={"UNKEY_BASE_IMAGES": json.dumps(base_images)}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    image = MountedImage(buildah, ref)
    try:
        files = {path.name for path in (image.root / "app").iterdir()}
        assert "main.py" in files and "notes.private" not in files
    finally:
        image.close()
        subprocess.run([buildah, "rmi", ref], capture_output=True)


def test_wrong_password_is_exit_5_and_never_shown(run_cli, base_images, auth_registry, buildah):
    address, username, _ = auth_registry
    result = run_cli("build", str(EXAMPLES / "python-http"), "-t", f"{address}/daemonless-auth:t1", "--push",
                     "--builder-backend=buildah", f"--registry-username={username}", "--registry-password-stdin",
                     input="definitely-wrong\n", env={"UNKEY_BASE_IMAGES": json.dumps(base_images)}, timeout=900)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "definitely-wrong" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_right_password_pushes(run_cli, base_images, auth_registry, buildah):
    address, username, password = auth_registry
    result = run_cli("build", str(EXAMPLES / "python-http"), "-t", f"{address}/daemonless-auth:t2", "--push",
                     "--builder-backend=buildah",
                     env={"UNKEY_BASE_IMAGES": json.dumps(base_images), "UNKEY_REGISTRY_USERNAME": username,
                          "UNKEY_REGISTRY_PASSWORD": password}, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert password not in result.stdout + result.stderr
    assert "@sha256:" in result.stdout


def test_failing_step_is_exit_4_with_the_step(run_cli, base_images, buildah, tmp_path):
    app = tmp_path / "broken"
    app.mkdir()
    (app / "Dockerfile").write_text(f"FROM {base_images['debian']}\nRUN echo about-to-fail && exit 3\n")
    before = subprocess.run([buildah, "containers", "--format", "{{.ContainerName}}"], capture_output=True,
                            text=True).stdout  # fmt: skip
    result = run_cli("build", str(app), "-t", "localhost/unkey-test/broken:t1", "--builder-backend=buildah")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "RUN echo about-to-fail && exit 3" in result.stderr
    assert "Traceback" not in result.stderr
    left = subprocess.run([buildah, "containers", "--format", "{{.ContainerName}}"], capture_output=True, text=True)
    assert before == left.stdout, "the failed build left a working container behind"


def test_local_without_a_registry_copies_the_image_into_the_engine(run_cli, docker_server, base_images, buildah):
    env = {"UNKEY_BASE_IMAGES": json.dumps(base_images), "UNKEY_LOCAL_URL": docker_server.url}
    result = run_cli("deploy", str(EXAMPLES / "python-http"), "--project=daemonless", "--app=local-buildah",
                     "--local", "--builder-backend=buildah", f"--root-key={docker_server.root_key}", "--output=json",
                     env=env, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert "@sha256:" not in data["image"]  # nothing pushed: the engine got it from buildah
    assert "into the Docker engine" in result.stderr
    assert _answers(data["urls"][0]).strip()
