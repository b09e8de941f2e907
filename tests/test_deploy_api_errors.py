"""`unkey deploy` against a scripted API: request body and headers, error envelopes, retries, fallback."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import FakeAPI, envelope, error, serve

IMAGE = "ghcr.io/acme/api:v1.0.0"


def ready(deployment_id: str = "d_abc123") -> tuple[int, dict, dict]:
    return 200, envelope({"id": deployment_id, "status": "READY", "hostnames": ["acme-api.unkey.app"]}), {}


@pytest.fixture
def api():
    with serve() as fake:
        yield fake


def deploy(run_cli, api: FakeAPI, *extra: str, env: dict | None = None):
    return run_cli("deploy", IMAGE, "--project=acme", "--app=api", "--env=production",
                   f"--api-base-url={api.url}", "--root-key=unkey_secretroot123", *extra, env=env)


def test_request_body_headers_and_summary(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_abc123"}), {}))
    api.on("deploy.getDeployment", (200, envelope({"id": "d_abc123", "status": "PENDING"}), {}), ready())
    result = deploy(run_cli, api, "--branch=feature/x", "--commit=0123456789abcdef", "--keyspace-id=ks_1")
    assert result.returncode == 0, result.stderr
    create = api.calls("deploy.createDeployment")[0]
    assert create.body == {
        "project": "acme", "app": "api", "branch": "feature/x", "environmentSlug": "production",
        "dockerImage": IMAGE, "keyspaceId": "ks_1", "gitCommit": {"commitSha": "0123456789abcdef"},
    }
    assert create.headers["authorization"] == "Bearer unkey_secretroot123"
    assert create.headers["x-unkey-client"].startswith("unkey-cli/")
    assert create.headers["user-agent"].startswith("unkey-deploy-python/")
    assert "Deployment ID: d_abc123" in result.stdout
    assert "Environment: Production" in result.stdout
    assert "https://acme-api.unkey.app" in result.stdout
    assert "unkey_secretroot123" not in result.stdout + result.stderr


def test_outside_git_defaults_to_main_without_commit(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_1"}), {}))
    api.on("deploy.getDeployment", ready("d_1"))
    result = deploy(run_cli, api)
    assert result.returncode == 0, result.stderr
    body = api.calls("deploy.createDeployment")[0].body
    assert body["branch"] == "main" and "gitCommit" not in body


def test_json_output_is_one_object_on_stdout(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_1"}), {}))
    api.on("deploy.getDeployment", ready("d_1"))
    result = deploy(run_cli, api, "--output=json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["deploymentId"] == "d_1" and data["status"] == "READY"
    assert data["urls"] == ["https://acme-api.unkey.app"]
    assert {"project", "app", "environment", "branch", "commit", "image", "hostnames", "durationMs"} <= set(data)


def test_failed_deployment_exits_1_with_reason(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_1"}), {}))
    api.on("deploy.getDeployment", (200, envelope({
        "id": "d_1", "status": "FAILED", "errorMessage": "Failed to pull image: authentication required",
    }), {}))
    result = deploy(run_cli, api)
    assert result.returncode == 1
    assert "Failed to pull image: authentication required" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("status", ["CANCELLED", "SUPERSEDED", "SKIPPED", "STOPPED"])
def test_other_terminal_statuses_exit_1(run_cli, api, status):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_1"}), {}))
    api.on("deploy.getDeployment", (200, envelope({"id": "d_1", "status": status}), {}))
    result = deploy(run_cli, api)
    assert result.returncode == 1
    assert status.lower() in result.stderr


def test_400_lists_each_validation_error(run_cli, api):
    api.on("deploy.createDeployment", (400, error(400, "Invalid request", errors=[
        {"location": "body.project", "message": "must not be empty", "fix": "pass --project"},
        {"location": "body.dockerImage", "message": "invalid reference"},
    ]), {}))
    result = deploy(run_cli, api)
    assert result.returncode == 1
    assert "body.project: must not be empty (fix: pass --project)" in result.stderr
    assert "body.dockerImage: invalid reference" in result.stderr
    assert "req_err400" in result.stderr
    assert "https://unkey.com/docs/errors/" in result.stderr


def test_401_explains_how_to_provide_a_key(run_cli, api):
    api.on("deploy.createDeployment", (401, error(401, "key not found", kind="unkey/authentication/key_not_found"), {}))
    result = deploy(run_cli, api)
    assert result.returncode == 3
    assert "--root-key" in result.stderr and "unkey auth login" in result.stderr
    assert "unkey_secretroot123" not in result.stderr


def test_403_says_permission_missing(run_cli, api):
    api.on("deploy.createDeployment", (403, error(403, "missing permission project.*.create_deployment",
                                                  kind="unkey/authorization/insufficient_permissions"), {}))
    result = deploy(run_cli, api)
    assert result.returncode == 3
    assert "project.*.create_deployment" in result.stderr


def test_404_for_missing_project_does_not_fall_back(run_cli, api):
    api.on("deploy.createDeployment", (404, error(404, "project acme not found",
                                                  kind="unkey/data/project_not_found"), {}))
    result = deploy(run_cli, api)
    assert result.returncode == 1
    assert "project acme not found" in result.stderr
    assert api.calls("deployments.createDeployment") == []


def test_create_is_not_retried_after_a_server_error(run_cli, api):
    api.on("deploy.createDeployment", (500, error(500, "boom", kind="unkey/application/unexpected_error"), {}))
    result = deploy(run_cli, api)
    assert result.returncode == 1
    assert len(api.calls("deploy.createDeployment")) == 1


def test_429_on_create_is_retried_honouring_retry_after(run_cli, api):
    limited = error(429, "slow down", kind="user/too_many_requests/workspace_rate_limited")
    created = (201, envelope({"deploymentId": "d_1"}), {})
    api.on("deploy.createDeployment", (429, limited, {"Retry-After": "0"}), created)
    api.on("deploy.getDeployment", ready("d_1"))
    result = deploy(run_cli, api)
    assert result.returncode == 0, result.stderr
    assert len(api.calls("deploy.createDeployment")) == 2


def test_transient_poll_failures_are_warnings(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_1"}), {}))
    api.on("deploy.getDeployment",
           (503, error(503, "unavailable", kind="unkey/application/service_unavailable"), {"Retry-After": "0"}),
           (502, {"oops": True}, {}),
           ready("d_1"))
    result = deploy(run_cli, api)
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stdout + result.stderr


def test_timeout_exits_6_and_says_how_to_check(run_cli, api):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_slow"}), {}))
    api.on("deploy.getDeployment", then=(200, envelope({"id": "d_slow", "status": "DEPLOYING"}), {}))
    result = deploy(run_cli, api, "--timeout=1")
    assert result.returncode == 6
    assert "d_slow" in result.stderr and "1s" in result.stderr


@pytest.mark.parametrize("gone", [
    (410, error(410, "gone", title="Gone")),
    (404, error(404, "no such route", kind="user/bad_request/route_not_found")),
])
def test_falls_back_to_public_api_when_deploy_routes_are_gone(run_cli, api, gone):
    api.on("deploy.createDeployment", (gone[0], gone[1], {}))
    api.on("deployments.createDeployment", (201, envelope({"deploymentId": "d_new"}), {}))
    api.on("deployments.getDeployment", (200, envelope({
        "id": "d_new", "status": "ready", "isCurrent": True, "environment": "production", "app": "api",
        "project": "acme", "availableActions": [], "regions": [], "runtime": {}, "createdAt": 1,
        "domains": ["api.acme.com"],
    }), {}))
    result = deploy(run_cli, api, "--output=json")
    assert result.returncode == 0, result.stderr
    assert api.calls("deployments.createDeployment")[0].body == {
        "project": "acme", "app": "api", "environment": "production", "image": {"dockerImage": IMAGE},
    }
    assert json.loads(result.stdout)["urls"] == ["https://api.acme.com"]
    assert result.stderr.count("deploy.createDeployment is gone") == 1


@pytest.mark.parametrize("args,message", [
    ((), "docker image is required"),
    ((IMAGE,), "--project is required"),
    ((IMAGE, "--project=acme"), "--root-key is required"),
    (("Not A Valid/Image:", "--project=acme", "--root-key=k"), "invalid image reference"),
])
def test_usage_errors_are_one_line_exit_2(run_cli, args, message):
    result = run_cli("deploy", *args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_dry_run_of_an_image_sends_nothing(run_cli, api):
    result = run_cli("deploy", IMAGE, "--project=acme", "--dry-run", f"--api-url={api.url}")
    assert result.returncode == 0, result.stderr
    assert '"dockerImage": "ghcr.io/acme/api:v1.0.0"' in result.stdout
    assert api.requests == []


def test_build_without_a_repository_says_where_to_push(run_cli, api, tmp_path):
    from tests.conftest import REPO

    result = run_cli("deploy", "--build", f"--context={REPO / 'examples' / 'python-http'}", "--project=acme",
                     f"--api-url={api.url}", "--root-key=k_1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no image repository to push to" in result.stderr and "--registry" in result.stderr
    assert api.requests == []


def test_build_takes_the_repository_from_unkey_yaml(run_cli, api, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "index.html").write_text("<h1>hi</h1>\n")
    (app / "unkey.yaml").write_text("image: ghcr.io/acme/site\n")
    result = run_cli("deploy", "--build", f"--context={app}", "--project=acme", "--dry-run",
                     env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"})
    assert result.returncode == 4, result.stdout + result.stderr  # no engine: printed, then the build could not run
    assert '"dockerImage": "ghcr.io/acme/site:latest"' in result.stdout
