"""Settings with one precedence rule: flag > environment > config file.

Two files are read: the user's `~/.unkey/config.toml` (root key, API URL) and the project's
`unkey.yaml` (image repository, build variables, base image remaps).
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unkey_deploy.errors import ConfigError, UsageError

DEFAULT_API_URL = "https://api.unkey.com"
DEFAULT_LOCAL_URL = "http://127.0.0.1:7070"
PROJECT_CONFIG_NAMES = ("unkey.yaml", "unkey.yml")


def default_config_path() -> Path:
    return Path(os.environ.get("UNKEY_CONFIG") or Path.home() / ".unkey" / "config.toml").expanduser()


def load_config(path: Path | str | None) -> dict[str, Any]:
    """Read the TOML config file; a missing file is an empty config, a broken one a clear error."""
    import tomllib

    p = Path(path).expanduser() if path else default_config_path()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror}") from None
    warn_if_readable_by_others(p)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid TOML ({exc}); fix or remove it") from None


def warn_if_readable_by_others(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        print(
            f"warning: {path} is readable by other users; run: chmod 600 {path}",
            file=sys.stderr,
        )


@dataclass(frozen=True)
class Credentials:
    root_key: str
    source: str  # "flag", "env" or "file:<path>"


def resolve_root_key(
    flag_value: str | None, config_path: Path | str | None, *, required: bool = True
) -> Credentials | None:
    """Root key from --root-key, then UNKEY_ROOT_KEY, then `root_key` in the config file.

    Typer fills `flag_value` from the environment too, so the two are told apart here.
    """
    env_value = os.environ.get("UNKEY_ROOT_KEY")
    if flag_value:
        source = "env" if flag_value == env_value else "flag"
        return Credentials(flag_value.strip(), source)
    path = Path(config_path).expanduser() if config_path else default_config_path()
    file_value = load_config(path).get("root_key")
    if isinstance(file_value, str) and file_value.strip():
        return Credentials(file_value.strip(), f"file:{path}")
    if required:
        raise UsageError(
            "--root-key is required: pass --root-key, set UNKEY_ROOT_KEY, or run `unkey auth login`"
        )
    return None


def resolve_api_url(flag_value: str | None, config_path: Path | str | None) -> str:
    if flag_value:
        url = flag_value
    else:
        file_value = load_config(config_path).get("api_url")
        url = file_value if isinstance(file_value, str) and file_value else DEFAULT_API_URL
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"invalid API URL {url!r}: it must start with http:// or https://")
    return url.rstrip("/")


def mask_key(key: str) -> str:
    """A root key shown without giving it away: prefix and last four characters."""
    if len(key) <= 8:
        return "*" * len(key)
    prefix = key.split("_", 1)[0] + "_" if "_" in key[:10] else key[:4]
    return f"{prefix}…{key[-4:]}"


def load_project_config(directory: Path) -> tuple[dict[str, Any], Path | None]:
    """The project's unkey.yaml (or unkey.yml), if any, as a mapping."""
    import yaml

    for name in PROJECT_CONFIG_NAMES:
        path = directory / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {mark.line + 1}" if mark else ""
                raise ConfigError(f"{path} is not valid YAML{where}; fix the file") from None
            if not isinstance(data, dict):
                raise ConfigError(f"{path} must be a mapping of settings (e.g. `image: ghcr.io/acme/api`)")
            return data, path
    return {}, None
