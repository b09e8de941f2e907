"""`unkey deployments ...` against a scripted API: checks before sending, confirmation on a terminal,
git-sourced deployments, waiting for an action to show, and the schemas of the request bodies."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from typing import Any

import pytest

from tests.conftest import unkey_bin
from tests.fakeapi import FakeAPI, envelope, error, serve
from unkey_deploy.api.schemas import check_body

SHA = "9f2c1a7d3b5e4f60718293a4b5c6d7e8f9012345"


def deployment(deployment_id: str = "d_abc123", **fields: Any) -> dict[str, Any]:
    data = {
        "id": deployment_id, "status": "ready", "isCurrent": False, "environment": "production", "app": "api",
        "project": "acme", "availableActions": ["promote", "rollback"], "regions": ["us-east-1"],
        "runtime": {"port": 8080}, "createdAt": int(time.time() * 1000) - 7200_000,
        "domains": ["api-abc123.unkey.app"], "git": {"commitSha": SHA, "branch": "main"},
    }
    data.update(fields)
    return data


def found(data: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    return 200, envelope(data), {}


ACCEPTED = (202, envelope({}), {})


@pytest.fixture
def api():
    with serve() as fake:
        yield fake


@pytest.fixture
def unkey(run_cli, api: FakeAPI):
    def run(*args: str, env: dict[str, str] | None = None):
        return run_cli(*args, env={"UNKEY_API_BASE_URL": api.url, "UNKEY_ROOT_KEY": "unkey_root999", **(env or {})},
                       input="")

    return run


def only_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("args,message", [
    (("list", "--app=api"), "--app needs --project"),
    (("list", "--project=acme", "--env=production"), "--env needs --project and --app"),
    (("list", "--limit=101"), "--limit must be between 1 and 100"),
    (("list", "--limit=0"), "--limit must be between 1 and 100"),
    (("list", "--status=ready,brokn"), "unknown status 'brokn'"),
    (("list", "--project=ac"), "--project: must be at least 3 characters"),
    (("list", "--project=acme", "--app=my.app"), "--app: must match"),
    (("get", "d1"), "ID: must be at least 3 characters"),
    (("stop", "d_abc/123", "--yes"), "ID: must match"),
])
def test_bad_input_is_caught_before_anything_is_sent(api, unkey, args, message):
    result = unkey("deployments", *args)
    assert result.returncode == 2
    assert message in only_line(result)
    assert api.requests == []


def test_git_deployments_show_branch_and_commit(api, unkey):
    api.on("deployments.listDeployments", (200, {**envelope([deployment(isCurrent=True)]),
                                                 "pagination": {"hasMore": False}}, {}))
    table = unkey("deployments", "list", "--project=acme")
    assert table.returncode == 0, table.stderr
    row = table.stdout.splitlines()[1].split()
    assert row == ["*", "d_abc123", "ready", "acme/api", "production", "main@9f2c1a7", "2h"]

    api.on("deployments.getDeployment", found(deployment()))
    details = unkey("deployments", "get", "d_abc123")
    assert f"Git: main@{SHA}" in details.stdout and "https://api-abc123.unkey.app" in details.stdout


def test_empty_list(api, unkey):
    api.on("deployments.listDeployments", (200, {**envelope([]), "pagination": {"hasMore": False}}, {}))
    result = unkey("deployments", "list")
    assert result.returncode == 0 and result.stdout.strip() == "No deployments found."
    assert api.calls("deployments.listDeployments")[0].body == {}


def test_an_action_that_never_shows_times_out(api, unkey):
    target = deployment("d_target")
    api.on("deployments.getDeployment", then=found(target))
    api.on("deployments.listDeployments", (200, {**envelope([deployment("d_live", isCurrent=True)]),
                                                 "pagination": {"hasMore": False}}, {}))
    api.on("deployments.promoteDeployment", ACCEPTED)
    result = unkey("deployments", "promote", "d_target", "--yes", "--timeout=1")
    assert result.returncode == 6
    assert "promote of d_target was accepted but has not shown after 1s" in only_line(result)
    assert api.calls("deployments.listDeployments")[0].body == {
        "project": "acme", "app": "api", "environment": "production", "status": ["ready"],
    }


def test_start_that_fails_exits_1_with_the_reason(api, unkey):
    stopped = deployment("d_prev1", environment="preview", status="stopped", availableActions=["start"])
    failed = {**stopped, "status": "failed", "availableActions": [],
              "error": {"code": "unknown", "step": "starting", "message": "container exited with code 1"}}
    api.on("deployments.getDeployment", found(stopped), then=found(failed))
    api.on("deployments.startDeployment", ACCEPTED)
    result = unkey("deployments", "start", "d_prev1", "--yes")
    assert result.returncode == 1
    assert "container exited with code 1" in only_line(result)


def test_promote_without_a_current_deployment_says_so(api, unkey):
    api.on("deployments.getDeployment", found(deployment(availableActions=[])))
    result = unkey("deployments", "promote", "d_abc123", "--yes")
    assert result.returncode == 1
    assert "the app has no current deployment yet" in only_line(result)
    assert api.calls("deployments.promoteDeployment") == []


def test_a_precondition_the_api_reports_is_one_line(api, unkey):
    api.on("deployments.getDeployment", found(deployment(environment="preview", availableActions=["stop"])))
    api.on("deployments.stopDeployment", (412, error(412, "The deployment is already draining.",
                                                     kind="unkey/application/precondition_failed"), {}))
    result = unkey("deployments", "stop", "d_abc123", "--yes")
    assert result.returncode == 1
    assert "The deployment is already draining." in result.stderr.splitlines()[0]
    assert len(api.calls("deployments.stopDeployment")) == 1  # not retried


def run_on_terminal(cli_env: dict[str, str], args: list[str], answer: str) -> tuple[int, str]:
    """Run unkey with stdin and stdout on a pseudo-terminal, answering the first prompt with `answer`."""
    master, slave = pty.openpty()
    process = subprocess.Popen([*unkey_bin(), *args], stdin=slave, stdout=slave, stderr=slave, env=cli_env)
    os.close(slave)
    seen, answered = b"", False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"[y/N]" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if process.poll() is not None and not ready:
            break
    os.close(master)
    return process.wait(timeout=10), seen.decode(errors="replace")


@pytest.mark.parametrize("answer", ["n", "y"])
def test_a_terminal_asks_before_acting(api, cli_env, answer):
    target = deployment("d_target")
    api.on("deployments.getDeployment", found(target), then=found({**target, "isCurrent": True}))
    api.on("deployments.listDeployments", (200, {**envelope([deployment("d_live", isCurrent=True)]),
                                                 "pagination": {"hasMore": False}}, {}))
    api.on("deployments.rollbackDeployment", ACCEPTED)
    env = {**cli_env, "UNKEY_API_BASE_URL": api.url, "UNKEY_ROOT_KEY": "unkey_root999"}
    code, screen = run_on_terminal(env, ["deployments", "rollback", "d_target"], answer)
    assert "Roll back acme/api production from d_live to d_target? [y/N]" in screen
    if answer == "n":
        assert code == 1 and "rollback cancelled: nothing was changed" in screen
        assert api.calls("deployments.rollbackDeployment") == []
    else:
        assert code == 0, screen
        assert "Rolled back acme/api (production) from d_live to d_target" in screen
        assert [c.body for c in api.calls("deployments.rollbackDeployment")] == [{"deploymentId": "d_target"}]


# the request schemas


@pytest.mark.parametrize("body,problem", [
    ({"project": "acme", "app": "api", "environment": "preview"}, "exactly one source"),
    ({"project": "acme", "app": "api", "environment": "preview", "image": {"dockerImage": "x:1"},
      "deployment": {"deploymentId": "d_abc"}}, "exactly one source"),
    ({"project": "acme", "app": "api", "environment": "preview", "image": {}}, "image.dockerImage: is required"),
    ({"project": "a", "app": "api", "environment": "preview", "git": {}}, "project: must be at least 3"),
    ({"project": "acme", "app": "api", "environment": "preview", "git": {}, "extra": 1}, "extra: is not a known"),
])
def test_create_schema_rejects(body, problem):
    assert problem in "; ".join(str(p) for p in check_body("deployments.createDeployment", body))


def test_schemas_accept_the_spec_examples():
    assert check_body("deployments.createDeployment", {
        "project": "proj_1234abcd", "app": "payments-api", "environment": "production",
        "git": {"branch": "main", "commitSha": "9f2c1a7", "repository": "contributor/acme-api"},
    }) == []
    assert check_body("deployments.listDeployments", {
        "project": "payments-service", "app": "payments-api", "environment": "production",
        "status": ["ready", "failed"], "limit": 100, "cursor": "eyJrZXkiOiJrZXlfMTIzNCJ9",
    }) == []
    for action in ("promote", "rollback", "start", "stop", "get"):
        assert check_body(f"deployments.{action}Deployment", {"deploymentId": "d_1234abcd"}) == []


@pytest.mark.parametrize("body,problem", [
    ({"app": "api"}, "app: requires project"),
    ({"project": "acme", "environment": "production"}, "environment: requires project and app"),
    ({"limit": 101}, "limit: must be at most 100"),
    ({"status": ["READY"]}, "status[0]: must be one of"),
    ({"status": ["ready"] * 14}, "at most 13 entries"),
])
def test_list_schema_rejects(body, problem):
    assert problem in "; ".join(str(p) for p in check_body("deployments.listDeployments", body))


def test_action_bodies_take_only_the_id():
    problems = check_body("deployments.rollbackDeployment", {"deploymentId": "d1", "force": True})
    assert [str(p) for p in problems] == [
        'deploymentId: must be at least 3 characters, got "d1"',
        "force: is not a known field (known: deploymentId)",
    ]


def test_json_list_is_the_array(api, unkey):
    page = [deployment("d_new1", createdAt=2000), deployment("d_old1", createdAt=1000)]
    api.on("deployments.listDeployments", (200, {**envelope(page), "pagination": {"hasMore": False}}, {}))
    result = unkey("deployments", "list", "--output=json")
    assert json.loads(result.stdout) == page


def test_redeploy_checks_the_environment_before_creating(api, unkey):
    api.on("deployments.getDeployment", found(deployment()))
    result = unkey("deployments", "redeploy", "d_abc123", "--env=qa")
    assert result.returncode == 2
    assert "--env: must be at least 3 characters" in only_line(result)
    assert api.calls("deployments.createDeployment") == []


def test_redeploy_of_a_git_deployment_shows_its_commit(api, unkey):
    api.on("deployments.getDeployment", found(deployment(environment="preview")),
           then=found(deployment("d_again1", environment="preview")))
    api.on("deployments.createDeployment", (201, envelope({"deploymentId": "d_again1"}), {}))
    result = unkey("deployments", "redeploy", "d_abc123")
    assert result.returncode == 0, result.stderr
    assert "Branch: main" in result.stdout and "Commit: 9f2c1a7" in result.stdout
    assert "Deployment ID: d_again1" in result.stdout
    assert api.calls("deployments.createDeployment")[0].body["deployment"] == {"deploymentId": "d_abc123"}
