"""Build backend selection and the buildah/podman command line (no daemon needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from unkey_deploy.errors import UsageError
from unkey_deploy.image import backends, daemonless
from unkey_deploy.image.backends import Backend, requested, resolve
from unkey_deploy.image.build import BuildRequest
from unkey_deploy.image.secrets import BuildVariables, secrets_id


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("UNKEY_BUILDER_BACKEND", "DOCKER_HOST", "UNKEY_DOCKER_BIN"):
        monkeypatch.delenv(name, raising=False)


def test_flag_then_env_then_unkey_yaml_then_auto(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"build": {"backend": "podman"}}
    assert requested(None) == "auto"
    assert requested(None, config) == "podman"
    monkeypatch.setenv("UNKEY_BUILDER_BACKEND", "Buildah")
    assert requested(None, config) == "buildah"
    assert requested("docker", config) == "docker"


def test_unknown_backend_names_the_source_and_the_choices(clean_env: None) -> None:
    with pytest.raises(UsageError, match=r"apps/unkey.yaml build.backend: unknown build backend 'kaniko'; use one of"):
        requested(None, {"build": {"backend": "kaniko"}}, "apps/unkey.yaml")
    with pytest.raises(UsageError, match="--builder-backend: unknown build backend 'dockr'"):
        requested("dockr")


def test_named_daemonless_backend_that_is_missing(clean_env: None, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="buildah is not installed; install buildah or podman"):
        resolve("buildah")


def test_buildx_builder_needs_docker(clean_env: None) -> None:
    with pytest.raises(UsageError, match="needs --builder-backend docker"):
        resolve("podman", builder="remote")


def test_auto_keeps_to_docker_when_docker_is_asked_for(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    assert resolve("auto") == Backend("docker", None, "DOCKER_HOST is set")
    monkeypatch.delenv("DOCKER_HOST")
    assert resolve("auto", builder="k8s").reason == "--builder is set"


def test_auto_falls_back_to_buildah_then_podman(clean_env: None, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setattr(backends, "docker_problem", lambda: "Cannot connect to the Docker daemon")
    for name in ("buildah", "podman"):
        program = tmp_path / name
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert resolve("auto").kind == "buildah"
    os.remove(tmp_path / "buildah")
    chosen = resolve("auto")
    assert (chosen.kind, chosen.binary) == ("podman", str(tmp_path / "podman"))
    assert chosen.reason == "no Docker engine (Cannot connect to the Docker daemon) and podman is installed"
    os.remove(tmp_path / "podman")
    assert resolve("auto").kind == "docker"  # nothing else: docker, whose error then says what is wrong


def test_daemonless_command_names_the_secret_file_under_both_ids(tmp_path: Path) -> None:
    variables = BuildVariables.merge({"TOKEN": "hunter2-value"})
    request = BuildRequest(tmp_path, "acme/api:v1", variables=variables, build_args={"MODE": "prod"},
                           cache_from=("type=registry,ref=acme/api:cache",), cache_to=("acme/api:cache",))  # fmt: skip
    env_file = tmp_path / "s" / ".env"
    ignore = tmp_path / "Dockerfile.dockerignore"
    command = daemonless.build_command(Backend("buildah", "/usr/bin/buildah"), request, tmp_path / "Dockerfile",
                                       env_file, tmp_path / "iid", ignore)  # fmt: skip
    sid = secrets_id(variables)
    assert command[:2] == ["/usr/bin/buildah", "build"]
    assert f"UNKEY_SECRETS_ID={sid}" in command
    assert f"id={sid},src={env_file}" in command and f"id=${{UNKEY_SECRETS_ID}},src={env_file}" in command
    assert command[command.index("--ignorefile") + 1] == str(ignore)
    assert command[command.index("--cache-from") + 1] == "acme/api:cache"
    assert command[command.index("--cache-to") + 1] == "acme/api:cache"
    assert not any(part.startswith("--pull") for part in command)
    assert "hunter2-value" not in " ".join(command)
    assert command[-1] == str(tmp_path)


def test_local_cache_is_refused_with_what_works() -> None:
    with pytest.raises(UsageError, match="only a registry cache"):
        daemonless.cache_repository("type=local,dest=/tmp/c", "--cache-to")


def test_base_images_leave_out_stages_args_and_scratch() -> None:
    text = (
        "ARG BASE=python:3.12\n"
        "FROM --platform=linux/amd64 node:22 AS deps\n"
        "FROM deps AS build\n"
        "from ${BASE} as py\n"
        "FROM scratch\n"
        "FROM gcr.io/distroless/static-debian12\n"
        "FROM node:22\n"
    )
    assert daemonless.base_images(text) == ["node:22", "gcr.io/distroless/static-debian12"]


def test_ignore_file_prefers_the_one_beside_the_dockerfile(tmp_path: Path) -> None:
    request = BuildRequest(tmp_path, "a:1")
    assert daemonless.ignore_file(request, tmp_path / "Dockerfile") is None
    (tmp_path / ".dockerignore").write_text("x\n")
    assert daemonless.ignore_file(request, tmp_path / "Dockerfile") == tmp_path / ".dockerignore"
    (tmp_path / "api.Dockerfile").write_text("FROM x\n")
    (tmp_path / "api.Dockerfile.dockerignore").write_text("y\n")
    assert daemonless.ignore_file(request, tmp_path / "api.Dockerfile") == tmp_path / "api.Dockerfile.dockerignore"


def test_unknown_backend_on_the_command_line_is_one_line_exit_2(run_cli, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = run_cli("build", str(tmp_path), "-t", "a/b:1", "--builder-backend", "kaniko")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unknown build backend 'kaniko'" in result.stderr
    assert "Traceback" not in result.stderr


def test_base_images_get_the_full_names_docker_gives_them() -> None:
    text = (
        "FROM --platform=linux/amd64 node:22 AS deps\n"
        "FROM deps AS build\n"
        "FROM ${BASE}\n"
        "FROM scratch\n"
        "FROM ghcr.io/acme/base:1\n"
        "FROM localhost:5000/base\n"
        "FROM acme/base:2 AS run\n"
        "RUN echo FROM python\n"
    )
    assert daemonless.qualify_from(text) == (
        "FROM --platform=linux/amd64 docker.io/library/node:22 AS deps\n"
        "FROM deps AS build\n"
        "FROM ${BASE}\n"
        "FROM scratch\n"
        "FROM ghcr.io/acme/base:1\n"
        "FROM localhost:5000/base\n"
        "FROM docker.io/acme/base:2 AS run\n"
        "RUN echo FROM python\n"
    )


def test_unkey_yaml_backend_is_read_and_checked(run_cli, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "unkey.yaml").write_text("build:\n  backend: kaniko\n")
    result = run_cli("build", str(tmp_path), "-t", "a/b:1", "--dry-run")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unkey.yaml build.backend: unknown build backend 'kaniko'" in result.stderr
    (tmp_path / "unkey.yaml").write_text("build:\n  backend: podman\n")
    result = run_cli("build", str(tmp_path), "-t", "a/b:1", "--dry-run", "--builder-backend", "kaniko2")
    assert "--builder-backend: unknown build backend 'kaniko2'" in result.stderr  # the flag wins
