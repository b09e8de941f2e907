"""`unkey env` against a scripted API over real HTTP: request bodies (checked against the request schemas),
batches of 50, a failure part-way, prune, and names refused before any request."""

from __future__ import annotations

import json

import pytest

from tests.fakeapi import envelope, error, serve
from unkey_deploy.api.schemas import check_body

OK = (200, envelope({}), {})


def listing(*variables: dict) -> tuple[int, dict, dict]:
    return 200, {**envelope(list(variables)), "pagination": {"hasMore": False}}, {}


@pytest.fixture
def env_cli(run_cli):
    def run(api, *args: str, env: dict[str, str] | None = None):
        return run_cli("env", *args, "--project", "acme", "--app", "api", "--env", "production",
                       "--api-url", api.url, "--root-key", "unkey_test", env=env)

    return run


def bodies(api, operation: str) -> list[dict]:
    found = [call.body for call in api.calls(operation)]
    for body in found:
        assert check_body(operation, body) == [], body
    return found


def test_120_variables_go_in_batches_of_50_with_valid_bodies(env_cli, tmp_path):
    dotenv = tmp_path / "vars.env"
    dotenv.write_text("".join(f"VAR_{i:03d}=value {i}\n" for i in range(120)))
    with serve() as api:
        api.on("environments.setEnvironmentVariables", then=OK)
        result = env_cli(api, "set", "--from-file", str(dotenv))
    assert result.returncode == 0, result.stderr
    sent = bodies(api, "environments.setEnvironmentVariables")
    assert [len(b["variables"]) for b in sent] == [50, 50, 20]
    assert [v["key"] for b in sent for v in b["variables"]] == [f"VAR_{i:03d}" for i in range(120)]
    assert all(v["kind"] == "writeonly" and "prune" not in b for b in sent for v in b["variables"])
    assert sent[0]["variables"][0]["value"] == "value 0"
    assert "value 0" not in result.stdout + result.stderr


def test_a_failure_part_way_says_exactly_which_were_set(env_cli, tmp_path):
    dotenv = tmp_path / "vars.env"
    dotenv.write_text("".join(f"V{i}=x{i}\n" for i in range(120)))
    with serve() as api:
        api.on("environments.setEnvironmentVariables", OK,
               (403, error(403, "missing permission", kind="unkey/authorization/forbidden"), {}))
        result = env_cli(api, "set", "--from-file", str(dotenv))
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert "batch 2 of 3" in lines[0] and "50 were set, 70 were not" in lines[0]
    assert lines[1].strip() == "set: " + ", ".join(f"V{i}" for i in range(50))
    assert lines[2].strip() == "not set: " + ", ".join(f"V{i}" for i in range(50, 120))
    assert len(api.calls("environments.setEnvironmentVariables")) == 2  # the third batch is never sent


def test_prune_with_few_variables_is_one_atomic_call(env_cli):
    with serve() as api:
        api.on("environments.listEnvironmentVariables",
               listing({"key": "OLD", "kind": "writeonly", "createdAt": 1}, {"key": "KEEP", "kind": "writeonly",
                                                                           "createdAt": 1}))
        api.on("environments.setEnvironmentVariables", then=OK)
        result = env_cli(api, "set", "KEEP=1", "NEW=2", "--prune", "--yes", "--recoverable")
    assert result.returncode == 0, result.stderr
    assert "--prune removes 1 variable(s) from acme/api/production: OLD" in result.stdout
    [body] = bodies(api, "environments.setEnvironmentVariables")
    assert body["prune"] is True
    assert body["variables"] == [{"key": "KEEP", "value": "1", "kind": "recoverable"},
                                 {"key": "NEW", "value": "2", "kind": "recoverable"}]
    assert not api.calls("environments.removeEnvironmentVariables")


def test_prune_of_more_than_50_upserts_then_removes_the_rest(env_cli, tmp_path):
    dotenv = tmp_path / "vars.env"
    dotenv.write_text("".join(f"V{i}=x\n" for i in range(60)))
    existing = [{"key": f"STALE{i}", "kind": "writeonly", "createdAt": 1} for i in range(55)]
    with serve() as api:
        api.on("environments.listEnvironmentVariables", listing(*existing))
        api.on("environments.setEnvironmentVariables", then=OK)
        api.on("environments.removeEnvironmentVariables", then=OK)
        result = env_cli(api, "set", "--from-file", str(dotenv), "--prune", "--yes", "--output", "json")
    assert result.returncode == 0, result.stderr
    sets = bodies(api, "environments.setEnvironmentVariables")
    assert [("prune" in b, len(b["variables"])) for b in sets] == [(False, 50), (False, 10)]
    removes = bodies(api, "environments.removeEnvironmentVariables")
    assert [b["variables"] for b in removes] == [[f"STALE{i}" for i in range(50)], [f"STALE{i}" for i in range(50, 55)]]
    assert json.loads(result.stdout)["removed"] == [f"STALE{i}" for i in range(55)]


def test_prune_without_yes_and_without_a_terminal_changes_nothing(env_cli):
    with serve() as api:
        api.on("environments.listEnvironmentVariables", listing({"key": "OLD", "kind": "writeonly", "createdAt": 1}))
        api.on("environments.setEnvironmentVariables", then=OK)
        result = env_cli(api, "set", "A=1", "--prune")
    assert result.returncode == 2
    assert "OLD" in result.stdout
    assert "--prune needs confirmation: pass --yes" in result.stderr
    assert not api.calls("environments.setEnvironmentVariables")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1ST=x"], "invalid variable name '1ST'"),
        (["MY-VAR=x"], "invalid variable name 'MY-VAR'"),
        (["EMPTY="], "EMPTY has an empty value"),
        (["UNSET_IN_ENV"], "UNSET_IN_ENV is not set in the environment"),
        (["A" * 257 + "=x"], "the API allows 256"),
        (["BIG=" + "x" * 16385], "BIG is 16385 characters long"),
    ],
)
def test_bad_names_and_values_are_refused_before_any_request(env_cli, args, message):
    with serve() as api:
        result = env_cli(api, "set", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert api.requests == []


def test_key_alone_takes_the_value_from_the_environment_and_never_prints_it(env_cli):
    with serve() as api:
        api.on("environments.setEnvironmentVariables", then=OK)
        result = env_cli(api, "set", "DATABASE_URL", "--output", "json", env={"DATABASE_URL": "postgres://u:pw@db/x"})
    assert result.returncode == 0, result.stderr
    [body] = bodies(api, "environments.setEnvironmentVariables")
    assert body["variables"] == [{"key": "DATABASE_URL", "value": "postgres://u:pw@db/x", "kind": "writeonly"}]
    assert "pw@db" not in result.stdout + result.stderr
    assert json.loads(result.stdout) == {"environment": "acme/api/production", "set": ["DATABASE_URL"],
                                         "kind": "writeonly", "removed": []}


def test_unset_batches_and_list_hides_values_from_a_server(env_cli):
    names = [f"K{i}" for i in range(51)]
    with serve() as api:
        api.on("environments.removeEnvironmentVariables", then=OK)
        api.on("environments.listEnvironmentVariables", then=listing(
            {"key": "R", "kind": "recoverable", "value": "visible\x1b[31m", "createdAt": 1700000000000},
            {"key": "W", "kind": "writeonly", "value": "leaked-by-server", "createdAt": 1700000000000},
        ))
        unset = env_cli(api, "unset", *names)
        hidden = env_cli(api, "list")
        revealed = env_cli(api, "list", "--reveal")
        as_json = env_cli(api, "list", "--reveal", "--output", "json")
    assert unset.returncode == 0, unset.stderr
    assert [len(b["variables"]) for b in bodies(api, "environments.removeEnvironmentVariables")] == [50, 1]
    assert "visible" not in hidden.stdout and "leaked" not in hidden.stdout
    assert "visible\\x1b[31m" in revealed.stdout and "\x1b" not in revealed.stdout
    assert "leaked" not in revealed.stdout + as_json.stdout
    assert json.loads(as_json.stdout) == [
        {"key": "R", "kind": "recoverable", "createdAt": 1700000000000, "value": "visible\x1b[31m"},
        {"key": "W", "kind": "writeonly", "createdAt": 1700000000000},
    ]


def test_bad_output_and_missing_project_are_one_line(run_cli):
    bad = run_cli("env", "list", "--project", "acme", "--output", "yaml")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --output must be text or json, got 'yaml'"
    missing = run_cli("env", "list")
    assert missing.returncode == 2 and "--project is required" in missing.stderr
