"""The GitHub Action's runtime-variables and runtime-env-file inputs: masked first, set on the environment
through files (never argv) before the deployment, which then starts with them."""

from __future__ import annotations

import httpx

from tests.test_github_action import (  # noqa: F401 - fixtures
    ROOT_KEY,
    assert_secrets_masked_first,
    checkout,
    deploy_inputs,
    harness,
    server,
)


def test_runtime_variables_are_masked_set_and_reach_the_deployment(harness, server, checkout):  # noqa: F811
    workspace, _ = checkout
    (workspace / "runtime.env").write_text("FROM_FILE=file-secret-value\n")
    run = harness.run({
        **deploy_inputs(server, image="ghcr.io/acme/api:v9"), "environment": "preview",
        "runtime-env-file": "runtime.env",
        "runtime-variables": "DATABASE_URL=postgres://u:pw-$(id)@db/x\nLOG_LEVEL=debug\n",
    })

    deploy = run.step("deploy")
    assert run.succeeded, deploy.stdout + deploy.stderr
    assert_secrets_masked_first(run, ROOT_KEY, "file-secret-value", "postgres://u:pw-$(id)@db/x")
    assert "Set 3 writeonly variable(s) in acme/api/preview: FROM_FILE, DATABASE_URL, LOG_LEVEL" in deploy.stdout
    headers = {"Authorization": "Bearer any"}
    listed = httpx.post(f"{server}/v2/environments.listEnvironmentVariables", headers=headers,
                        json={"project": "acme", "app": "api", "environment": "preview"}).json()["data"]
    assert sorted(item["key"] for item in listed) >= ["DATABASE_URL", "FROM_FILE", "LOG_LEVEL"]
    query = f"SELECT * FROM runtime_logs_v1 WHERE deployment_id = '{run.outputs['deployment-id']}'"
    logs = httpx.post(f"{server}/v2/analytics.getRuntimeLogs", headers=headers, json={"query": query}).json()
    assert "DATABASE_URL" in logs["data"][0]["message"] and "FROM_FILE" in logs["data"][0]["message"]
