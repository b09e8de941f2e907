"""Git detection (clean, dirty, detached HEAD with CI variables), non-TTY output and Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import unkey_bin
from tests.fakeapi import envelope, serve

IMAGE = "ghcr.io/acme/api:v1.0.0"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "feature/login")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev Person")
    (path / "app.py").write_text("print('hi')\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "Add login page\n\nLonger body")
    return path


@pytest.fixture
def api():
    with serve() as fake:
        fake.on("deploy.createDeployment", then=(201, envelope({"deploymentId": "d_1"}), {}))
        fake.on("deploy.getDeployment", then=(200, envelope({"id": "d_1", "status": "READY", "hostnames": []}), {}))
        yield fake


def deploy_in(run_cli, api, cwd: Path, *extra: str, env: dict | None = None):
    return run_cli("deploy", IMAGE, "--project=acme", f"--api-url={api.url}", "--root-key=k_1", *extra,
                   cwd=cwd, env=env)


def test_clean_work_tree_fills_branch_and_commit(run_cli, api, repo):
    result = deploy_in(run_cli, api, repo)
    assert result.returncode == 0, result.stderr
    body = api.calls("deploy.createDeployment")[0].body
    sha = git(repo, "rev-parse", "HEAD")
    assert body["branch"] == "feature/login"
    commit = body["gitCommit"]
    assert commit["commitSha"] == sha
    assert commit["commitMessage"] == "Add login page"
    assert commit["authorHandle"] == "Dev Person"
    assert isinstance(commit["timestamp"], int) and commit["timestamp"] > 1_600_000_000_000
    assert f"Commit: {sha[:7]}\n" in result.stdout
    assert "(dirty)" not in result.stdout


def test_dirty_tree_is_marked(run_cli, api, repo):
    (repo / "app.py").write_text("print('changed')\n")
    result = deploy_in(run_cli, api, repo)
    assert result.returncode == 0, result.stderr
    assert "(dirty)" in result.stdout


def test_detached_head_takes_ci_variables(run_cli, api, repo):
    git(repo, "checkout", "-q", "--detach")
    sha = git(repo, "rev-parse", "HEAD")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REF_NAME": "42/merge", "GITHUB_HEAD_REF": "feature/pr-branch",
           "GITHUB_SHA": sha, "GITHUB_ACTOR": "octocat"}
    result = deploy_in(run_cli, api, repo, env=env)
    assert result.returncode == 0, result.stderr
    body = api.calls("deploy.createDeployment")[0].body
    assert body["branch"] == "feature/pr-branch"
    assert body["gitCommit"]["commitSha"] == sha
    assert body["gitCommit"]["authorHandle"] == "octocat"


def test_detached_head_gitlab(run_cli, api, repo):
    git(repo, "checkout", "-q", "--detach")
    env = {"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "release", "CI_COMMIT_SHA": git(repo, "rev-parse", "HEAD")}
    result = deploy_in(run_cli, api, repo, env=env)
    assert result.returncode == 0, result.stderr
    assert api.calls("deploy.createDeployment")[0].body["branch"] == "release"


def test_explicit_flags_win_even_when_main(run_cli, api, repo):
    result = deploy_in(run_cli, api, repo, "--branch=main", "--commit=abc1234", env={"GITHUB_HEAD_REF": "other"})
    assert result.returncode == 0, result.stderr
    body = api.calls("deploy.createDeployment")[0].body
    assert body["branch"] == "main"
    assert body["gitCommit"]["commitSha"] == "abc1234"


def test_non_tty_output_is_plain(run_cli, api, tmp_path):
    result = deploy_in(run_cli, api, tmp_path)
    assert result.returncode == 0
    assert "\x1b" not in result.stdout and "\r" not in result.stdout
    assert "Ready" in result.stdout


def test_ctrl_c_prints_the_deployment_id_and_exits_130(cli_env, tmp_path):
    with serve() as api:
        api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_running"}), {}))
        api.on("deploy.getDeployment", then=(200, envelope({"id": "d_running", "status": "DEPLOYING"}), {}))
        proc = subprocess.Popen(
            [*unkey_bin(), "deploy", IMAGE, "--project=acme", f"--api-url={api.url}", "--root-key=k_1"],
            env=cli_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 20
        while not api.calls("deploy.getDeployment") and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "d_running" in err
    assert "Traceback" not in err
