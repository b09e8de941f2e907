"""The composite deploy action, run step by step as the GitHub runner would (tests/actions_harness.py),
against `unkey local serve` and a detached-HEAD checkout."""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.actions_harness import ActionHarness, ActionRun
from tests.conftest import REPO, unkey_bin

ACTION_DIR = REPO / ".github" / "actions" / "deploy"
ROOT_KEY = "unkey_rootSecret$(echo leaked)`id`"
TOKEN = "ghs_workflowToken0123456789abcdef"


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`unkey local serve` in simulate mode; images matching *fail* end FAILED."""
    data = tmp_path_factory.mktemp("local")
    process = subprocess.Popen(
        [*unkey_bin(), "local", "serve", "--port", "0", "--runtime", "simulate", "--allow-any-key",
         "--step-delay", "0.05", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        pytest.fail(f"unkey local serve did not start: {process.communicate()[1]}")
    yield url
    process.terminate()
    process.communicate(timeout=10)


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, str]:
    """A workspace checked out like actions/checkout does on a push: detached HEAD."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    _git(workspace, "init", "-q", "-b", "main")
    (workspace / "app.py").write_text("print('hello')\n")
    _git(workspace, "add", ".")
    _git(workspace, "commit", "-q", "-m", "Ship it")
    sha = _git(workspace, "rev-parse", "HEAD")
    _git(workspace, "checkout", "-q", "--detach", sha)
    return workspace, sha


def make_harness(tmp_path: Path, checkout: tuple[Path, str], cli_env: dict[str, str], venv: Path) -> ActionHarness:
    """The CLI is "restored from the cache": its venv already sits where the install step looks."""
    workspace, sha = checkout
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    (runner_temp / "unkey-deploy-venv").symlink_to(venv)
    env = {**cli_env, "GITHUB_SHA": sha, "GITHUB_REF_NAME": "main", "GITHUB_REF": "refs/heads/main",
           "GITHUB_REPOSITORY": "acme/api", "GITHUB_ACTOR": "octocat", "GITHUB_TOKEN": TOKEN}
    return ActionHarness(ACTION_DIR, workspace=workspace, runner_temp=runner_temp, env=env)


@pytest.fixture
def harness(tmp_path: Path, checkout: tuple[Path, str], cli_env: dict[str, str]) -> ActionHarness:
    return make_harness(tmp_path, checkout, cli_env, Path(sys.executable).parent.parent)


@pytest.fixture
def recording_harness(tmp_path: Path, checkout: tuple[Path, str], cli_env: dict[str, str]) -> ActionHarness:
    """The action with a stand-in `unkey` that records the arguments and environment it gets."""
    venv = tmp_path / "stub-venv"
    (venv / "bin").mkdir(parents=True)
    stub = venv / "bin" / "unkey"
    stub.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "if sys.argv[1:] == ['--version']:\n    sys.exit(print('unkey 0.0.0'))\n"
        f"json.dump({{'argv': sys.argv[1:], 'env': dict(os.environ)}}, open({str(tmp_path / 'call.json')!r}, 'w'))\n"
    )
    stub.chmod(0o755)
    return make_harness(tmp_path, checkout, cli_env, venv)


def recorded(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "call.json").read_text())


def deploy_inputs(server: str, image: str = "ghcr.io/acme/api:v1") -> dict[str, str]:
    return {"image": image, "project": "acme", "app": "api", "environment": "production",
            "root-key": ROOT_KEY, "api-base-url": server, "timeout": "60"}


def assert_secrets_masked_first(run: ActionRun, *secrets: str) -> None:
    first = run.steps[0]
    assert first.name == "Mask secrets" and first.exit_code == 0, first.stderr
    for secret in secrets:
        assert f"::add-mask::{secret.replace('%', '%25')}" in first.stdout.splitlines()
        assert secret in run.masks
        # masking is the safety net: no step prints a secret in the first place
        assert all(secret not in step.stdout + step.stderr for step in run.steps[1:])


def test_deploys_and_publishes_outputs_and_summary(harness, server, checkout):
    _, sha = checkout
    run = harness.run(deploy_inputs(server))

    deploy = run.step("deploy")
    assert run.succeeded, deploy.stdout + deploy.stderr
    assert_secrets_masked_first(run, ROOT_KEY)
    assert run.outputs["deployment-id"].startswith("d_")
    assert run.outputs["status"] == "READY"
    hostnames = json.loads(run.outputs["hostnames"])
    assert run.outputs["url"] == f"http://{hostnames[0]}"
    assert hostnames[0].startswith("acme-api-production-")
    assert run.outputs["image"] == "ghcr.io/acme/api:v1"

    shown = html.unescape(run.summary)  # text in cells is entity-escaped so no Markdown syntax survives
    assert "### ✅ Deployed acme/api to production" in shown
    assert f"<code>{run.outputs['deployment-id']}</code>" in shown
    assert "| Branch | <code>main</code> |" in shown  # detached HEAD: from GITHUB_REF_NAME
    assert f"[{sha[:7]}](https://github.com/acme/api/commit/{sha})" in run.summary
    assert "| Duration |" in run.summary and f"]({run.outputs['url']})" in run.summary

    assert "Using the cached CLI" in run.step("Install the CLI").stdout
    assert not run.step("Set up Python").would_run  # the runner's python3 is recent enough
    assert run.step("Cache the CLI").uses == "actions/cache@v4"
    assert "\r" not in deploy.stdout and "\x1b[" not in deploy.stdout  # append-only lines, no spinner
    assert not run.annotations


def test_failed_deployment_fails_the_step_with_the_reason(harness, server):
    run = harness.run(deploy_inputs(server, image="ghcr.io/acme/api:fail"))

    assert not run.succeeded
    assert run.step("deploy").exit_code == 1
    assert run.outputs["status"] == "FAILED"
    assert run.outputs["deployment-id"].startswith("d_")
    assert run.outputs["hostnames"] == "[]"
    [annotation] = run.annotations
    assert annotation.level == "error" and "simulated failure" in annotation.message
    assert annotation.properties["title"] == "unkey deploy failed (deploy)"
    shown = html.unescape(run.summary)
    assert "### ❌ Deployment failed: acme/api to production" in shown
    assert "| Failed step | Deploying image (simulated) |" in shown
    assert "simulated failure" in shown.split("| Error |", 1)[1]
    assert_secrets_masked_first(run, ROOT_KEY)


def test_unreachable_api_fails_with_an_annotation_and_a_summary(harness):
    run = harness.run({**deploy_inputs("http://127.0.0.1:9"), "timeout": "1"})

    assert run.step("deploy").exit_code == 1
    [annotation] = run.annotations
    assert "cannot reach http://127.0.0.1:9" in annotation.message
    assert "| Failed step | API request |" in html.unescape(run.summary)
    assert run.outputs["deployment-id"] == ""


def test_variable_values_are_masked_and_never_run_as_code(recording_harness, tmp_path):
    marker = tmp_path / "pwned"
    values = {
        "SUBSHELL": f"$(touch {marker})",
        "BACKTICKS": f"`touch {marker}-backtick`",
        "QUOTES": f"\"; touch {marker}-quote; echo \"",
        "PERCENT": "50%0A-of-it",
    }
    variables = "\n".join(f"{k}={v}" for k, v in values.items()) + "\n\n# a comment\r\n"
    run = recording_harness.run({
        "image": "ghcr.io/acme/api:v2", "project": "acme", "root-key": f"unkey_$(touch {marker}-key)",
        "build": "true", "variables": variables,
    })

    assert run.succeeded, run.raw_output
    assert not list(tmp_path.glob("pwned*"))
    call = recorded(tmp_path)
    var_args = [call["argv"][i + 1] for i, arg in enumerate(call["argv"]) if arg == "--var"]
    assert var_args == [f"{k}={v}" for k, v in values.items()]  # byte for byte, in order
    assert_secrets_masked_first(run, f"unkey_$(touch {marker}-key)", *values.values())
    assert "::add-mask::50%250A-of-it" in run.steps[0].stdout  # escaped, so the runner masks the literal
    assert call["env"]["UNKEY_ROOT_KEY"] == f"unkey_$(touch {marker}-key)"
    assert all(ROOT_KEY not in arg and "unkey_$(" not in arg for arg in call["argv"])
    # ghcr.io gets the workflow's token unless a registry password is given
    assert call["env"]["UNKEY_REGISTRY_PASSWORD"] == TOKEN
    assert call["env"]["UNKEY_REGISTRY_USERNAME"] == "octocat"
    assert "DEPLOY_VARIABLES" not in call["env"]


def test_inputs_become_flags(recording_harness, tmp_path):
    run = recording_harness.run({
        "image": "registry.example.com/acme/api:v3", "project": "acme", "app": "web", "environment": "staging",
        "root-key": "unkey_k", "build": "true", "context": "services/web", "root-dir": "app",
        "dockerfile": "Dockerfile.prod", "env-file": ".env.build", "registry": "registry.example.com/acme/api",
        "registry-username": "bot", "registry-password": "s3cret", "api-base-url": "http://127.0.0.1:7070",
        "timeout": "120", "dry-run": "true", "working-directory": ".",
    })

    assert run.succeeded, run.raw_output
    call = recorded(tmp_path)
    assert call["argv"] == [
        "deploy", "registry.example.com/acme/api:v3", "--project", "acme", "--app", "web", "--env", "staging",
        "--timeout", "120", "--api-base-url", "http://127.0.0.1:7070", "--build", "--context", "services/web",
        "--root-dir", "app", "--dockerfile", "Dockerfile.prod", "--env-file", ".env.build",
        "--registry", "registry.example.com/acme/api", "--dry-run",
    ]
    assert call["env"]["UNKEY_REGISTRY_PASSWORD"] == "s3cret"
    assert call["env"]["UNKEY_REGISTRY_USERNAME"] == "bot"
    assert "s3cret" in run.masks


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"variables": "KEY=value"}, "the variables input only applies with build: true"),
        ({"build": "yes"}, "build must be true or false, not 'yes'"),
        ({"build": "true", "variables": "KEY=value\nnot a pair"}, "variables, line 2: write KEY=VALUE"),
        ({"root-key": ""}, "the root-key input is empty"),
        ({"dry-run": "true"}, "dry-run only applies with build: true"),
    ],
)
def test_bad_inputs_fail_with_one_clear_annotation(recording_harness, tmp_path, inputs, message):
    run = recording_harness.run({"image": "ghcr.io/acme/api:v1", "project": "acme", "root-key": "unkey_k", **inputs})

    assert run.step("deploy").exit_code == 2
    [annotation] = run.annotations
    assert message in annotation.message
    assert "value" not in annotation.message
    assert not (tmp_path / "call.json").exists()


def test_working_directory_applies_to_the_deploy(recording_harness, checkout, tmp_path):
    workspace, _ = checkout
    (workspace / "services" / "api").mkdir(parents=True)
    run = recording_harness.run({"image": "ghcr.io/acme/api:v1", "project": "acme", "root-key": "unkey_k",
                                 "working-directory": "services/api"})
    assert run.succeeded, run.raw_output
    assert recorded(tmp_path)["env"]["PWD"] == str(workspace / "services" / "api")


def test_first_run_installs_the_cli_from_the_action_checkout(tmp_path, checkout, cli_env, server):
    """No cache: the install step builds a venv from the action's own checkout (packages from PyPI)."""
    checkout_dir = tmp_path / "_actions" / "acme" / "unkey-deploy" / "v1"
    for name in ("pyproject.toml", "README.md", "unkey_deploy", "buildpacks", ".github/actions/deploy"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, checkout_dir / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            (checkout_dir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, checkout_dir / name)
    workspace, sha = checkout
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {**cli_env, "GITHUB_SHA": sha, "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/api"}
    harness = ActionHarness(checkout_dir / ".github/actions/deploy", workspace=workspace, runner_temp=runner_temp,
                            env=env)

    run = harness.run(deploy_inputs(server), timeout=600)

    install = run.step("Install the CLI")
    assert install.exit_code == 0, install.stderr
    assert "Using the cached CLI" not in install.stdout
    assert install.added_path == [str(runner_temp / "unkey-deploy-venv" / "bin")]
    key = run.step("venv").outputs["key"]
    assert re.fullmatch(r"unkey-deploy-Linux-X64-py3\.\d+\.\d+-[0-9a-f]{16}", key)
    assert run.succeeded, run.step("deploy").stderr
    assert run.outputs["status"] == "READY"


@functools.cache
def deploy_help() -> str:
    return subprocess.run([*unkey_bin(), "deploy", "--help"], capture_output=True, text=True).stdout


def deploy_supports(flag: str) -> bool:
    return flag in deploy_help()


@pytest.mark.docker
@pytest.mark.skipif(not deploy_supports("--build"), reason="`unkey deploy --build` is not in this CLI yet")
def test_builds_pushes_and_deploys_with_masked_variables(harness, server, checkout, tmp_path, services):
    registry = services.get("UNKEY_TEST_AUTH_REGISTRY")
    if not registry or not docker_answers() or not services.get("UNKEY_BASE_IMAGES"):
        pytest.skip("needs a Docker engine, the authenticating test registry and stand-in base images: "
                    "run .ci/services.sh")
    workspace, _ = checkout
    shutil.copytree(REPO / "examples" / "python-http", workspace / "app")
    harness.env["UNKEY_BASE_IMAGES"] = services["UNKEY_BASE_IMAGES"]
    password = services["UNKEY_TEST_AUTH_PASSWORD"]
    marker = tmp_path / "pwned"
    run = harness.run({
        **deploy_inputs(server, image=f"{registry}/acme/api:ci"), "build": "true", "context": "app",
        "registry-username": services["UNKEY_TEST_AUTH_USERNAME"], "registry-password": password,
        "variables": f"API_TOKEN=tok_$(touch {marker})`id`",
    })

    assert run.succeeded, run.step("deploy").stdout + run.step("deploy").stderr
    assert re.fullmatch(rf"{re.escape(registry)}/acme/api(:ci)?@sha256:[0-9a-f]{{64}}", run.outputs["image"])
    assert run.outputs["status"] == "READY"
    assert not marker.exists()
    assert_secrets_masked_first(run, ROOT_KEY, password, f"tok_$(touch {marker})`id`")


def docker_answers() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "info"], capture_output=True).returncode == 0


@pytest.mark.docker
@pytest.mark.skipif(not deploy_supports("--build"), reason="`unkey deploy --build` is not in this CLI yet")
def test_dry_run_builds_but_creates_no_deployment(harness, server, checkout, services):
    if not docker_answers() or not services.get("UNKEY_BASE_IMAGES"):
        pytest.skip("needs a Docker engine and stand-in base images: run .ci/services.sh (sets UNKEY_BASE_IMAGES)")
    workspace, _ = checkout
    shutil.copytree(REPO / "examples" / "python-http", workspace / "app")
    harness.env["UNKEY_BASE_IMAGES"] = services["UNKEY_BASE_IMAGES"]
    run = harness.run({**deploy_inputs(server), "build": "true", "context": "app", "dry-run": "true"})
    assert run.succeeded, run.step("deploy").stdout + run.step("deploy").stderr
    assert "nothing was pushed or deployed" in run.step("deploy").stdout
    assert run.outputs["deployment-id"] == ""
