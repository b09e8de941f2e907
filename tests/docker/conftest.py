"""Fixtures for tests against a real Docker engine and registries started by .ci/services.sh.

Settings come from the environment or from $UNKEY_CI_DIR/services.env (default /tmp/unkey-ci); a test
whose component is missing skips and says how to start it.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

START_HINT = "run `bash .ci/services.sh` to start it"
DOCKER = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else "docker"


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The docker client to drive the engine with; skips when no engine answers."""
    try:
        result = subprocess.run([DOCKER, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                                timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no Docker engine: {exc}; {START_HINT}")
    if result.returncode != 0:
        pytest.skip(f"no Docker engine answers ({result.stderr.strip()[:200]}); {START_HINT}")
    return DOCKER


def _image_exists(docker: str, image: str) -> bool:
    return subprocess.run([docker, "image", "inspect", image], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def base_images(services: dict[str, str], docker_engine: str) -> dict[str, str]:
    """UNKEY_BASE_IMAGES (official name → local stand-in); skips when the stand-ins are missing."""
    raw = services.get("UNKEY_BASE_IMAGES")
    if not raw:
        pytest.skip(f"no stand-in base images (UNKEY_BASE_IMAGES unset); {START_HINT}")
    mapping: dict[str, str] = json.loads(raw)
    missing = sorted({v for v in mapping.values() if not _image_exists(docker_engine, v)})
    if missing:
        pytest.skip(f"stand-in base images missing: {', '.join(missing)}; {START_HINT}")
    return mapping


@pytest.fixture(scope="session")
def debian_image(base_images: dict[str, str]) -> str:
    return base_images["debian"]


def _registry_answers(address: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://{address}/v2/", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.fixture(scope="session")
def registry(services: dict[str, str], docker_engine: str) -> str:
    address = services.get("UNKEY_TEST_REGISTRY")
    if not address or _registry_answers(address) != 200:
        pytest.skip(f"no local registry at {address or '(UNKEY_TEST_REGISTRY unset)'}; {START_HINT}")
    return address


@pytest.fixture(scope="session")
def auth_registry(services: dict[str, str], docker_engine: str) -> tuple[str, str, str]:
    """(address, username, password) of the htpasswd-protected registry."""
    address = services.get("UNKEY_TEST_AUTH_REGISTRY")
    if not address or _registry_answers(address) != 401:
        pytest.skip(f"no htpasswd registry at {address or '(UNKEY_TEST_AUTH_REGISTRY unset)'}; {START_HINT}")
    return address, services["UNKEY_TEST_AUTH_USERNAME"], services["UNKEY_TEST_AUTH_PASSWORD"]


@pytest.fixture
def private_tmp(tmp_path: Path) -> Path:
    """TMPDIR for the CLI under test: whatever it leaves behind shows up here."""
    directory = tmp_path / "tmpdir"
    directory.mkdir()
    return directory
