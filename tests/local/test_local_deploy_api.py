"""`deploy.*` on `unkey local serve` (runtime simulate) over real HTTP: shapes, auth, errors, restarts."""

from __future__ import annotations

import re
import signal
import time

import httpx

from tests.local.conftest import start_server

LEGACY_BODY = {
    "project": "acme",
    "app": "api",
    "branch": "main",
    "environmentSlug": "production",
    "dockerImage": "ghcr.io/acme/api:v1",
    "gitCommit": {"commitSha": "a1b2c3d", "commitMessage": "fix", "timestamp": 1704067200000},
}


def wait_legacy(server, deployment_id: str, *statuses: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = server.call("deploy.getDeployment", {"deploymentId": deployment_id}).json()["data"]
        if data["status"] in statuses or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def test_first_line_is_url_and_a_piped_stdout_never_gets_the_key(tmp_path):
    server = start_server(tmp_path / "data", "--runtime", "simulate")
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        assert server.root_key.startswith("unkey_local_")
        assert (tmp_path / "data" / "root_key").stat().st_mode & 0o777 == 0o600
    finally:
        server.process.send_signal(signal.SIGTERM)
        out, err = server.process.communicate(timeout=10)
    assert server.root_key not in out + err
    assert f"root key generated and stored in {tmp_path / 'data' / 'root_key'}" in err
    assert "NOTHING RUNS" in err
    assert server.process.returncode == 0


def test_create_then_walk_to_ready_with_steps(local_server):
    server = local_server("--step-delay", "0.05")
    response = server.call("deploy.createDeployment", LEGACY_BODY)
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"req_\w+", body["meta"]["requestId"])
    deployment_id = body["data"]["deploymentId"]
    assert re.fullmatch(r"d_[a-zA-Z0-9]+", deployment_id)

    data = wait_legacy(server, deployment_id, "READY", "FAILED")
    assert data["status"] == "READY"
    assert data["hostnames"] and data["hostnames"][0].endswith(".localhost")
    assert [step["status"] for step in data["steps"]] == ["pending", "deploying", "network", "ready"]
    assert all(isinstance(step["createdAt"], int) for step in data["steps"])
    assert "errorMessage" not in data and "readyAt" not in data


def test_failing_image_ends_failed_with_error_message(local_server):
    server = local_server("--step-delay", "0.02")
    body = {**LEGACY_BODY, "dockerImage": "ghcr.io/acme/will-fail:v1"}
    deployment_id = server.call("deploy.createDeployment", body).json()["data"]["deploymentId"]
    data = wait_legacy(server, deployment_id, "READY", "FAILED")
    assert data["status"] == "FAILED"
    assert "will-fail" in data["errorMessage"]
    assert data["steps"][-1]["status"] == "failed"


def test_steps_none_jumps_from_pending_to_ready_and_debug_timestamps(local_server):
    server = local_server("--ready-after", "0.2", "--steps", "none", "--debug-timestamps")
    before = int(time.time() * 1000)
    deployment_id = server.call("deploy.createDeployment", LEGACY_BODY).json()["data"]["deploymentId"]
    data = wait_legacy(server, deployment_id, "READY")
    assert [step["status"] for step in data["steps"]] == ["pending", "ready"]
    assert before + 150 <= data["readyAt"] <= int(time.time() * 1000)


def test_validation_errors_list_each_field(local_server):
    server = local_server()
    response = server.call("deploy.createDeployment", {"project": "", "app": "api"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["type"].startswith("https://unkey.com/docs/errors/")
    locations = {item["location"] for item in error["errors"]}
    assert {"body.project", "body.branch", "body.environmentSlug", "body.dockerImage"} <= locations

    bad_id = server.call("deploy.getDeployment", {"deploymentId": "nope"})
    assert bad_id.status_code == 400
    assert bad_id.json()["error"]["errors"][0]["location"] == "body.deploymentId"


def test_auth_missing_wrong_and_allow_any(local_server, tmp_path):
    server = local_server()
    missing = httpx.post(f"{server.url}/v2/deploy.getDeployment", json={"deploymentId": "d_x"})
    assert missing.status_code == 401 and "requestId" in missing.json()["meta"]
    wrong = server.call("deploy.getDeployment", {"deploymentId": "d_x"}, key="unkey_wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"].endswith("/authentication/key_not_found")

    anything = local_server("--allow-any-key", data_dir=tmp_path / "other")
    assert anything.call("deploy.getDeployment", {"deploymentId": "d_x"}, key="whatever").status_code == 404


def test_unknown_deployment_project_and_route(local_server):
    server = local_server("--projects", "acme,other")
    missing = server.call("deploy.getDeployment", {"deploymentId": "d_doesnotexist"})
    assert missing.status_code == 404
    assert missing.json()["error"]["type"].endswith("/data/deployment_not_found")

    project = server.call("deploy.createDeployment", {**LEGACY_BODY, "project": "ghost"})
    assert project.status_code == 404
    assert project.json()["error"]["type"].endswith("/data/project_not_found")
    assert "ghost" in project.json()["error"]["detail"]

    route = server.call("deploy.noSuchThing", {})
    assert route.status_code == 404
    assert "route" in route.json()["error"]["type"]

    unreadable = httpx.post(f"{server.url}/v2/deploy.getDeployment", content=b"{not json",
                            headers={"Authorization": f"Bearer {server.root_key}"})
    assert unreadable.status_code == 400 and unreadable.json()["error"]["errors"] == []


def test_state_survives_restart_and_in_flight_is_marked_failed(local_server, tmp_path):
    data_dir = tmp_path / "persist"
    server = local_server("--step-delay", "0.02", data_dir=data_dir)
    done = server.call("deploy.createDeployment", LEGACY_BODY).json()["data"]["deploymentId"]
    assert wait_legacy(server, done, "READY")["status"] == "READY"
    server.stop()

    slow = local_server("--step-delay", "30", data_dir=data_dir)
    assert slow.root_key == server.root_key
    stuck = slow.call("deploy.createDeployment", LEGACY_BODY).json()["data"]["deploymentId"]
    slow.stop()

    again = local_server(data_dir=data_dir)
    assert again.call("deploy.getDeployment", {"deploymentId": done}).json()["data"]["status"] == "READY"
    interrupted = again.call("deploy.getDeployment", {"deploymentId": stuck}).json()["data"]
    assert interrupted["status"] == "FAILED"
    assert "stopped while this deployment was in progress" in interrupted["errorMessage"]


def test_concurrent_requests(local_server):
    from concurrent.futures import ThreadPoolExecutor

    server = local_server("--step-delay", "0.01")
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: server.call("deploy.createDeployment", LEGACY_BODY).json()["data"]
                            ["deploymentId"], range(16)))
    assert len(set(ids)) == 16
    listed = server.call("deployments.listDeployments", {"project": "acme"}).json()["data"]
    assert {item["id"] for item in listed} == set(ids)
