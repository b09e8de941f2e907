"""`unkey build` against the real engine: build variables reach the RUN step exactly and leak nowhere."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import unkey_bin

pytestmark = pytest.mark.docker

# Distinctive values (each 20+ characters, so a match in image bytes is no coincidence).
VALUES = {
    "REQUIRED": "present-Vq8Lr3Kd9Xw2Nt5",
    "NEWLINES": "Vq8Lr3 line one\nVq8Lr3 line two\n\nlast",
    "HASHED": "Vq8Lr3Kd # not = a comment",
    "QUOTES": """it's "Vq8Lr3Kd9" 'quoted' \\ $HOME""",
    "SPACES": "   Vq8Lr3Kd9 lead and trail   ",
}
ENV_FILE = (
    f"REQUIRED={VALUES['REQUIRED']}\n"
    'NEWLINES="Vq8Lr3 line one\\nVq8Lr3 line two\\n\\nlast"\n'
    f"HASHED='{VALUES['HASHED']}'\n"
)
# Written as the docs show: the secret id is the UNKEY_SECRETS_ID build argument.
DOCS_DOCKERFILE = """\
FROM {base}
ARG UNKEY_SECRETS_ID
RUN echo {nonce}
RUN --mount=type=secret,id=${{UNKEY_SECRETS_ID}},target=/run/secrets/.env \\
    set -a && . /run/secrets/.env && set +a && \\
    test -n "$REQUIRED" || {{ echo "REQUIRED is not set" >&2; exit 3; }}; \\
    mkdir -p /seen && for name in {names}; do \\
      eval "value=\\"\\$$name\\""; printf %s "$value" | sha256sum | cut -d' ' -f1 > "/seen/$name"; \\
    done
{extra}CMD ["sh"]
"""


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def write_app(directory: Path, base: str, *, arg: bool = True, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = DOCS_DOCKERFILE.format(base=base, nonce=uuid.uuid4().hex, names=" ".join(VALUES), extra=extra)
    if not arg:
        text = text.replace("ARG UNKEY_SECRETS_ID\n", "")
    (directory / "Dockerfile").write_text(text)
    (directory / "build.env").write_text(ENV_FILE)
    return directory


def cli_args(app: Path, tag: str, *extra: str) -> list[str]:
    return ["build", str(app), "-t", tag, "--env-file", str(app / "build.env"),
            "--var", f"QUOTES={VALUES['QUOTES']}", "--var", "SPACES", "--debug", *extra]  # fmt: skip


def env_for(private_tmp: Path, base_images: dict[str, str]) -> dict[str, str]:
    return {"TMPDIR": str(private_tmp), "SPACES": VALUES["SPACES"], "UNKEY_BASE_IMAGES": json.dumps(base_images)}


def leaked_values(data: bytes | str) -> list[str]:
    blob = data.encode() if isinstance(data, str) else data
    pieces = {p for v in VALUES.values() for p in v.splitlines() if len(p.strip()) >= 8}
    return sorted(p for p in pieces if p.encode() in blob)


def assert_no_leftovers(private_tmp: Path) -> None:
    left = [str(p.relative_to(private_tmp)) for p in private_tmp.rglob("*")]
    assert not [p for p in left if "unkey" in p], f"temp files left behind: {left}"
    for path in private_tmp.rglob("*"):
        if path.is_file():
            assert not leaked_values(path.read_bytes()), path


def docker(docker_engine: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([docker_engine, *args], capture_output=True, check=True, timeout=300)


def test_docs_dockerfile_sees_every_variable_exactly_and_leaks_none(
    run_cli, tmp_path: Path, private_tmp: Path, docker_engine: str, base_images: dict[str, str]
) -> None:
    app = write_app(tmp_path / "app", base_images["debian"])
    tag = f"unkey-test/secrets:{uuid.uuid4().hex[:8]}"
    result = run_cli(*cli_args(app, tag), env=env_for(private_tmp, base_images), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == tag
    try:
        for name, value in VALUES.items():
            seen = docker(docker_engine, "run", "--rm", tag, "cat", f"/seen/{name}").stdout.decode().strip()
            assert seen == sha(value), f"{name} did not arrive intact"
        history = docker(docker_engine, "history", "--no-trunc", tag).stdout
        inspect = docker(docker_engine, "inspect", tag).stdout
        saved = docker(docker_engine, "save", tag).stdout
        assert b"UNKEY_SECRETS_ID=" in history  # the id (a hash) is visible, the values are not
        for where, data in {"history": history, "inspect": inspect, "save": saved,
                            "output": result.stdout + result.stderr}.items():  # fmt: skip
            assert not leaked_values(data), f"value found in {where}"
        assert_no_leftovers(private_tmp)
    finally:
        subprocess.run([docker_engine, "rmi", "-f", tag], capture_output=True)


def test_same_variables_reuse_the_cache_and_a_change_reruns_the_step(
    run_cli, tmp_path: Path, private_tmp: Path, docker_engine: str, base_images: dict[str, str]
) -> None:
    app = write_app(tmp_path / "app", base_images["debian"])
    tag = f"unkey-test/secrets-cache:{uuid.uuid4().hex[:8]}"
    env = env_for(private_tmp, base_images)
    try:
        assert run_cli(*cli_args(app, tag), env=env, timeout=300).returncode == 0
        again = run_cli(*cli_args(app, tag), env=env, timeout=300)
        assert again.returncode == 0
        assert "mkdir -p /seen" in again.stderr and "(cached)" in again.stderr.split("mkdir -p /seen")[1].split("→")[0]
        changed = run_cli(*cli_args(app, tag), env={**env, "SPACES": "changed value"}, timeout=300)
        assert changed.returncode == 0
        after = changed.stderr.split("mkdir -p /seen")[1].split("→")[0]
        assert "(cached)" not in after
    finally:
        subprocess.run([docker_engine, "rmi", "-f", tag], capture_output=True)


def test_failed_build_names_the_step_and_leaks_nothing(
    run_cli, tmp_path: Path, private_tmp: Path, docker_engine: str, base_images: dict[str, str]
) -> None:
    app = write_app(tmp_path / "app", base_images["debian"])
    (app / "build.env").write_text(ENV_FILE.replace(f"REQUIRED={VALUES['REQUIRED']}\n", ""))
    result = run_cli(*cli_args(app, "unkey-test/fails:1"), env=env_for(private_tmp, base_images), timeout=300)
    assert result.returncode == 4, result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "set -a" in error[0] and "failed" in error[0]
    assert "REQUIRED is not set" in result.stderr  # the failing step's last log lines
    assert "Traceback" not in result.stderr
    assert not leaked_values(result.stdout + result.stderr)
    assert_no_leftovers(private_tmp)


def test_sigint_during_build_exits_130_and_removes_the_secret(
    tmp_path: Path, private_tmp: Path, cli_env: dict[str, str], docker_engine: str, base_images: dict[str, str]
) -> None:
    app = write_app(tmp_path / "app", base_images["debian"], extra="RUN echo sleeping-now && sleep 120\n")
    env = {**cli_env, **env_for(private_tmp, base_images)}
    process = subprocess.Popen([*unkey_bin(), *cli_args(app, "unkey-test/interrupted:1")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stderr is not None
    lines = []
    deadline = time.monotonic() + 240
    for line in process.stderr:
        lines.append(line)
        if "sleeping-now" in line and "RUN" not in line or time.monotonic() > deadline:
            break
    secret_dirs = list(private_tmp.glob("unkey-secrets-*"))
    assert secret_dirs, "the secret file should exist while the build runs"
    process.send_signal(signal.SIGINT)
    rest = process.communicate(timeout=60)[1]
    assert process.returncode == 130, "".join(lines) + rest
    assert "interrupted" in rest
    assert not leaked_values("".join(lines) + rest)
    assert_no_leftovers(private_tmp)


def test_sigterm_during_build_removes_the_secret(
    tmp_path: Path, private_tmp: Path, cli_env: dict[str, str], docker_engine: str, base_images: dict[str, str]
) -> None:
    app = write_app(tmp_path / "app", base_images["debian"], extra="RUN echo sleeping-now && sleep 120\n")
    env = {**cli_env, **env_for(private_tmp, base_images)}
    process = subprocess.Popen([*unkey_bin(), *cli_args(app, "unkey-test/terminated:1")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stderr is not None
    for line in process.stderr:
        if "sleeping-now" in line and "RUN" not in line:
            break
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 143  # 128 + SIGTERM, cleaned up like Ctrl-C
    assert_no_leftovers(private_tmp)


def test_stage_without_arg_warns_with_the_line(
    run_cli, tmp_path: Path, private_tmp: Path, docker_engine: str, base_images: dict[str, str]
) -> None:
    app = write_app(tmp_path / "app", base_images["debian"], arg=False)
    tag = f"unkey-test/no-arg:{uuid.uuid4().hex[:8]}"
    result = run_cli(*cli_args(app, tag), env=env_for(private_tmp, base_images), timeout=300)
    try:
        assert result.returncode == 0, result.stderr
        assert f"{app / 'Dockerfile'}:3: RUN mounts the build variables secret" in result.stderr
        assert "ARG UNKEY_SECRETS_ID" in result.stderr
    finally:
        subprocess.run([docker_engine, "rmi", "-f", tag], capture_output=True)


def test_generated_dockerfile_for_the_python_example_dry_run(
    run_cli, private_tmp: Path, docker_engine: str, base_images: dict[str, str]
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "python-http"
    tag = f"unkey-test/python-http:{uuid.uuid4().hex[:8]}"
    env = {"TMPDIR": str(private_tmp), "UNKEY_BASE_IMAGES": json.dumps(base_images)}
    result = run_cli("build", str(example), "-t", tag, "--dry-run", "--push", env=env, timeout=600)
    try:
        assert result.returncode == 0, result.stderr
        assert "Dockerfile (generated):" in result.stdout
        assert f"FROM {base_images['python']}" in result.stdout
        assert '"platform": "linux/amd64"' in result.stdout
        assert "nothing is pushed" in result.stdout
        assert result.stdout.strip().endswith(tag)
        docker(docker_engine, "image", "inspect", tag)
        assert_no_leftovers(private_tmp)
    finally:
        subprocess.run([docker_engine, "rmi", "-f", tag], capture_output=True)
