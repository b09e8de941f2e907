"""Generated runtime images for real: the app runs as a non-root user that owns its working directory and can
write /tmp (and its home, for a user the Dockerfile creates). Whether each example answers its requests is
tests/docker/test_real_apps.py's part (the examples' `.unkey-e2e.yaml`)."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.docker

# Run as the image's user with its working directory: prints the uid, then fails unless each place is writable.
PROBE = 'id -u && [ -O "$PWD" ] && touch "$PWD/.probe" /tmp/.probe && mkdir -p "$PWD/logs"'


@pytest.mark.parametrize(("example", "home"), [("python-workdir", True), ("static-spa", False),
                                               ("deno-http", False)])
def test_runtime_user_owns_its_workdir(run_cli, docker_engine, base_images, example, home):
    if example == "static-spa" and not any(key.split(":")[0] == "nginx" for key in base_images):
        pytest.skip("no nginx stand-in in UNKEY_BASE_IMAGES")
    tag = f"unkey-e2e-runtime/{example}:{uuid.uuid4().hex[:8]}"
    built = run_cli("build", str(REPO / "examples" / example), "-t", tag,
                    env={"UNKEY_BASE_IMAGES": json.dumps(base_images)}, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    try:
        probe = PROBE + (' && [ -O "$HOME" ] && touch "$HOME/.probe"' if home else "")
        result = subprocess.run([docker_engine, "run", "--rm", "--entrypoint", "sh", tag, "-c", probe],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.split()[0] != "0"
    finally:
        subprocess.run([docker_engine, "rmi", "-f", tag], capture_output=True)
