"""unkey.yaml is read once per run: every stage of `unkey plan` and `unkey deploy` gets the same parsed file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write

# Runs the CLI in a child process that counts every `open` of a file named unkey.yaml (an audit hook sees
# each open, whoever makes it) and writes the count to the file named by UNKEY_TEST_OPENS when it exits.
COUNTING = """
import atexit, os, sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        if os.path.basename(os.fsdecode(args[0])) == "unkey.yaml":
            opened.append(os.fsdecode(args[0]))
sys.addaudithook(hook)
atexit.register(lambda: open(os.environ["UNKEY_TEST_OPENS"], "w").write(str(len(opened))))
from unkey_deploy.cli.main import run
run(sys.argv[1:])
"""

UNKEY_YAML = """\
project: acme
app: api
image: 127.0.0.1:5999/acme/api
variables:
  GREETING: hello
check: [/healthz]
build:
  backend: docker
  baseImages:
    python: mirror.local/python
environments:
  preview:
    port: 3000
    healthcheck: GET /healthz
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    write(root, {"requirements.txt": "flask\n", "app.py": "import flask\napp = flask.Flask(__name__)\n",
                 "unkey.yaml": UNKEY_YAML})
    return root


def _opens(cli_env: dict[str, str], tmp_path: Path, cwd: Path,
           *args: str) -> tuple[int, subprocess.CompletedProcess[str]]:  # fmt: skip
    counter = tmp_path / "opens"
    counter.unlink(missing_ok=True)
    env = {**cli_env, "UNKEY_TEST_OPENS": str(counter)}
    result = subprocess.run([sys.executable, "-c", COUNTING, *args], env=env, cwd=cwd, capture_output=True,
                            text=True, timeout=120)
    return int(counter.read_text()), result


def test_unkey_plan_reads_unkey_yaml_once(cli_env, tmp_path, app):
    opens, result = _opens(cli_env, tmp_path, app, "plan")
    assert result.returncode == 0, result.stderr
    assert "mirror.local/python" in result.stdout  # the file was used: its base image remap
    assert opens == 1


def test_deploy_build_dry_run_reads_unkey_yaml_once(cli_env, tmp_path, app):
    opens, result = _opens(cli_env, tmp_path, app, "deploy", "--build", "--dry-run",
                           "--docker-bin", str(tmp_path / "no-docker"))
    # project and app, build variables, image repository, backend, base images, checks and the environment's
    # settings all come from the one read (the build itself then fails: there is no engine)
    assert '"project": "acme"' in result.stdout, result.stderr
    assert "GREETING" in result.stdout
    assert "127.0.0.1:5999/acme/api:" in result.stdout
    assert "mirror.local/python" in result.stdout
    assert "Settings of" in result.stdout and "Port: 3000" in result.stdout
    assert opens == 1


def test_deploy_image_dry_run_reads_unkey_yaml_once(cli_env, tmp_path, app):
    opens, result = _opens(cli_env, tmp_path, app, "deploy", "ghcr.io/acme/api:v1", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert '"project": "acme"' in result.stdout and '"app": "api"' in result.stdout
    assert "Port: 3000" in result.stdout
    assert opens == 1


def test_the_counter_sees_every_read(cli_env, tmp_path, app):
    """The hook counts reads made by anyone: two commands in one process would count two."""
    counter = tmp_path / "opens"
    script = COUNTING.replace("run(sys.argv[1:])", "open('unkey.yaml').read(); open('unkey.yaml').read()")
    subprocess.run([sys.executable, "-c", script], env={**cli_env, "UNKEY_TEST_OPENS": str(counter)}, cwd=app,
                   check=True, timeout=60)
    assert counter.read_text() == "2"


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root, {"unkey.yaml": UNKEY_YAML, "apps/api/requirements.txt": "flask\n",
                 "apps/api/app.py": "import flask\napp = flask.Flask(__name__)\n"})
    return root


def test_a_build_falls_back_to_the_repository_roots_unkey_yaml(cli_env, tmp_path, monorepo):
    """The build reads the app's unkey.yaml, else the repository root's; project/app, checks and environment
    settings come from the app's own directory only."""
    opens, result = _opens(cli_env, tmp_path, monorepo, "deploy", "--build", "--dry-run", "--root-dir", "apps/api",
                           "--project", "shop", "--docker-bin", str(tmp_path / "no-docker"))
    assert "mirror.local/python" in result.stdout, result.stderr  # the root's base image remap
    assert "127.0.0.1:5999/acme/api:" in result.stdout  # the root's image repository
    assert '"project": "shop"' in result.stdout
    assert "Settings of" not in result.stdout  # the root's environments: are not the app's
    assert opens == 1

    opens, result = _opens(cli_env, tmp_path, monorepo, "deploy", "--build", "--dry-run", "--root-dir", "apps/api")
    assert result.returncode == 2
    assert "--project is required" in result.stderr
