"""Flags shared by several commands, defined once: the build flags of `unkey build` and
`unkey deploy --build`, and the API flags of every command that calls Unkey."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Output(StrEnum):
    text = "text"
    json = "json"


def timeout_seconds(value: float) -> float:
    """--timeout (or UNKEY_TIMEOUT): a finite number of seconds, at least 1 (nan, inf and negatives are not)."""
    import math

    if not math.isfinite(value) or value < 1:
        raise typer.BadParameter(f"--timeout (or UNKEY_TIMEOUT) must be a number of seconds of at least 1, got {value}")
    return value


# -- API -------------------------------------------------------------------------------------------
RootKey = Annotated[
    str | None,
    typer.Option("--root-key", envvar="UNKEY_ROOT_KEY", metavar="KEY",
                 help="Root key [default: UNKEY_ROOT_KEY, then root_key in the config file]."),
]  # fmt: skip
ApiUrl = Annotated[
    str | None,
    typer.Option("--api-url", "--api-base-url", envvar="UNKEY_API_BASE_URL", metavar="URL",
                 help="API base URL [default: api_url in the config file, then https://api.unkey.com]."),
]  # fmt: skip
ConfigPath = Annotated[
    Path | None,
    typer.Option("--config", envvar="UNKEY_CONFIG", metavar="PATH",
                 help="Config file [default: ~/.unkey/config.toml]."),
]  # fmt: skip
Local = Annotated[bool, typer.Option("--local", help="Use the local control plane (`unkey local`).")]
Verbose = Annotated[bool, typer.Option("--verbose", "--debug", help="Show more detail (every build log line).")]
# -- following a deployment to the end (`deploy`, `deployments redeploy` and `wait`) ------------------------
DeployTimeout = Annotated[
    float,
    typer.Option(envvar="UNKEY_TIMEOUT", help="Seconds to wait for READY.", callback=timeout_seconds),
]  # fmt: skip
ResultOutput = Annotated[Output, typer.Option(help="text, or json: one JSON object on stdout at the end.")]
FollowVerbose = Annotated[bool, typer.Option("--verbose", "--debug", help="Show more detail.")]

# -- build -----------------------------------------------------------------------------------------
RootDir = Annotated[
    str | None,
    typer.Option("--root-dir", metavar="DIR",
                 help="The app's directory inside the context, for monorepos (e.g. apps/api)."),
]  # fmt: skip
Dockerfile = Annotated[Path | None, typer.Option("--dockerfile", metavar="PATH", help="Build with this Dockerfile.")]
EnvFile = Annotated[
    list[Path] | None,
    typer.Option("--env-file", metavar="FILE", help="Build variables from a dotenv file (repeatable)."),
]
Var = Annotated[
    list[str] | None,
    typer.Option("--var", metavar="KEY[=VALUE]",
                 help="Build variable KEY=VALUE, or KEY to take it from the environment (repeatable)."),
]  # fmt: skip
BuildArg = Annotated[
    list[str] | None,
    typer.Option("--build-arg", metavar="KEY=VALUE", help="Docker build argument KEY=VALUE (repeatable; not secret)."),
]  # fmt: skip
Platform = Annotated[
    str, typer.Option("--platform", envvar="UNKEY_PLATFORM", metavar="OS/ARCH", help="Target platform.")
]
CacheFrom = Annotated[list[str] | None, typer.Option("--cache-from", metavar="SPEC", help="External cache source.")]
CacheTo = Annotated[list[str] | None, typer.Option("--cache-to", metavar="SPEC", help="Cache export (needs buildx).")]
Builder = Annotated[
    str | None,
    typer.Option("--builder", metavar="NAME", envvar="UNKEY_BUILDER", help="buildx builder, e.g. a remote BuildKit."),
]  # fmt: skip
BuilderBackend = Annotated[
    str | None,
    typer.Option("--builder-backend", metavar="docker|buildah|podman|auto", envvar="UNKEY_BUILDER_BACKEND",
                 help="What builds: the Docker engine, buildah or podman (no daemon); auto by default."),
]  # fmt: skip
DockerBin = Annotated[
    str | None,
    typer.Option("--docker-bin", metavar="PATH", envvar="UNKEY_DOCKER_BIN", help="The docker client to build with."),
]  # fmt: skip
RegistryUsername = Annotated[
    str | None,
    typer.Option("--registry-username", metavar="USER", envvar="UNKEY_REGISTRY_USERNAME",
                 help="Registry user (password: --registry-password-stdin or UNKEY_REGISTRY_PASSWORD)."),
]  # fmt: skip
RegistryPasswordStdin = Annotated[
    bool, typer.Option("--registry-password-stdin", help="Read the registry password from stdin.")
]
MaxContext = Annotated[
    str,
    typer.Option("--max-context", metavar="SIZE", envvar="UNKEY_MAX_CONTEXT",
                 help="Refuse to build a context larger than this, e.g. 500MB or 2GB."),
]  # fmt: skip
