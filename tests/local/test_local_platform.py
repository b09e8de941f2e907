"""`unkey projects|apps|environments|domains` against a real `unkey local serve` (simulate runtime) over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.local.conftest import create_image_deployment
from unkey_deploy.api.schemas import check_body


@pytest.fixture
def server(local_server):
    return local_server("--step-delay", "0.02")


@pytest.fixture
def cli(run_cli, server):
    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, input: str | None = None):
        return run_cli(*args, "--api-url", server.url, "--root-key", server.root_key, env=env, cwd=cwd, input=input)

    return run


def ok(result):
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result


def test_full_lifecycle_project_app_settings_domain_deploy_remove(cli, server):
    created = ok(cli("projects", "create", "--slug", "acme", "--name", "Acme Inc"))
    assert "Created project acme (proj_" in created.stdout
    again = cli("projects", "create", "--slug", "acme")
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr

    listed = json.loads(ok(cli("projects", "list", "-o", "json")).stdout)
    assert [(p["slug"], p["name"]) for p in listed] == [("acme", "Acme Inc")]
    assert "Acme Inc" in ok(cli("projects", "get", "acme")).stdout

    app = ok(cli("apps", "create", "--project", "acme", "--slug", "api", "--repository", "acme/api",
                 "--default-branch", "main"))
    assert "Created app acme/api" in app.stdout
    shown = json.loads(ok(cli("apps", "get", "api", "--project", "acme", "-o", "json")).stdout)
    assert shown["git"] == {"repository": "acme/api", "defaultBranch": "main"} and shown["id"].startswith("app_")
    assert "acme/api@main" in ok(cli("apps", "list", "--project", "acme")).stdout

    envs = json.loads(ok(cli("environments", "list", "--project", "acme", "--app", "api", "-o", "json")).stdout)
    assert [e["slug"] for e in envs] == ["production", "preview"]
    assert envs[0]["runtime"]["port"] == 8080

    target = ("--project", "acme", "--app", "api", "--env", "production")
    changed = ok(cli("environments", "set", *target, "--port", "3000", "--healthcheck", "GET:/healthz",
                     "--cpu", "0.5", "--memory", "512", "--command", "node server.js --prod"))
    assert "5 setting(s) to change" in changed.stdout
    assert "Port: 8080 -> 3000" in changed.stdout and "Health check: - -> GET /healthz" in changed.stdout
    settings = json.loads(ok(cli("environments", "settings", *target, "-o", "json")).stdout)
    assert settings["runtime"]["port"] == 3000 and settings["runtime"]["vCpus"] == 0.5
    assert settings["runtime"]["memoryMib"] == 512
    assert settings["runtime"]["command"] == ["node", "server.js", "--prod"]
    assert settings["runtime"]["healthcheck"] == {"method": "GET", "path": "/healthz"}
    same = ok(cli("environments", "set", *target, "--port", "3000", "-o", "json"))
    assert json.loads(same.stdout)["changes"] == {} and "already match" in same.stderr
    text = ok(cli("environments", "settings", *target)).stdout
    assert "Port:" in text and "3000" in text and "GET /healthz" in text

    added = ok(cli("domains", "add", "api.localhost", *target))
    assert "CNAME" in added.stdout and "api.localhost" in added.stdout
    assert "api.localhost is verified" in ok(cli("domains", "verify", "api.localhost")).stdout
    domains = json.loads(ok(cli("domains", "list", *target, "-o", "json")).stdout)
    assert [(d["domain"], d["status"]) for d in domains] == [("api.localhost", "verified")]

    deployment = create_image_deployment(server, project="acme", app="api")
    server.wait_status(deployment, "ready")
    note = json.loads(ok(cli("domains", "get", "api.localhost", "-o", "json")).stdout)["dnsRecords"][0]["note"]
    port = int(note.split("http://api.localhost:")[1].split("/")[0])
    routed = httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": "api.localhost"}, timeout=10)
    assert routed.status_code == 200 and f"{deployment} serves api.localhost" in routed.text
    unknown = httpx.get(f"http://127.0.0.1:{port}/", headers={"Host": "other.localhost"}, timeout=10)
    assert unknown.status_code == 503
    no_yes = cli("domains", "remove", "api.localhost")
    assert no_yes.returncode == 2 and "--yes" in no_yes.stderr
    ok(cli("domains", "remove", "api.localhost", "--yes"))
    assert json.loads(ok(cli("domains", "list", *target, "-o", "json")).stdout) == []
    ok(cli("apps", "delete", "api", "--project", "acme", "--yes"))
    server.wait_status(deployment, "stopped")  # deleting an app stops what it runs
    gone = cli("apps", "get", "api", "--project", "acme")
    assert gone.returncode == 1 and "not found" in gone.stderr
    ok(cli("projects", "delete", "acme", "--yes"))
    assert json.loads(ok(cli("projects", "list", "-o", "json")).stdout) == []


def test_projects_created_by_a_deployment_are_listed_and_paged(cli, server):
    for name in ("p-one", "p-two", "p-three"):
        create_image_deployment(server, project=name, app="api")
    first = ok(cli("projects", "list", "--limit", "2", "-o", "json"))
    assert len(json.loads(first.stdout)) == 2 and "--cursor=" in first.stderr
    cursor = first.stderr.split("--cursor=")[1].split()[0]
    rest = json.loads(ok(cli("projects", "list", "--limit", "2", "--cursor", cursor, "-o", "json")).stdout)
    every = json.loads(ok(cli("projects", "list", "--limit", "1", "--all", "-o", "json")).stdout)
    assert sorted(p["slug"] for p in every) == ["p-one", "p-three", "p-two"]
    assert len(rest) == 1
    bad = cli("projects", "list", "--cursor", "nonsense")
    assert bad.returncode == 2 and "--cursor" in bad.stderr


def test_settings_request_body_holds_only_the_changes(server):
    server.call("projects.createProject", {"name": "A", "slug": "acme"})
    server.call("apps.createApp", {"project": "acme", "name": "api", "slug": "api"})
    body = {"project": "acme", "app": "api", "environment": "preview", "vCpus": 0.3}
    problems = check_body("environments.updateSettings", body)
    assert [p.location for p in problems] == ["vCpus"]
    answer = server.call("environments.updateSettings", body)
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["location"] == "body.vCpus"
    assert server.call("environments.updateSettings", {**body, "vCpus": 1, "healthcheck": None}).status_code == 200
    env = server.call("environments.getEnvironment",
                      {"project": "acme", "app": "api", "environment": "preview"}).json()["data"]
    assert env["runtime"]["vCpus"] == 1 and "healthcheck" not in env["runtime"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("projects", "create", "--slug", "a b"), 2, "--slug"),
        (("projects", "get", "missing"), 1, "not found"),
        (("projects", "delete", "missing"), 2, "--yes"),
        (("projects", "delete", "missing", "--yes"), 1, "not found"),
        (("apps", "list"), 2, "--project is required"),
        (("apps", "create", "--project", "nope", "--slug", "api"), 1, "not found"),
        (("apps", "create", "--project", "acme", "--slug", "api", "--repository", ""), 2, "--repository"),
        (("apps", "create", "--project", "acme", "--slug", "api", "--default-branch", "main"), 2, "--repository"),
        (("environments", "set", "--project", "acme", "--app", "api"), 2, "--env"),
        (("environments", "set", "--project", "acme", "--app", "api", "--env", "production"), 2, "nothing to set"),
        (("environments", "set", "--project", "acme", "--app", "api", "--env", "production", "--cpu", "0.3"), 2,
         "--cpu"),
        (("environments", "set", "--project", "acme", "--app", "api", "--env", "production", "--memory", "300"),
         2, "--memory"),
        (("environments", "set", "--project", "acme", "--app", "api", "--env", "production", "--healthcheck",
          "GET healthz"), 2, "--healthcheck"),
        (("environments", "set", "--project", "acme", "--app", "api", "--env", "staging", "--port", "3000"), 1,
         "not found"),
        (("environments", "settings", "--project", "acme", "--app", "nope"), 1, "not found"),
        (("domains", "add", "http://x.dev/", "--project", "acme", "--app", "api"), 2, "DOMAIN"),
        (("domains", "verify", "nope.localhost"), 1, "not found"),
        (("domains", "remove", "nope.localhost", "--yes"), 1, "not found"),
        (("projects", "list", "--limit", "0"), 2, "--limit"),
        (("projects", "list", "--output", "yaml"), 2, "--output"),
    ],
)
def test_error_paths_are_one_clear_line(cli, server, args, code, message):
    server.call("projects.createProject", {"name": "Acme", "slug": "acme"})
    server.call("apps.createApp", {"project": "acme", "name": "api", "slug": "api"})
    result = cli(*args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_domain_conflicts_and_unverified_domains(cli, server):
    server.call("projects.createProject", {"name": "Acme", "slug": "acme"})
    server.call("apps.createApp", {"project": "acme", "name": "api", "slug": "api"})
    target = ("--project", "acme", "--app", "api", "--env", "preview")
    ok(cli("domains", "add", "shop.example.invalid", *target))
    dup = cli("domains", "add", "shop.example.invalid", *target)
    assert dup.returncode == 1 and "already" in dup.stderr
    verify = cli("domains", "verify", "shop.example.invalid")
    assert verify.returncode == 1
    assert "Still missing" in verify.stdout and "CNAME" in verify.stdout and "not verified yet" in verify.stderr


def test_server_strings_are_printed_safely(cli, server):
    server.call("projects.createProject", {"name": "evil\x1b[31mred\x07", "slug": "acme"})
    listed = ok(cli("projects", "list"))
    assert "\x1b" not in listed.stdout and "\\x1b[31mred" in listed.stdout


def test_settings_as_code_apply_diff_and_dry_run(cli, server, tmp_path):
    server.call("projects.createProject", {"name": "Acme", "slug": "acme"})
    server.call("apps.createApp", {"project": "acme", "name": "api", "slug": "api"})
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "unkey.yaml").write_text(
        "project: acme\napp: api\nenvironments:\n  production:\n    port: 3000\n"
        "    healthcheck: GET /healthz\n    cpu: 0.5\n    memory: 512\n  preview:\n    command: node server.js\n"
    )
    dry = ok(cli("environments", "apply", "--dry-run", cwd=app_dir))
    assert "acme/api/production: 4 setting(s) to change" in dry.stdout and "dry run" in dry.stdout
    env = server.call("environments.getEnvironment",
                      {"project": "acme", "app": "api", "environment": "production"}).json()["data"]
    assert env["runtime"]["port"] == 8080
    applied = json.loads(ok(cli("environments", "apply", "-o", "json", cwd=app_dir)).stdout)
    assert [r["applied"] for r in applied] == [True, True]
    assert applied[0]["changes"]["port"] == {"from": 8080, "to": 3000}
    again = json.loads(ok(cli("environments", "apply", "-o", "json", cwd=app_dir)).stdout)
    assert [r["changes"] for r in again] == [{}, {}]

    (app_dir / "unkey.yaml").write_text("environments:\n  production:\n    port: 3000\n    colour: blue\n")
    bad = cli("environments", "apply", "--project", "acme", cwd=app_dir)
    assert bad.returncode == 2 and "unkey.yaml line 4: environments.production.colour is not a known setting" \
        in bad.stderr
    (app_dir / "unkey.yaml").write_text("environments:\n  production:\n    port: '3000'\n")
    wrong = cli("environments", "apply", "--project", "acme", cwd=app_dir)
    assert wrong.returncode == 2 and "line 3: environments.production.port must be an integer" in wrong.stderr


def test_deploy_applies_the_settings_of_unkey_yaml_first(cli, server, tmp_path):
    server.call("projects.createProject", {"name": "Acme", "slug": "acme"})
    server.call("apps.createApp", {"project": "acme", "name": "api", "slug": "api"})
    app_dir = tmp_path / "deployed"
    app_dir.mkdir()
    (app_dir / "unkey.yaml").write_text(
        "environments:\n  preview:\n    port: 4000\n    memory: 1024\n    domains: [preview.acme.localhost]\n"
    )
    deployed = cli("deploy", "ghcr.io/acme/api:v1", "--project", "acme", "--app", "api", "--env", "preview",
                   cwd=app_dir)
    assert deployed.returncode == 0, deployed.stderr
    out = deployed.stdout
    assert "acme/api/preview: 2 setting(s) to change" in out and "Port: 8080 -> 4000" in out
    assert "Added domain preview.acme.localhost" in out
    assert out.index("Port: 8080 -> 4000") < out.index("Deployment created")
    env = server.call("environments.getEnvironment",
                      {"project": "acme", "app": "api", "environment": "preview"}).json()["data"]
    assert env["runtime"]["port"] == 4000 and env["runtime"]["memoryMib"] == 1024
    again = cli("deploy", "ghcr.io/acme/api:v1", "--project", "acme", "--app", "api", "--env", "preview",
                cwd=app_dir)
    assert again.returncode == 0 and "settings already match" in again.stdout and "Added domain" not in again.stdout

    missing = cli("deploy", "ghcr.io/acme/api:v1", "--project", "acme", "--app", "other", "--env", "preview",
                  cwd=app_dir)
    assert missing.returncode == 2 and "unkey apps create --project acme --slug other" in missing.stderr


def _init_app(tmp_path: Path) -> Path:
    app_dir = tmp_path / "shop-api"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(
        "import http.server\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n"
        "        ok = self.path == '/healthz'\n"
        "http.server.HTTPServer(('0.0.0.0', 3000), H).serve_forever()\n"
    )
    (app_dir / "Procfile").write_text("web: python3 app.py --port 3000\n")
    (app_dir / "requirements.txt").write_text("")
    return app_dir


def test_init_twice_creates_once_and_changes_nothing_the_second_time(cli, server, tmp_path):
    import yaml

    from tests.test_github_workflows import lint

    app_dir = _init_app(tmp_path)
    first = json.loads(ok(cli("init", str(app_dir), "--yes", "-o", "json")).stdout)
    assert first["project"] == "shop-api" and first["app"] == "default" and first["port"] == 3000
    assert first["healthcheck"] == {"method": "GET", "path": "/healthz"}
    assert first["created"] == {"project": True, "app": True}
    assert first["files"] == {"unkey.yaml": "written", ".github/workflows/unkey-deploy.yml": "written"}
    config = yaml.safe_load((app_dir / "unkey.yaml").read_text())
    assert config["project"] == "shop-api"
    assert config["environments"]["production"] == {"port": 3000, "healthcheck": "GET /healthz"}
    workflow = yaml.safe_load((app_dir / ".github/workflows/unkey-deploy.yml").read_text())
    step = workflow["jobs"]["deploy"]["steps"][1]
    assert step["with"]["project"] == "shop-api" and step["with"]["root-key"] == "${{ secrets.UNKEY_ROOT_KEY }}"
    linted = lint(app_dir / ".github/workflows/unkey-deploy.yml", cwd=app_dir)
    assert linted.returncode == 0, linted.stdout + linted.stderr

    before = {p: p.read_bytes() for p in app_dir.rglob("*") if p.is_file()}
    second = json.loads(ok(cli("init", str(app_dir), "--yes", "-o", "json")).stdout)
    assert second["created"] == {"project": False, "app": False}
    assert set(second["files"].values()) == {"unchanged"}
    assert {p: p.read_bytes() for p in app_dir.rglob("*") if p.is_file()} == before

    kept = ok(cli("init", str(app_dir), "--app", "web", "--yes"))
    assert "unkey.yaml: kept" in kept.stdout and "--force" in kept.stdout
    assert yaml.safe_load((app_dir / "unkey.yaml").read_text())["app"] == "default"
    (app_dir / "unkey.yaml").write_text("image: ghcr.io/acme/shop\nproject: shop-api\napp: default\n")
    ok(cli("init", str(app_dir), "--app", "web", "--yes", "--force"))
    merged = yaml.safe_load((app_dir / "unkey.yaml").read_text())
    assert merged["image"] == "ghcr.io/acme/shop" and merged["app"] == "web"
    assert merged["environments"]["preview"]["port"] == 3000

    # unkey.yaml names the project and app, and its settings are applied before the deployment
    deployed = ok(cli("deploy", "ghcr.io/acme/shop:v1", "--env", "production", cwd=app_dir))
    assert "shop-api/web/production: 2 setting(s) to change" in deployed.stdout
    apps = server.call("apps.listApps", {"project": "shop-api"}).json()["data"]
    assert sorted(a["slug"] for a in apps) == ["default", "web"]


def test_init_without_a_terminal_needs_flags_or_yes(cli, server, tmp_path):
    app_dir = _init_app(tmp_path)
    result = cli("init", str(app_dir))
    assert result.returncode == 2 and "--yes" in result.stderr
    assert not (app_dir / "unkey.yaml").exists()
    bad = cli("init", str(app_dir), "--project", "a b", "--yes")
    assert bad.returncode == 2 and "--project" in bad.stderr


def _git(cwd: Path, *args: str) -> str:
    import subprocess

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def make_repository(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    """A bare 'remote' and a clone of it with `files` committed and pushed on main."""
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    remote.mkdir()
    _git(remote, "init", "--quiet", "--bare", "--initial-branch=main")
    _git(tmp_path, "clone", "--quiet", str(remote), str(work))
    _git(work, "checkout", "--quiet", "-b", "main")
    for name, text in files.items():
        (work / name).write_text(text)
    _git(work, "add", ".")
    _git(work, "commit", "--quiet", "-m", "first")
    _git(work, "push", "--quiet", "-u", "origin", "main")
    return remote, work


def test_git_deploy_refusals(cli, server, tmp_path):
    server.call("projects.createProject", {"name": "Acme", "slug": "acme"})
    server.call("apps.createApp", {"project": "acme", "name": "api", "slug": "api"})
    remote, work = make_repository(tmp_path, {"README": "hi\n"})
    target = ("--project", "acme", "--app", "api", "--env", "preview")

    unconnected = cli("deploy", "--git", *target, cwd=work)
    assert unconnected.returncode == 1
    assert "unkey apps create --repository" in unconnected.stderr and "Traceback" not in unconnected.stderr

    (work / "README").write_text("changed\n")
    _git(work, "commit", "--quiet", "-am", "local only")
    unpushed = cli("deploy", "--git", *target, cwd=work)
    assert unpushed.returncode == 2 and "is not pushed to origin/main" in unpushed.stderr
    _git(work, "checkout", "--quiet", "-b", "feature")
    no_branch = cli("deploy", "--git", *target, cwd=work)
    assert no_branch.returncode == 2 and "git push -u origin feature" in no_branch.stderr
    both = cli("deploy", "ghcr.io/acme/api:v1", "--git", *target, cwd=work)
    assert both.returncode == 2 and "leave out IMAGE" in both.stderr

    server.call("apps.createApp", {"project": "acme", "name": "gitapp", "slug": "gitapp",
                                   "git": {"repository": str(remote), "defaultBranch": "main"}})
    missing = cli("deploy", "--git", "--project", "acme", "--app", "gitapp", "--branch", "nope", "--commit",
                  "a" * 40, cwd=tmp_path)
    assert missing.returncode == 1 and "cannot clone branch nope" in missing.stderr


def test_deploy_dry_run_shows_the_settings_and_sends_nothing(cli, server, tmp_path):
    (tmp_path / "unkey.yaml").write_text("environments:\n  preview:\n    port: 4000\n    healthcheck: /ready\n")
    dry = cli("deploy", "ghcr.io/acme/api:v1", "--project", "acme", "--app", "api", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "Port: 4000" in dry.stdout and "Health check: GET /ready" in dry.stdout
    assert server.call("projects.listProjects", {}).json()["data"] == []
