"""Image stage without an engine: builder selection (fake docker clients), the build command, BuildKit
progress parsing, Dockerfile checks, push helpers, and `unkey build` usage errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from unkey_deploy.errors import UsageError
from unkey_deploy.image.build import BuildRequest, build_command
from unkey_deploy.image.builders import Builder, select_builder
from unkey_deploy.image.lint import secret_arg_warnings
from unkey_deploy.image.progress import Masker, PlainProgress
from unkey_deploy.image.push import RegistryAuth, public_registry_warning
from unkey_deploy.image.secrets import BuildVariables, secrets_id
from unkey_deploy.imageref import parse_image
from unkey_deploy.report import Reporter


def fake_docker(directory: Path, version: str, *, buildx: bool = False, engine: bool = True) -> Path:
    """A docker client stand-in: answers `version` and (optionally) `buildx version`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "docker"
    path.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = buildx ]; then {"echo buildx v0.12.0; exit 0" if buildx else "exit 1"}; fi\n'
        'if [ "$1" = version ]; then\n'
        '  case "$3" in *Server*) '
        + ("echo 24.0.0; exit 0" if engine else "echo 'Cannot connect to the Docker daemon at x' >&2; exit 1")
        + ";; esac\n"
        f"  echo {version}; exit 0\n"
        "fi\n"
        "exit 1\n"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_ambient_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("UNKEY_DOCKER_BIN", raising=False)
    monkeypatch.setattr("unkey_deploy.image.builders.WELL_KNOWN", ())


def test_buildx_wins(tmp_path: Path, no_ambient_docker: None) -> None:
    client = fake_docker(tmp_path / "new", "28.2.2", buildx=True)
    assert select_builder(str(client)) == Builder("buildx", str(client), "28.2.2")


def test_old_client_uses_builtin_buildkit(tmp_path: Path, no_ambient_docker: None) -> None:
    client = fake_docker(tmp_path / "old", "20.10.24+dfsg1")
    assert select_builder(str(client)).kind == "buildkit"


def test_prefers_any_buildx_then_an_old_client_over_a_new_one_without_buildx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_ambient_docker: None
) -> None:
    new = fake_docker(tmp_path / "new", "28.2.2")
    old = fake_docker(tmp_path / "old", "20.10.24")
    monkeypatch.setenv("PATH", str(new.parent))
    monkeypatch.setattr("unkey_deploy.image.builders.WELL_KNOWN", (str(old),))
    assert select_builder() == Builder("buildkit", str(old), "20.10.24")


def test_env_var_picks_the_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_ambient_docker: None) -> None:
    client = fake_docker(tmp_path / "old", "20.10.24")
    monkeypatch.setenv("UNKEY_DOCKER_BIN", str(client))
    assert select_builder().docker_bin == str(client)


def test_new_client_without_buildx_says_what_to_install(tmp_path: Path, no_ambient_docker: None) -> None:
    client = fake_docker(tmp_path / "new", "28.2.2")
    with pytest.raises(UsageError) as info:
        select_builder(str(client))
    assert "28.2.2 has no buildx" in info.value.message
    assert "install the Docker buildx plugin" in info.value.message


def test_named_builder_needs_buildx(tmp_path: Path, no_ambient_docker: None) -> None:
    client = fake_docker(tmp_path / "old", "20.10.24")
    with pytest.raises(UsageError, match="--builder remote needs docker buildx"):
        select_builder(str(client), builder="remote")


def test_no_docker_at_all(no_ambient_docker: None) -> None:
    with pytest.raises(UsageError, match="docker not found"):
        select_builder()
    with pytest.raises(UsageError, match="'/nope/docker' not found"):
        select_builder("/nope/docker")


def test_build_command_registers_the_secret_under_both_ids(tmp_path: Path) -> None:
    variables = BuildVariables.merge({"TOKEN": "hunter2-value"})
    request = BuildRequest(tmp_path, "acme/api:v1", variables=variables, build_args={"MODE": "prod"},
                           cache_from=("type=registry,ref=acme/api:cache",))  # fmt: skip
    env_file = tmp_path / "s" / ".env"
    old = build_command(Builder("buildkit", "/usr/bin/docker", "20.10"), request, tmp_path / "Dockerfile",
                        env_file, tmp_path / "iid")  # fmt: skip
    sid = secrets_id(variables)
    assert old[:2] == ["/usr/bin/docker", "build"]
    assert ["--build-arg", f"UNKEY_SECRETS_ID={sid}"] == old[old.index(f"UNKEY_SECRETS_ID={sid}") - 1 :][:2]
    assert f"id={sid},src={env_file}" in old
    assert f"id=${{UNKEY_SECRETS_ID}},src={env_file}" in old
    assert old[old.index("--platform") + 1] == "linux/amd64"
    assert "MODE=prod" in old and "type=registry,ref=acme/api:cache" in old
    assert old[-1] == str(tmp_path)
    assert "hunter2-value" not in " ".join(old)
    new = build_command(Builder("buildx", "docker", "28"), BuildRequest(tmp_path, "a:1", builder="k8s"),
                        tmp_path / "Dockerfile", env_file, tmp_path / "iid")  # fmt: skip
    assert new[:4] == ["docker", "buildx", "build", "--load"] and new[4:6] == ["--builder", "k8s"]


class Recorder(Reporter):
    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def step_started(self, step_id: str, name: str) -> None:
        self.events.append(("start", step_id, name))

    def step_log(self, step_id: str, line: str) -> None:
        self.events.append(("log", step_id, line))

    def step_finished(self, step_id: str, *, ok: bool = True, cached: bool = False, detail: str = "") -> None:
        self.events.append(("end", step_id, ok, cached, detail))


PLAIN_FAILURE = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:b163526296d8
#1 transferring dockerfile: 302B done
#1 DONE 0.0s

#4 [1/3] FROM docker.io/library/debian:bookworm
#4 CACHED

#5 [internal] load build context
#5 transferring context: 1.50kB done
#5 DONE 0.1s

#6 [2/3] RUN echo token is hunter2-value && false
#6 0.403 token is hunter2-value
#6 0.405 second line
#6 ERROR: executor failed running [/bin/sh -c echo token && false]: exit code: 1
------
 > [2/3] RUN echo token && false:
------
executor failed running [/bin/sh -c echo token && false]: exit code: 1
"""


def test_plain_progress_reports_steps_and_the_failure() -> None:
    recorder = Recorder()
    progress = PlainProgress(recorder, Masker(["hunter2-value", "x"]))
    for line in PLAIN_FAILURE.splitlines():
        progress.feed(line + "\n")
    assert ("start", "#1", "[internal] load build definition from Dockerfile") in recorder.events
    assert ("end", "#1", True, False, "0.0s") in recorder.events
    assert ("end", "#4", True, True, "") in recorder.events
    assert ("log", "#6", "token is ***") in recorder.events
    failed = "executor failed running [/bin/sh -c echo token && false]: exit code: 1"
    assert recorder.events[-1] == ("end", "#6", False, False, failed)
    assert progress.context_bytes == 1500
    message, log = progress.failure()
    assert message.startswith("build step `[2/3] RUN echo token is *** && false` failed: executor failed")
    assert log == ["token is ***", "second line"]
    assert "hunter2" not in json.dumps(recorder.events)


def test_failure_without_a_step_uses_the_builder_message() -> None:
    progress = PlainProgress(Reporter(), Masker([]))
    for line in ["#2 [internal] load .dockerignore", "#2 DONE 0.0s",
                 "failed to solve with frontend dockerfile.v0: dockerfile parse error line 2: unknown instruction: X"]:
        progress.feed(line)  # fmt: skip
    assert progress.failure()[0] == (
        "build failed: failed to solve with frontend dockerfile.v0: "
        "dockerfile parse error line 2: unknown instruction: X"
    )


def test_masker_masks_each_line_of_multiline_values() -> None:
    mask = Masker(["first-line\nsecond-line", "ab"])
    assert mask("a first-line b second-line ab") == "a *** b *** ab"


def test_secret_arg_warning_names_the_stage_and_line() -> None:
    dockerfile = """\
ARG UNKEY_SECRETS_ID
FROM node:22 AS builder
ARG UNKEY_SECRETS_ID
RUN --mount=type=secret,id=${UNKEY_SECRETS_ID},target=/run/secrets/.env npm ci
FROM node:22 AS runtime
# a comment
RUN echo hi && \\
    echo continued
RUN --mount=type=cache,target=/root/.npm \\
    --mount=type=secret,id=${UNKEY_SECRETS_ID},target=/run/secrets/.env npm run build
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
"""
    warnings = secret_arg_warnings(dockerfile, "app/Dockerfile")
    assert len(warnings) == 1
    assert warnings[0].startswith("app/Dockerfile:9: RUN mounts the build variables secret but stage runtime")


def test_registry_auth_precedence() -> None:
    assert RegistryAuth.resolve("r", username="u", password="p", environ={}) == RegistryAuth("u", "p", "flag")
    env = {"UNKEY_REGISTRY_USERNAME": "eu", "UNKEY_REGISTRY_PASSWORD": "ep"}
    assert RegistryAuth.resolve("r", environ=env) == RegistryAuth("eu", "ep", "env")
    assert RegistryAuth.resolve("r", environ={}) is None
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "ghs_x", "GITHUB_ACTOR": "octo", "HOME": "/nonexistent"}
    assert RegistryAuth.resolve("ghcr.io", environ=actions) == RegistryAuth("octo", "ghs_x", "GITHUB_TOKEN")
    assert RegistryAuth.resolve("registry.acme.dev", environ=actions) is None
    with pytest.raises(UsageError, match="without a password"):
        RegistryAuth.resolve("r", username="u", environ={})
    assert "p4ss" not in repr(RegistryAuth("u", "p4ss")) + json.dumps(RegistryAuth("u", "p4ss").to_json())


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("127.0.0.1:5001/app:v1", "local or private registry"),
        ("localhost:5000/app:v1", "local or private registry"),
        ("10.0.0.5:5000/app:v1", "local or private registry"),
        ("ghcr.io/acme/api:v1", "make sure ghcr.io/acme/api is public"),
        ("acme/api:v1", None),
    ],
)
def test_public_registry_warning(ref: str, expected: str | None) -> None:
    warning = public_registry_warning(parse_image(ref))
    assert (warning is None) if expected is None else (expected in (warning or ""))


def dockerfile_app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM debian:bookworm\nCMD [\"sh\"]\n")
    return app


def test_invalid_variable_name_fails_before_anything_runs(run_cli, tmp_path: Path) -> None:
    result = run_cli("build", str(dockerfile_app(tmp_path)), "--var", "my.key=1")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --var: invalid variable name 'my.key'")
    assert "valid environment variable names" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_env_file_line(run_cli, tmp_path: Path) -> None:
    app = dockerfile_app(tmp_path)
    (tmp_path / "vars.env").write_text("OK=1\nthis is not dotenv\n")
    result = run_cli("build", str(app), "--env-file", str(tmp_path / "vars.env"))
    assert result.returncode == 2
    assert f"{tmp_path / 'vars.env'}:2: expected NAME=VALUE" in result.stderr


def test_unkey_yaml_variables_are_validated(run_cli, tmp_path: Path) -> None:
    app = dockerfile_app(tmp_path)
    (app / "unkey.yaml").write_text("variables:\n  my.key: 1\n")
    result = run_cli("build", str(app))
    assert result.returncode == 2
    assert "invalid variable name 'my.key'" in result.stderr


def test_dry_run_without_an_engine_prints_the_plan_then_exits_4(run_cli, tmp_path: Path) -> None:
    client = fake_docker(tmp_path / "bin", "20.10.24", engine=False)
    app = tmp_path / "site"
    app.mkdir()
    (app / "index.html").write_text("<h1>hi</h1>\n")
    result = run_cli("build", str(app), "-t", "acme/site:v1", "--dry-run", "--var", "TOKEN=hunter2-value",
                     env={"UNKEY_DOCKER_BIN": str(client)})  # fmt: skip
    assert result.returncode == 4, result.stderr
    assert "Dockerfile (generated):" in result.stdout
    assert '"tag": "acme/site:v1"' in result.stdout
    assert '"names": [\n      "TOKEN"' in result.stdout
    assert "cannot reach the Docker engine" in result.stderr
    assert "hunter2-value" not in result.stdout + result.stderr


def test_no_usable_builder_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    client = fake_docker(tmp_path / "bin", "28.2.2")
    result = run_cli("build", str(dockerfile_app(tmp_path)), env={"UNKEY_DOCKER_BIN": str(client)})
    assert result.returncode == 2
    assert "install the Docker buildx plugin" in result.stderr


def test_build_help_has_examples(run_cli) -> None:
    result = run_cli("build", "--help")
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "--registry-password-stdin" in result.stdout


def test_generated_dockerignore_adds_what_git_ignores_before_the_users_own(tmp_path: Path) -> None:
    import subprocess

    from unkey_deploy.image.build import _merged_dockerignore, git_ignored

    (tmp_path / ".gitignore").write_text(".venv\n*.pyc\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("")
    (tmp_path / "app.pyc").write_text("")
    (tmp_path / "app.py").write_text("")
    assert git_ignored(tmp_path) == []  # not a git work tree yet
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert sorted(git_ignored(tmp_path)) == ["/.venv", "/app.pyc"]
    (tmp_path / ".dockerignore").write_text("!app.pyc\n")
    merged = _merged_dockerignore(tmp_path, "node_modules\n").splitlines()
    assert merged[0] == "node_modules" and merged[-1] == "!app.pyc"
    assert "/.venv" in merged


def test_unpullable_base_image_says_how_to_remap_it() -> None:
    progress = PlainProgress(Reporter(), Masker([]))
    for line in ["#3 [internal] load metadata for docker.io/library/python:3.12-slim",
                 "#3 ERROR: failed to do request: Head \"https://registry-1.docker.io/v2/\": no such host"]:
        progress.feed(line)  # fmt: skip
    message, log = progress.failure()
    assert message.startswith("build step `[internal] load metadata for docker.io/library/python:3.12-slim` failed")
    assert any("UNKEY_BASE_IMAGES" in line and "build.baseImages" in line for line in log)
