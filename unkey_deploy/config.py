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


_warned_readable: set[Path] = set()


def warn_if_readable_by_others(path: Path) -> None:
    """Warn (once per file and run) when group or others can read a file holding secrets."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH) and path not in _warned_readable:
        _warned_readable.add(path)
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


ROOT_KEY_FIELD = "root_key"


def write_root_key(key: str, config_path: Path | str | None = None) -> Path:
    """Store `root_key = "<key>"` in the config file, keeping its other settings and comments.

    The directory is created 0700 and the file written 0600 through a temporary file and a rename,
    so a crash never leaves a half-written config behind. Returns the path written.
    """
    path = _config_target(config_path)
    text = _read_text(path)
    updated = _replace_top_level(text, ROOT_KEY_FIELD, f"{ROOT_KEY_FIELD} = {toml_string(key)}", path)
    _write_private(path, updated)
    return path


def remove_root_key(config_path: Path | str | None = None) -> bool:
    """Remove `root_key` from the config file, keeping the rest; False when none was stored."""
    path = _config_target(config_path)
    text = _read_text(path)
    if ROOT_KEY_FIELD not in _parse(text, path):
        return False
    _write_private(path, _replace_top_level(text, ROOT_KEY_FIELD, None, path))
    return True


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _config_target(config_path: Path | str | None) -> Path:
    path = Path(config_path).expanduser() if config_path else default_config_path()
    return path.resolve() if path.is_symlink() else path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise ConfigError(f"cannot read config file {path}: {reason}") from None


def _parse(text: str, path: Path) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML ({exc}); fix or remove it") from None


def _replace_top_level(text: str, name: str, line: str | None, path: Path) -> str:
    """`text` with the top-level `name = ...` line replaced by `line` (removed when None).

    Comments and the other settings stay as they were; the result is parsed back to prove that
    only `name` changed.
    """
    import re
    import tomllib

    before = _parse(text, path)
    expected = {k: v for k, v in before.items() if k != name}
    if line is not None:
        expected[name] = tomllib.loads(line)[name]
    lines = text.splitlines(keepends=True)
    assignment = re.compile(rf"""^\s*(?:{name}|"{name}"|'{name}')\s*=""")
    candidates = [i for i, current in enumerate(lines) if assignment.match(current)]
    attempts = [lines[:i] + ([line + "\n"] if line else []) + lines[i + 1 :] for i in candidates]
    if name not in before and line is not None:
        attempts = [[line + "\n", *lines]]  # top-level keys must come before any [table]
    for attempt in attempts:
        updated = "".join(attempt)
        try:
            if tomllib.loads(updated) == expected:
                return updated
        except tomllib.TOMLDecodeError:
            continue
    raise ConfigError(f"cannot update {name} in {path} automatically; edit the file by hand")


def _write_private(path: Path, text: str) -> None:
    import tempfile

    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)
        os.chmod(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None
