"""`deployments.*` on `unkey local serve`: Deployment shape, listing, pagination and Unkey's action rules."""

from __future__ import annotations

import time

import httpx

from tests.local.conftest import create_image_deployment

FAST = ("--step-delay", "0.02")


def test_deployment_shape_follows_the_spec(local_server):
    server = local_server(*FAST)
    deployment_id = create_image_deployment(server)
    data = server.wait_status(deployment_id, "ready")
    assert set(data) <= {"id", "status", "isCurrent", "environment", "app", "project", "git", "docker",
                         "availableActions", "regions", "error", "domains", "runtime", "createdAt", "updatedAt"}
    assert data["docker"] == {"image": "ghcr.io/acme/api:v1"}
    assert (data["project"], data["app"], data["environment"]) == ("acme", "api", "production")
    assert data["isCurrent"] is True and data["availableActions"] == []
    assert data["runtime"]["port"] == 8080 and data["regions"]
    assert "error" not in data

    failed = server.wait_status(create_image_deployment(server, "ghcr.io/acme/fail:v1"), "failed")
    assert failed["error"]["step"] == "deploying" and "fail" in failed["error"]["message"]
    assert failed["error"]["code"] in {"unknown", "build_failed"}
    assert failed["isCurrent"] is False and failed["availableActions"] == []


def test_create_validates_sources_and_identifiers(local_server):
    server = local_server()
    both = server.call("deployments.createDeployment", {
        "project": "ac", "app": "api", "environment": "production",
        "image": {"dockerImage": "x:1"}, "deployment": {"deploymentId": "d_abc"}, "extra": True,
    })
    assert both.status_code == 400
    messages = {item["location"]: item["message"] for item in both.json()["error"]["errors"]}
    assert "body.project" in messages and "body.extra" in messages and "exactly one" in messages["body"]

    git = server.call("deployments.createDeployment",
                      {"project": "acme", "app": "api", "environment": "preview", "git": {"branch": "main"}})
    assert git.status_code == 412
    assert "image" in git.json()["error"]["detail"]

    missing = server.call("deployments.createDeployment", {
        "project": "acme", "app": "api", "environment": "preview", "deployment": {"deploymentId": "d_missing"}})
    assert missing.status_code == 404


def test_redeploy_reuses_the_image(local_server):
    server = local_server(*FAST)
    first = create_image_deployment(server, "ghcr.io/acme/api:v7", env="preview")
    response = server.call("deployments.createDeployment", {
        "project": "acme", "app": "api", "environment": "preview", "deployment": {"deploymentId": first}})
    assert response.status_code == 201
    again = server.wait_status(response.json()["data"]["deploymentId"], "ready")
    assert again["docker"]["image"] == "ghcr.io/acme/api:v7" and again["id"] != first

    other_app = server.call("deployments.createDeployment", {
        "project": "acme", "app": "web", "environment": "preview", "deployment": {"deploymentId": first}})
    assert other_app.status_code == 400


def test_list_filters_and_cursor_pagination(local_server):
    server = local_server(*FAST)
    ids = [create_image_deployment(server, env="preview", app="api") for _ in range(5)]
    other = create_image_deployment(server, env="production", app="web")
    for deployment_id in [*ids, other]:
        server.wait_status(deployment_id, "ready")

    seen, cursor, pages = [], None, 0
    while True:
        body = {"project": "acme", "app": "api", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = server.call("deployments.listDeployments", body).json()
        seen += [item["id"] for item in page["data"]]
        pages += 1
        if not page["pagination"]["hasMore"]:
            assert "cursor" not in page["pagination"]
            break
        cursor = page["pagination"]["cursor"]
    assert seen == list(reversed(ids)) and pages == 3  # newest first

    everything = server.call("deployments.listDeployments", {}).json()["data"]
    assert everything[0]["id"] == other and len(everything) == 6
    web = server.call("deployments.listDeployments",
                      {"project": "acme", "app": "web", "environment": "production", "status": ["ready"]})
    assert [item["id"] for item in web.json()["data"]] == [other]
    none = server.call("deployments.listDeployments", {"status": ["failed"]})
    assert none.json()["data"] == [] and none.json()["pagination"] == {"hasMore": False}


def test_list_rejects_bad_filters_limit_and_cursor(local_server):
    server = local_server()
    for body, location in (
        ({"app": "api"}, "body.app"),
        ({"project": "acme", "environment": "production"}, "body.environment"),
        ({"limit": 101}, "body.limit"),
        ({"limit": 0}, "body.limit"),
        ({"status": ["READY"]}, "body.status[0]"),
        ({"cursor": "not-a-cursor"}, "body.cursor"),
    ):
        response = server.call("deployments.listDeployments", body)
        assert response.status_code == 400, body
        assert location in [item["location"] for item in response.json()["error"]["errors"]], body


def test_list_unknown_project_is_404_when_projects_are_restricted(local_server):
    server = local_server("--projects", "acme")
    assert server.call("deployments.listDeployments", {"project": "ghost"}).status_code == 404
    assert server.call("deployments.listDeployments", {"project": "acme"}).status_code == 200


def wait_current(server, deployment_id: str, expected: bool, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = server.call("deployments.getDeployment", {"deploymentId": deployment_id}).json()["data"]
        if data["isCurrent"] is expected or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def test_rollback_pins_current_until_promote(local_server):
    server = local_server(*FAST)
    first = create_image_deployment(server, "ghcr.io/acme/api:v1")
    server.wait_status(first, "ready")
    second = create_image_deployment(server, "ghcr.io/acme/api:v2")
    assert wait_current(server, second, True)["isCurrent"] is True
    old = server.call("deployments.getDeployment", {"deploymentId": first}).json()["data"]
    assert old["isCurrent"] is False and sorted(old["availableActions"]) == ["promote", "rollback"]

    current_rollback = server.call("deployments.rollbackDeployment", {"deploymentId": second})
    assert current_rollback.status_code == 412 and "current" in current_rollback.json()["error"]["detail"]

    accepted = server.call("deployments.rollbackDeployment", {"deploymentId": first})
    assert accepted.status_code == 202 and accepted.json()["data"] == {}
    assert wait_current(server, first, True)["availableActions"] == ["promote"]  # rolled back

    third = create_image_deployment(server, "ghcr.io/acme/api:v3")
    server.wait_status(third, "ready")
    time.sleep(0.3)
    assert wait_current(server, third, False, timeout=0.5)["isCurrent"] is False  # pinned by the rollback

    assert server.call("deployments.promoteDeployment", {"deploymentId": third}).status_code == 202
    assert wait_current(server, third, True)["isCurrent"] is True
    assert server.call("deployments.getDeployment", {"deploymentId": first}).json()["data"]["isCurrent"] is False
    fourth = create_image_deployment(server, "ghcr.io/acme/api:v4")
    assert wait_current(server, fourth, True)["isCurrent"] is True  # automatic again after the promote


def test_stop_and_start_only_for_previews(local_server):
    server = local_server(*FAST)
    preview = create_image_deployment(server, env="preview")
    data = server.wait_status(preview, "ready")
    assert data["availableActions"] == ["stop"] and data["isCurrent"] is False

    assert server.call("deployments.startDeployment", {"deploymentId": preview}).status_code == 412
    assert server.call("deployments.promoteDeployment", {"deploymentId": preview}).status_code == 412
    assert server.call("deployments.stopDeployment", {"deploymentId": preview}).status_code == 202
    stopped = server.wait_status(preview, "stopped")
    assert stopped["availableActions"] == ["start"]
    assert server.call("deployments.startDeployment", {"deploymentId": preview}).status_code == 202
    assert server.wait_status(preview, "ready")["availableActions"] == ["stop"]

    production = create_image_deployment(server)
    server.wait_status(production, "ready")
    refused = server.call("deployments.stopDeployment", {"deploymentId": production})
    assert refused.status_code == 412 and "preview" in refused.json()["error"]["detail"]
    assert server.call("deployments.stopDeployment", {"deploymentId": "d_nothere"}).status_code == 404


def test_current_deployment_answers_on_a_stable_url_that_survives_restarts(local_server, tmp_path):
    data_dir = tmp_path / "stable"
    server = local_server(*FAST, data_dir=data_dir)
    first = create_image_deployment(server, "ghcr.io/acme/api:v1")
    domains = server.wait_status(first, "ready")["domains"]
    stable = next(d for d in domains if d.startswith("localhost:"))
    assert first in httpx.get(f"http://{stable}/", timeout=5).text

    second = create_image_deployment(server, "ghcr.io/acme/api:v2")
    assert stable in wait_current(server, second, True)["domains"]
    assert second in httpx.get(f"http://{stable}/", timeout=5).text
    assert stable not in server.call("deployments.getDeployment", {"deploymentId": first}).json()["data"]["domains"]

    preview = create_image_deployment(server, env="preview")
    assert not any(d.startswith("localhost:") for d in server.wait_status(preview, "ready")["domains"])

    server.call("deployments.rollbackDeployment", {"deploymentId": first})
    wait_current(server, first, True)
    assert first in httpx.get(f"http://{stable}/", timeout=5).text
    server.stop()

    again = local_server(data_dir=data_dir)
    assert stable in again.call("deployments.getDeployment", {"deploymentId": first}).json()["data"]["domains"]
    assert first in httpx.get(f"http://{stable}/", timeout=5).text
