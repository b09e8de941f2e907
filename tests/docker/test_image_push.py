"""`unkey build --push` against real registries: digest read back, htpasswd auth, interrupts."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import unkey_bin

pytestmark = pytest.mark.docker

MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"


def app_dir(tmp_path: Path, base: str, *, extra: str = "") -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text(f"FROM {base}\nRUN echo {uuid.uuid4().hex} > /nonce\n{extra}")
    return app


def registry_digest(address: str, repository: str, tag: str, auth: tuple[str, str] | None = None) -> str | None:
    request = urllib.request.Request(f"http://{address}/v2/{repository}/manifests/{tag}", method="HEAD",
                                     headers={"Accept": MANIFEST_TYPES})  # fmt: skip
    if auth:
        import base64

        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError:
        return None


def test_push_reads_back_the_registry_digest(
    run_cli, tmp_path: Path, registry: str, base_images: dict[str, str]
) -> None:
    repository, tag = f"unkey-test/push-{uuid.uuid4().hex[:8]}", "v1"
    ref = f"{registry}/{repository}:{tag}"
    result = run_cli("build", str(app_dir(tmp_path, base_images["debian"])), "-t", ref, "--push", "-o", "json",
                     timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    digest = registry_digest(registry, repository, tag)
    assert digest and body["pushed"]["digest"] == digest
    assert body["pushed"]["refWithDigest"] == f"{ref}@{digest}"
    assert "Unkey pulls only public images today" in result.stderr
    assert result.stderr.count("Unkey pulls only public images") == 1


def test_wrong_password_is_a_clear_push_error(
    run_cli, tmp_path: Path, auth_registry: tuple[str, str, str], base_images: dict[str, str]
) -> None:
    address, username, password = auth_registry
    repository = f"unkey-test/auth-{uuid.uuid4().hex[:8]}"
    wrong = "not-the-password-" + uuid.uuid4().hex
    result = run_cli("build", str(app_dir(tmp_path, base_images["debian"])), "-t", f"{address}/{repository}:v1",
                     "--push", "--registry-username", username, "--registry-password-stdin", "--debug",
                     input=wrong + "\n", timeout=300)  # fmt: skip
    assert result.returncode == 5, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"{address} refused the push" in errors[0]
    assert "--registry-password-stdin" in errors[0]
    assert wrong not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert registry_digest(address, repository, "v1", (username, password)) is None


def test_right_password_from_the_environment_pushes(
    run_cli, tmp_path: Path, auth_registry: tuple[str, str, str], base_images: dict[str, str]
) -> None:
    address, username, password = auth_registry
    repository = f"unkey-test/auth-{uuid.uuid4().hex[:8]}"
    env = {"UNKEY_REGISTRY_USERNAME": username, "UNKEY_REGISTRY_PASSWORD": password}
    result = run_cli("build", str(app_dir(tmp_path, base_images["debian"])), "-t", f"{address}/{repository}:v1",
                     "--push", "--debug", env=env, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    digest = registry_digest(address, repository, "v1", (username, password))
    assert digest and result.stdout.strip() == f"{address}/{repository}:v1@{digest}"
    assert password not in result.stdout + result.stderr


def test_sigint_during_push_exits_130(
    tmp_path: Path, cli_env: dict[str, str], registry: str, base_images: dict[str, str]
) -> None:
    # A fresh repository and a large base image (the Go toolchain) keep the upload busy for a while.
    app = app_dir(tmp_path, base_images["golang"])
    repository = f"unkey-test/interrupted-push-{uuid.uuid4().hex[:8]}"
    private_tmp = tmp_path / "tmpdir"
    private_tmp.mkdir()
    env = {**cli_env, "TMPDIR": str(private_tmp)}
    process = subprocess.Popen([*unkey_bin(), "build", str(app), "-t", f"{registry}/{repository}:v1", "--push",
                                "--var", "TOKEN=push-secret-Zr4Kq9Wm"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "layer" in line:
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, "".join(seen) + err
    assert "interrupted during the push" in err
    assert registry_digest(registry, repository, "v1") is None
    assert "push-secret-Zr4Kq9Wm" not in "".join(seen) + err + out
    assert not [p for p in private_tmp.rglob("*") if "unkey" in p.name]
