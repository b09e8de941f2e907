"""Generated images run for real: the app user can write its working directory, HOME and /tmp, and a
single-page app answers its client-side routes. Each example's `.unkey-e2e.yaml` lists the requests."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.docker


def _build(run_cli, example: str, base_images: dict[str, str]) -> str:
    tag = f"unkey-e2e-runtime/{example}:{uuid.uuid4().hex[:8]}"
    result = run_cli("build", str(REPO / "examples" / example), "-t", tag,
                     env={"UNKEY_BASE_IMAGES": json.dumps(base_images)}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return tag


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _serve_and_check(docker: str, tag: str, example: str) -> None:
    spec = yaml.safe_load((REPO / "examples" / example / ".unkey-e2e.yaml").read_text())
    container = subprocess.run([docker, "run", "-d", "-p", "127.0.0.1::8080", tag], capture_output=True,
                               text=True, check=True).stdout.strip()
    try:
        port = subprocess.run([docker, "port", container, "8080"], capture_output=True, text=True,
                              check=True).stdout.split()[0].rsplit(":", 1)[1]
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    logs = subprocess.run([docker, "logs", container], capture_output=True, text=True)
                    pytest.fail(f"{example} never answered:\n{logs.stdout}{logs.stderr}")
                time.sleep(0.3)
        for request in spec["requests"]:
            status, body = _get(f"http://127.0.0.1:{port}{request['path']}")
            assert status == request.get("status", 200), (request, body[:300])
            assert request.get("contains", "") in body, (request, body[:300])
        user = subprocess.run([docker, "inspect", "-f", "{{.Config.User}}", tag], capture_output=True, text=True)
        assert user.stdout.strip() not in ("", "0", "root")
    finally:
        subprocess.run([docker, "rm", "-f", container], capture_output=True)
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True)


def test_app_writes_its_workdir_home_and_tmp_at_start(run_cli, docker_engine, base_images):
    tag = _build(run_cli, "python-workdir", base_images)
    _serve_and_check(docker_engine, tag, "python-workdir")


@pytest.mark.parametrize("example", ["static-site", "static-spa", "vite-spa"])
def test_static_server_answers_files_and_client_routes(run_cli, docker_engine, base_images, example):
    if not any(key.split(":")[0] == "nginx" for key in base_images):
        pytest.skip("no nginx stand-in in UNKEY_BASE_IMAGES (e.g. \"nginx\": an image with Debian's nginx-light)")
    tag = _build(run_cli, example, base_images)
    _serve_and_check(docker_engine, tag, example)


def test_the_example_specs_are_well_formed():
    for spec_file in sorted(Path(REPO / "examples").glob("*/.unkey-e2e.yaml")):
        spec = yaml.safe_load(spec_file.read_text())
        assert spec["requests"] and all(r["path"].startswith("/") for r in spec["requests"]), spec_file
