"""`unkey deploy --detach`, `unkey deployments wait ID` and `--rollback-on-failure` on failures that are not
checks, against a real `unkey local serve` (simulate runtime) over HTTP."""

from __future__ import annotations

import json


def _api(server) -> list[str]:
    return [f"--api-url={server.url}", f"--root-key={server.root_key}"]


def test_detach_prints_the_id_and_wait_follows_it(run_cli, local_server, tmp_path):
    server = local_server("--step-delay", "0.3")
    (tmp_path / "unkey.yaml").write_text("check: [/healthz]\n")  # configured checks do not stop --detach
    created = run_cli("deploy", "ghcr.io/acme/api:v1", "--project=acme", "--env=production", "--detach",
                      "--output=json", *_api(server))
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert data["detached"] is True and data["deploymentId"].startswith("d_")
    status = server.call("deployments.getDeployment", {"deploymentId": data["deploymentId"]}).json()["data"]
    assert status["status"] != "ready"  # it did not wait

    waited = run_cli("deployments", "wait", data["deploymentId"], *_api(server))
    assert waited.returncode == 0, waited.stderr
    assert "Deployment Complete" in waited.stdout
    assert f"Deployment ID: {data['deploymentId']}" in waited.stdout

    text = run_cli("deploy", "ghcr.io/acme/api:v2", "--project=acme", "--detach", *_api(server))
    assert text.returncode == 0, text.stderr
    deployment_id = text.stdout.strip().splitlines()[-1]
    assert deployment_id.startswith("d_") and f"unkey deployments wait {deployment_id}" in text.stdout


def test_wait_on_a_failing_deployment_exits_1_and_times_out_with_6(run_cli, local_server):
    server = local_server("--step-delay", "0.3")
    failing = run_cli("deploy", "ghcr.io/acme/will-fail:v1", "--project=acme", "--detach", *_api(server))
    deployment_id = failing.stdout.strip().splitlines()[-1]
    waited = run_cli("deployments", "wait", deployment_id, "--output=json", *_api(server))
    assert waited.returncode == 1
    assert json.loads(waited.stdout)["status"] == "FAILED"

    slow = local_server("--step-delay", "5", data_dir=server.data_dir.parent / "slow")
    created = run_cli("deploy", "ghcr.io/acme/api:v1", "--project=acme", "--detach", *_api(slow))
    deployment_id = created.stdout.strip().splitlines()[-1]
    waited = run_cli("deployments", "wait", deployment_id, "--timeout=1", *_api(slow))
    assert waited.returncode == 6
    assert "not ready after waiting 1s" in waited.stderr


def test_wait_on_an_unknown_deployment_is_one_line(run_cli, local_server):
    server = local_server("--step-delay", "0.05")
    waited = run_cli("deployments", "wait", "d_doesnotexist", *_api(server))
    assert waited.returncode == 1
    assert "d_doesnotexist" in waited.stderr and "Traceback" not in waited.stderr


def test_rollback_on_failure_when_the_new_deployment_fails_or_times_out(run_cli, local_server):
    server = local_server("--step-delay", "0.05")
    good = run_cli("deploy", "ghcr.io/acme/api:v1", "--project=acme", "--env=production", "--output=json",
                   "--rollback-on-failure", *_api(server))
    assert good.returncode == 0, good.stderr
    first = json.loads(good.stdout)["deploymentId"]
    assert "no current deployment to roll back to" in good.stderr

    failed = run_cli("deploy", "ghcr.io/acme/will-fail:v2", "--project=acme", "--env=production",
                     "--rollback-on-failure", *_api(server))
    assert failed.returncode == 1
    assert f"Not rolled back: {first} never stopped serving acme/default (production)" in failed.stderr

    preview = run_cli("deploy", "ghcr.io/acme/will-fail:v2", "--project=acme", "--env=preview",
                      "--rollback-on-failure", *_api(server))
    assert preview.returncode == 1
    assert "only production has a current deployment" in preview.stdout
    assert "nothing to roll back to" in preview.stderr
