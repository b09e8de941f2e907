"""`unkey deploy` end to end against a real `unkey local serve` (simulate runtime) over HTTP."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

IMAGE = "ghcr.io/acme/api:v1.0.0"


def test_deploy_until_ready(run_cli, local_server):
    server = local_server("--step-delay", "0.05")
    result = run_cli("deploy", IMAGE, "--project=acme", "--app=api", "--env=production",
                     f"--api-url={server.url}", f"--root-key={server.root_key}")
    assert result.returncode == 0, result.stderr
    assert "Deployment Complete" in result.stdout
    assert "Status: Ready" in result.stdout
    assert "Environment: Production" in result.stdout
    assert server.root_key not in result.stdout + result.stderr


def test_failed_deployment_against_local(run_cli, local_server):
    server = local_server("--step-delay", "0.05")
    result = run_cli("deploy", "ghcr.io/acme/will-fail:v1", "--project=acme", f"--api-url={server.url}",
                     f"--root-key={server.root_key}", "--output=json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["status"] == "FAILED" and data["error"]


def test_wrong_root_key_is_exit_3(run_cli, local_server):
    server = local_server("--step-delay", "0.05")
    result = run_cli("deploy", IMAGE, "--project=acme", f"--api-url={server.url}", "--root-key=unkey_wrong")
    assert result.returncode == 3
    assert "root key" in result.stderr


def test_unknown_project_is_404(run_cli, local_server):
    server = local_server("--step-delay", "0.05", "--projects", "acme")
    result = run_cli("deploy", IMAGE, "--project=nope", f"--api-url={server.url}", f"--root-key={server.root_key}")
    assert result.returncode == 1
    assert "nope" in result.stderr


def test_public_api_family(run_cli, local_server):
    server = local_server("--step-delay", "0.05")
    result = run_cli("deploy", IMAGE, "--project=acme", "--app=api", "--env=preview", "--api=deployments",
                     f"--api-url={server.url}", f"--root-key={server.root_key}", "--output=json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "READY"


def test_local_flag_reuses_running_server(run_cli, local_server, tmp_path: Path):
    server = local_server("--step-delay", "0.05")
    env = {"UNKEY_LOCAL_URL": server.url, "UNKEY_LOCAL_DATA_DIR": str(server.data_dir)}
    result = run_cli("deploy", IMAGE, "--project=acme", "--local", "--output=json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "READY"
    # a key given explicitly is used even when the data dir has none
    result = run_cli("deploy", IMAGE, "--project=acme", "--local", "--output=json", f"--root-key={server.root_key}",
                     env={"UNKEY_LOCAL_URL": server.url, "UNKEY_LOCAL_DATA_DIR": str(server.data_dir / "empty")})
    assert result.returncode == 0, result.stderr


def test_local_flag_starts_a_server_when_none_listens(cli_env, tmp_path: Path):
    from tests.conftest import unkey_bin

    env = dict(cli_env)
    env["UNKEY_LOCAL_URL"] = f"http://127.0.0.1:{_free_port()}"
    env["UNKEY_LOCAL_DATA_DIR"] = str(tmp_path / "local-data")
    try:
        # the image cannot run under either runtime (simulate fails it by name, docker cannot pull it):
        # what matters here is that a control plane was started and answered the whole deployment
        result = subprocess.run([*unkey_bin(), "deploy", "ghcr.io/acme/fail:v1", "--project=acme", "--local",
                                 "--output=json", "--timeout=60"],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90)
        assert "Started the local control plane" in result.stderr
        assert result.returncode == 1, result.stderr
        assert json.loads(result.stdout)["status"] == "FAILED"
    finally:
        _stop_background_server(tmp_path / "local-data")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop_background_server(data_dir: Path) -> None:
    from tests.conftest import unkey_bin

    result = subprocess.run([*unkey_bin(), "local", "stop", "--data-dir", str(data_dir)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and "stopped the local control plane" in result.stdout, result.stdout + result.stderr


def test_quickstart_without_a_docker_engine_simulates(cli_env, tmp_path: Path):
    """The README's quickstart on a machine with no Docker engine: the build is skipped with a warning and
    the automatically started local control plane simulates the deployment."""
    from tests.conftest import REPO, unkey_bin

    env = dict(cli_env)
    env["UNKEY_LOCAL_URL"] = f"http://127.0.0.1:{_free_port()}"
    env["UNKEY_LOCAL_DATA_DIR"] = str(tmp_path / "local-data")
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    try:
        result = subprocess.run([*unkey_bin(), "deploy", str(REPO / "examples" / "python-http"), "--build",
                                 "--project=demo", "--local"],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    finally:
        _stop_background_server(tmp_path / "local-data")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "skipping the build" in result.stdout + result.stderr
    assert "Status: Ready" in result.stdout
