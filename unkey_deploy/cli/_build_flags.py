"""The build flags `unkey build` and `unkey deploy --build` share (--env-file, --var, --build-arg, --platform,
the cache, builder and registry flags), as one flag group and the `BuildSettings` they make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unkey_deploy.cli import _common as common
from unkey_deploy.cli import options

if TYPE_CHECKING:
    from unkey_deploy.build_stage import BuildSettings


@dataclass(frozen=True)
class BuildFlags:
    """The shared build flags of one command line (see `build_flags`)."""

    env_file: list[Path] | None = None
    var: list[str] | None = None
    build_arg: list[str] | None = None
    platform: str = "linux/amd64"
    cache_from: list[str] | None = None
    cache_to: list[str] | None = None
    builder: str | None = None
    docker_bin: str | None = None
    builder_backend: str | None = None
    registry_username: str | None = field(default=None, repr=False)
    registry_password_stdin: bool = False

    def settings(self, context: Path, *, read_password: bool, **more: Any) -> BuildSettings:
        """The build's settings: these flags, and `more` (image, root_dir, ...). The registry password is read
        from stdin when --registry-password-stdin is given and `read_password` (the build pushes)."""
        from unkey_deploy.build_stage import BuildSettings
        from unkey_deploy.cli._deploy import read_password_stdin

        return BuildSettings(
            context=context, env_files=tuple(self.env_file or ()), var_flags=tuple(self.var or ()),
            build_args=tuple(self.build_arg or ()), platform=self.platform, cache_from=tuple(self.cache_from or ()),
            cache_to=tuple(self.cache_to or ()), builder=self.builder, docker_bin=self.docker_bin,
            builder_backend=self.builder_backend, registry_username=self.registry_username,
            registry_password=read_password_stdin() if self.registry_password_stdin and read_password else None,
            **more,
        )  # fmt: skip


BUILD_FLAGS: common.FlagGroups = {
    "build_flags": (BuildFlags, (
        ("env_file", options.EnvFile, None), ("var", options.Var, None), ("build_arg", options.BuildArg, None),
        ("platform", options.Platform, "linux/amd64"), ("cache_from", options.CacheFrom, None),
        ("cache_to", options.CacheTo, None), ("builder", options.Builder, None),
        ("docker_bin", options.DockerBin, None), ("builder_backend", options.BuilderBackend, None),
        ("registry_username", options.RegistryUsername, None),
        ("registry_password_stdin", options.RegistryPasswordStdin, False),
    )),
}  # fmt: skip


def build_flags(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with its `build_flags: BuildFlags` parameter replaced by the shared build flags."""
    return common.with_flag_groups(BUILD_FLAGS, command)
