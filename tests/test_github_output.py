"""`unkey deploy` on GitHub Actions and GitLab CI: step outputs, job summary, annotations, dotenv report,
and the GitHub reporter's groups."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest

from tests.actions_harness import parse_file_commands, read_commands
from tests.fakeapi import envelope, serve
from unkey_deploy.report.github import GitHubReporter, error_annotation

IMAGE = "ghcr.io/acme/api@sha256:" + "ab" * 32
SHA = "0123456789abcdef0123456789abcdef01234567"
HOSTNAMES = ["acme-api-git-0123456-ws.unkey.app", "acme-api-production-ws.unkey.app", "acme-api-ws.unkey.app"]


@pytest.fixture
def api():
    with serve() as fake:
        yield fake


@pytest.fixture
def github_env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "output").write_text("")
    return {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_SHA": SHA, "GITHUB_REF_NAME": "main",
            "GITHUB_REPOSITORY": "acme/api", "GITHUB_SERVER_URL": "https://github.example.com"}


def deploy(run_cli, api, env, *extra: str):
    return run_cli("deploy", IMAGE, "--project=acme", "--app=api", "--env=production", f"--api-base-url={api.url}",
                   "--root-key=unkey_secretroot123", *extra, env=env)


def answer(api, status: str, **data):
    api.on("deploy.createDeployment", (201, envelope({"deploymentId": "d_1"}), {}))
    api.on("deploy.getDeployment", (200, envelope({"id": "d_1", "status": status, **data}), {}))


def test_outputs_use_heredoc_delimiters_and_the_environment_domain(run_cli, api, github_env, tmp_path):
    answer(api, "READY", hostnames=HOSTNAMES)
    result = deploy(run_cli, api, github_env)
    assert result.returncode == 0, result.stderr

    raw = (tmp_path / "output").read_text()
    assert re.match(r"deployment-id<<ghadelimiter_[0-9a-f]{32}\nd_1\nghadelimiter_[0-9a-f]{32}\n", raw)
    outputs = parse_file_commands(raw)
    assert outputs == {
        "deployment-id": "d_1",
        "status": "READY",
        "url": "https://acme-api-production-ws.unkey.app",
        "hostnames": json.dumps(HOSTNAMES, separators=(",", ":")),
        "image": IMAGE,
    }
    summary = (tmp_path / "summary").read_text()
    assert "### ✅ Deployed acme/api to production" in summary
    assert f"[0123456](https://github.example.com/acme/api/commit/{SHA})" in summary
    assert all(f"(https://{h})" in summary for h in HOSTNAMES)
    assert "::" not in result.stdout + result.stderr  # no annotation on success
    assert "unkey_secretroot123" not in raw + summary + result.stdout + result.stderr


def test_failure_annotates_and_keeps_json_stdout_clean(run_cli, api, github_env, tmp_path):
    answer(api, "FAILED", errorMessage="Failed to pull image: authentication required\nretry later",
           steps=[{"status": "deploying", "message": "Pulling image"},
                  {"status": "failed", "message": "Deployment failed", "errorMessage": "pull denied"}])
    result = deploy(run_cli, api, github_env, "--output=json")

    assert result.returncode == 1
    assert json.loads(result.stdout)["status"] == "FAILED"
    [annotation] = read_commands(result.stderr).annotations
    assert annotation.level == "error"
    assert annotation.properties == {"title": "unkey deploy failed (deploy)"}
    assert "authentication required\\nretry later" in annotation.message  # a server newline never splits it
    summary = (tmp_path / "summary").read_text()
    assert "| Failed step | Pulling image |" in summary
    assert "authentication required\\nretry later" in html.unescape(summary)
    assert parse_file_commands((tmp_path / "output").read_text())["status"] == "FAILED"


def test_error_before_a_deployment_gets_a_failure_summary(run_cli, github_env, tmp_path):
    result = run_cli("deploy", "ghcr.io/acme/api:v1", "--project=acme", "--root-key=k",
                     "--api-base-url=http://127.0.0.1:9", "--timeout=1", env=github_env)
    assert result.returncode == 1
    assert "::error title=unkey deploy failed (API request)::cannot reach" in result.stderr
    assert "| Failed step | API request |" in (tmp_path / "summary").read_text()
    assert (tmp_path / "output").read_text() == ""


def test_nothing_is_written_outside_ci(run_cli, api, github_env, tmp_path):
    answer(api, "READY", hostnames=HOSTNAMES)
    env = {**github_env, "GITHUB_ACTIONS": ""}
    result = deploy(run_cli, api, env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "output").read_text() == ""
    assert not (tmp_path / "summary").exists()


def test_gitlab_gets_a_dotenv_report(run_cli, api, tmp_path):
    answer(api, "READY", hostnames=HOSTNAMES)
    env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": SHA, "CI_COMMIT_REF_NAME": "feature/x",
           "UNKEY_DOTENV": str(tmp_path / "deploy.env")}
    result = deploy(run_cli, api, env)
    assert result.returncode == 0, result.stderr

    assert (tmp_path / "deploy.env").read_text().splitlines() == [
        "UNKEY_DEPLOYMENT_ID=d_1",
        "UNKEY_DEPLOYMENT_STATUS=READY",
        "UNKEY_DEPLOYMENT_URL=https://acme-api-production-ws.unkey.app",
        f"UNKEY_DEPLOYMENT_HOSTNAMES={json.dumps(HOSTNAMES, separators=(',', ':'))}",
        f"UNKEY_DEPLOYMENT_IMAGE={IMAGE}",
    ]
    body = api.calls("deploy.createDeployment")[0].body
    assert body["branch"] == "feature/x" and body["gitCommit"]["commitSha"] == SHA


def test_reporter_groups_step_logs_and_ignores_commands_inside_them():
    stream = io.StringIO()
    reporter = GitHubReporter(stream)
    reporter.step_started("build", "Build image")
    reporter.step_log("build", "RUN npm ci")
    reporter.step_log("build", "::add-mask::not-a-mask")
    reporter.step_finished("build", detail="12.0s")
    reporter.group("Push")
    reporter.step_started("push", "Push layers")
    reporter.step_log("push", "::error::fake")
    reporter.step_finished("push", ok=False, detail="denied")
    reporter.close()

    text = stream.getvalue()
    assert text.count("::group::") == 2 and text.count("::endgroup::") == 2
    assert text.index("::group::Build image") < text.index("RUN npm ci") < text.index("::endgroup::")
    read = read_commands(text)
    assert read.masks == [] and read.annotations == []
    assert any("✗" in line and "denied" in line for line in read.log) and "    ::error::fake" in read.log


def test_annotation_escapes_newlines_and_property_separators():
    line = error_annotation("50% done\nthen failed", "build, push: failed")
    assert line == "::error title=build%2C push%3A failed::50%25 done%0Athen failed"
