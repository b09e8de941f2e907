"""`unkey env` and `unkey logs` against a real `unkey local serve` (simulate runtime) over HTTP."""

from __future__ import annotations

import json
import signal
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import unkey_bin
from tests.local.conftest import create_image_deployment
from unkey_deploy.image.secrets import parse_env_text


@pytest.fixture
def server(local_server):
    return local_server("--step-delay", "0.02")


@pytest.fixture
def cli(run_cli, server):
    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
        return run_cli(*args, "--api-url", server.url, "--root-key", server.root_key, env=env, cwd=cwd)

    return run


TARGET = ("--project", "acme", "--app", "api", "--env", "preview")
VALUES = {
    "PLAIN": "value",
    "SPACES": "two words  and more",
    "QUOTES": "it's \"quoted\"",
    "SHELL": "$HOME `id` $(id) \\n",
    "MULTILINE": "line 1\nline 2\n",
    "UNICODE": "grüße 🚀",
    "HASH": "a #not-a-comment",
}


def test_set_list_pull_unset_round_trip_with_120_variables(cli, server, tmp_path):
    dotenv = tmp_path / "in.env"
    dotenv.write_text("".join(f"BULK_{i:03d}=bulk-{i}\n" for i in range(113)))
    result = cli("env", "set", "--from-file", str(dotenv), *VALUES, "--recoverable", *TARGET, env=VALUES)
    assert result.returncode == 0, result.stderr
    assert "Set 120 recoverable variable(s) in acme/api/preview" in result.stdout
    for value in VALUES.values():
        assert value.strip() not in result.stdout + result.stderr

    listed = cli("env", "list", *TARGET, "--output", "json")
    assert listed.returncode == 0, listed.stderr
    items = json.loads(listed.stdout)
    assert len(items) == 120 and all("value" not in item for item in items)
    revealed = {item["key"]: item["value"] for item in json.loads(cli("env", "list", *TARGET, "--reveal", "-o",
                                                                          "json").stdout)}
    assert revealed == {**{f"BULK_{i:03d}": f"bulk-{i}" for i in range(113)}, **VALUES}

    pulled = cli("env", "pull", "out.env", *TARGET, cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    out = tmp_path / "out.env"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert parse_env_text(out.read_text(), "out.env") == revealed
    again = cli("env", "pull", "out.env", *TARGET, cwd=tmp_path)
    assert again.returncode == 2 and "pass --force" in again.stderr
    assert cli("env", "pull", "out.env", "--force", *TARGET, cwd=tmp_path).returncode == 0

    removed = cli("env", "unset", *revealed, *TARGET)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(cli("env", "list", *TARGET, "-o", "json").stdout) == []


def test_writeonly_values_are_never_returned_and_sealed_at_rest(cli, server, tmp_path):
    assert cli("env", "set", "API_TOKEN", *TARGET, env={"API_TOKEN": "tok-very-secret-123"}).returncode == 0
    assert cli("env", "set", "MODE=debug-mode-xyz", "--recoverable", *TARGET).returncode == 0
    listed = cli("env", "list", "--reveal", *TARGET)
    assert "tok-very-secret" not in listed.stdout
    assert "(writeonly)" in listed.stdout and "debug-mode-xyz" in listed.stdout
    raw = server.call("environments.listEnvironmentVariables",
                      {"project": "acme", "app": "api", "environment": "preview"}).json()["data"]
    assert {item["key"]: item.get("value") for item in raw} == {"API_TOKEN": None, "MODE": "debug-mode-xyz"}
    pulled = cli("env", "pull", str(tmp_path / "p.env"), *TARGET)
    assert pulled.returncode == 0
    text = (tmp_path / "p.env").read_text()
    assert "# API_TOKEN is writeonly: its value cannot be read back" in text and "tok-very" not in text

    data = server.data_dir
    for name in ("state.db", "variables.key"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    for path in data.iterdir():
        if path.is_file():
            assert b"tok-very-secret-123" not in path.read_bytes(), path
            assert b"debug-mode-xyz" not in path.read_bytes(), path


def test_prune_asks_or_needs_yes_and_lists_what_it_removes(cli, server):
    assert cli("env", "set", "KEEP=1", "DROP_ME=2", "ALSO_DROP=3", *TARGET).returncode == 0
    refused = cli("env", "set", "KEEP=10", "--prune", *TARGET)
    assert refused.returncode == 2
    assert "--prune removes 2 variable(s) from acme/api/preview: DROP_ME, ALSO_DROP" in refused.stdout
    assert len(json.loads(cli("env", "list", *TARGET, "-o", "json").stdout)) == 3
    done = cli("env", "set", "KEEP=10", "--prune", "--yes", *TARGET)
    assert done.returncode == 0, done.stderr
    assert [item["key"] for item in json.loads(cli("env", "list", *TARGET, "-o", "json").stdout)] == ["KEEP"]


def test_invalid_names_never_reach_the_server(cli, server):
    result = cli("env", "set", "GOOD=1", "BAD NAME=2", *TARGET)
    assert result.returncode == 2 and "invalid variable name 'BAD NAME'" in result.stderr
    missing = cli("env", "list", *TARGET)
    assert missing.returncode == 1 and "does not exist" in missing.stderr  # nothing was created


def test_the_server_refuses_bodies_the_spec_does_not_allow(server):
    env = {"project": "acme", "app": "api", "environment": "preview"}
    too_many = server.call("environments.setEnvironmentVariables",
                           {**env, "variables": [{"key": f"K{i}", "value": "v"} for i in range(51)]})
    assert too_many.status_code == 400
    bad_key = server.call("environments.setEnvironmentVariables",
                          {**env, "variables": [{"key": "1X", "value": "v"}]})
    assert bad_key.status_code == 400 and bad_key.json()["error"]["errors"][0]["location"] == "body.variables[0].key"
    empty = server.call("environments.removeEnvironmentVariables", {**env, "variables": []})
    assert empty.status_code == 400


def test_variables_reach_the_next_deployment_and_logs_show_it(cli, server):
    assert cli("env", "set", "DATABASE_URL=postgres://x", "LOG_LEVEL=debug", *TARGET).returncode == 0
    deployment_id = create_image_deployment(server, "ghcr.io/acme/api:v1", env="preview")
    server.wait_status(deployment_id, "ready")
    result = cli("logs", deployment_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(
        "INFO  simulated container of ghcr.io/acme/api:v1 started with 2 runtime variables: DATABASE_URL, LOG_LEVEL")
    by_env = cli("logs", *TARGET)
    assert by_env.stdout == result.stdout


def _seed(data_dir: Path, rows: list[tuple[int, str, str, str | None]], deployment_id: str = "d_seeded1") -> None:
    from unkey_deploy.local.lookup import environment_ids

    project_id, app_id, environment_id = environment_ids("acme", "api", "preview")
    with sqlite3.connect(data_dir / "state.db", timeout=10) as db:
        db.executemany(
            "INSERT INTO runtime_logs (time, severity, message, attributes, region, project_id, app_id,"
            " environment_id, deployment_id, instance_id) VALUES (?, ?, ?, ?, 'local', ?, ?, ?, ?, 'i1')",
            [(t, sev, msg, attrs, project_id, app_id, environment_id, deployment_id) for t, sev, msg, attrs in rows],
        )


def test_logs_filters_over_http(cli, server):
    now = int(time.time() * 1000)
    _seed(server.data_dir, [
        (now - 3 * 3600_000, "INFO", "three hours ago", None),
        (now - 50 * 60_000, "ERROR", "payment failed: timeout", None),
        (now - 40 * 60_000, "WARN", "slow TIMEOUT warning", None),
        (now - 10 * 60_000, "INFO", "request ok", None),
        (now - 5 * 60_000, "DEBUG", "payment processed", json.dumps({"level": "debug", "amount": 49.99})),
        (now - 60_000, "ERROR", "it's '; DROP TABLE runtime_logs; -- 100%", None),
    ])

    def messages(*args: str) -> list[str]:
        result = cli("logs", "d_seeded1", "--output", "json", *args)
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["message"] for line in result.stdout.splitlines()]

    assert messages() == ["request ok", "payment processed", "it's '; DROP TABLE runtime_logs; -- 100%"]  # 15m
    assert messages("--since", "4h", "--severity", "error,warn") == [
        "payment failed: timeout", "slow TIMEOUT warning", "it's '; DROP TABLE runtime_logs; -- 100%"]
    assert messages("--since", "4h", "--grep", "Timeout") == ["payment failed: timeout", "slow TIMEOUT warning"]
    assert messages("--since", "4h", "--until", "30m") == ["three hours ago", "payment failed: timeout",
                                                          "slow TIMEOUT warning"]
    assert messages("--since", "4h", "--limit", "2") == ["payment processed",
                                                        "it's '; DROP TABLE runtime_logs; -- 100%"]
    assert messages("--since", "4h", "--grep", "'; DROP TABLE runtime_logs; --") == [
        "it's '; DROP TABLE runtime_logs; -- 100%"]
    assert messages("--since", "4h", "--grep", "0%") == ["it's '; DROP TABLE runtime_logs; -- 100%"]
    assert messages("--since", "4h", "--grep", "' OR '1'='1") == []
    assert len(messages("--since", "4h")) == 6  # nothing was dropped

    text = cli("logs", "d_seeded1", "--since", "10m").stdout.splitlines()
    assert text[0].endswith(" DEBUG payment processed amount=49.99")
    bad = cli("logs", "d_seeded1", "--severity", "loud")
    assert bad.returncode == 2 and "unknown severity 'loud'" in bad.stderr


def test_logs_follow_prints_new_lines_once_and_ends_cleanly_on_ctrl_c(cli_env, server):
    now = int(time.time() * 1000)
    _seed(server.data_dir, [(now - 1000, "INFO", "before follow", None)])
    process = subprocess.Popen(
        [*unkey_bin(), "logs", "d_seeded1", "--follow", "--api-url", server.url, "--root-key", server.root_key],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().rstrip().endswith("INFO  before follow")
        stamp = int(time.time() * 1000)
        _seed(server.data_dir, [(stamp, "WARN", "during follow", None), (stamp, "WARN", "during follow", None),
                                (stamp - 3000, "INFO", "arrived late", None)])
        got = [process.stdout.readline().rstrip() for _ in range(3)]
        assert sorted(line.split(" ", 1)[1] for line in got) == [
            "INFO  arrived late", "WARN  during follow", "WARN  during follow"]
        _seed(server.data_dir, [(int(time.time() * 1000), "ERROR", "third batch", None)])
        assert process.stdout.readline().rstrip().endswith("ERROR third batch")
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert out == "" and "Traceback" not in err  # nothing printed twice after the last line


def test_runtime_log_queries_outside_the_subset_are_refused(server):
    for query in ("DELETE FROM runtime_logs_v1", "ATTACH DATABASE 'x.db' AS x", "PRAGMA table_info(runtime_logs)",
                  "SELECT * FROM variables", "SELECT * FROM runtime_logs_v1; DELETE FROM runtime_logs",
                  "SELECT * FROM runtime_logs_v1 WHERE sqlite_version() = 1"):
        response = server.call("analytics.getRuntimeLogs", {"query": query})
        assert response.status_code == 400, query
        assert response.json()["error"]["type"].startswith("https://unkey.com/docs/errors/user/bad_request/")


def test_a_failed_deploy_shows_the_crashed_containers_last_lines(cli, server):
    result = cli("deploy", "ghcr.io/acme/fail:1", "--project", "acme", "--app", "api", "--env", "preview")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if "runtime log lines" in line)
    assert "last 2 runtime log lines (`unkey logs d_" in lines[start]
    assert lines[start + 2].endswith("ERROR simulated crash: image ghcr.io/acme/fail:1 matches --fail-images")


def test_environment_lookups_answer_with_stable_ids(server):
    create_image_deployment(server, env="production")
    project = server.call("projects.getProject", {"project": "acme"}).json()["data"]
    app = server.call("apps.getApp", {"project": "acme", "app": "api"}).json()["data"]
    env = server.call("environments.getEnvironment",
                      {"project": "acme", "app": "api", "environment": "production"}).json()["data"]
    assert project["id"].startswith("proj_") and app["id"].startswith("app_") and env["id"].startswith("env_")
    assert env["kind"] == "production"
    assert server.call("projects.getProject", {"project": "nope"}).status_code == 404
    assert server.call("environments.getEnvironment",
                       {"project": "acme", "app": "api", "environment": "staging"}).status_code == 404
