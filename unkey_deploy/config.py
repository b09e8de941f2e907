"""Settings with one precedence rule: flag > environment > config file.

Two files are read: the user's `~/.unkey/config.toml` (root key, API URL) and the project's
`unkey.yaml` (image repository, build variables, base image remaps, checks, settings as code), which is
read once per run into a `ProjectConfig` that commands hand to the stages.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unkey_deploy.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from unkey_deploy.settings_code import Check, SettingsCode

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
        raw = _read_bounded(p)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror or exc}; fix or remove it") from None
    check_trusted(p)
    warn_if_readable_by_others(p)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {p} is not valid TOML ({exc}); fix or remove it") from None


MAX_CONFIG_BYTES = 1024 * 1024


def _read_bounded(path: Path) -> bytes:
    """A config file's bytes; one larger than MAX_CONFIG_BYTES (or /dev/zero) is refused, not read whole."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_CONFIG_BYTES // 1024} KB; point --config at the "
                          "right file")
    return raw


def check_trusted(path: Path) -> None:
    """Refuse a config file that another user could have written, the way ssh treats ~/.ssh.

    The file (and, through a symlink, the file it points to) and the directories holding them, up to the
    home directory when the file is inside it, must be owned by this user (or root) and not writable by
    group or others; a sticky directory such as /tmp may hold a file of ours. Otherwise the root key and
    API URL in it are never used: someone else could have pointed `api_url` at their own server to collect
    the key.
    """
    if not hasattr(os, "getuid"):  # pragma: no cover - no POSIX owners
        return
    uid = os.getuid()
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return  # gone or a loop: reading it already failed or will
    checked = dict.fromkeys([*_up_to_home(path.absolute().parent), *_up_to_home(real.parent), real])
    file_owner = real.stat().st_uid
    for target in checked:
        try:
            info = target.stat()
        except OSError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid not in (uid, 0):
            raise ConfigError(
                f"refusing to use config file {path}: {target} belongs to another user (uid {info.st_uid}), who "
                f"could have changed its root key or API URL; use a config file of your own (--config)"
            )
        writable = mode & (stat.S_IWGRP | stat.S_IWOTH)
        if writable and target.is_dir() and mode & stat.S_ISVTX and file_owner == uid:
            continue  # a sticky directory (/tmp): others cannot replace our file in it
        if writable:
            raise ConfigError(
                f"refusing to use config file {path}: {target} is writable by other users (mode {mode:04o}), who "
                f"could change its root key or API URL; run: chmod go-w {target}"
            )


def _up_to_home(directory: Path) -> list[Path]:
    """`directory`, then its parents up to the home directory when it is inside it (as ssh checks)."""
    try:
        home = Path.home().resolve()
        directory = directory.resolve()
    except (OSError, RuntimeError):
        return [directory]
    if directory != home and home not in directory.parents:
        return [directory]
    chain = [directory]
    while chain[-1] != home:
        chain.append(chain[-1].parent)
    return chain


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
    if not url.startswith(("http://", "https://")) or not _host_of(url):
        raise UsageError(f"invalid API URL {display_url(url)!r}: it must be http:// or https:// and a host")
    return url.rstrip("/")


def _host_of(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    return parts.hostname


def display_url(url: str) -> str:
    """`url` as it may be shown: a password in it (https://user:pw@host) becomes ***."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{f'[{host}]' if ':' in host else host}"
    if port is not None:
        netloc += f":{port}"
    return parts._replace(netloc=netloc).geturl()


def mask_key(key: str) -> str:
    """A root key shown without giving it away: prefix and last four characters."""
    if len(key) <= 8:
        return "*" * len(key)
    prefix = key.split("_", 1)[0] + "_" if "_" in key[:10] else key[:4]
    return f"{prefix}…{key[-4:]}"


MAX_PROJECT_CONFIG_BYTES = 1024 * 1024
MAX_YAML_VALUES = 100_000  # values of unkey.yaml once its aliases are expanded (a few dozen are usual)


@dataclass(frozen=True)
class ProjectConfig:
    """The project's unkey.yaml, read and parsed once per run and handed to every stage that needs it.

    The file's size, its YAML, and the number of values it holds once aliases are expanded are checked
    when it is read; each section is checked by the accessor (or stage) that uses it, so a file whose
    unused sections are wrong fails where it always did. `ProjectConfig()` is "no unkey.yaml".
    """

    data: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None
    node: Any = field(default=None, repr=False, compare=False)  # the composed YAML tree, for line numbers

    @classmethod
    def find(cls, directories: Iterable[Path]) -> ProjectConfig:
        """The unkey.yaml of the first of `directories` that has one (the app's, then the repository root's)."""
        for directory in dict.fromkeys(directories):
            found = _read_project_config(directory)
            if found is not None:
                return found
        return cls()

    @property
    def source(self) -> str:
        """How messages name the file: its path, or `unkey.yaml` when there is none."""
        return str(self.path or "unkey.yaml")

    def name_from(self, root: Path) -> str:
        """The file's path relative to `root` when it is inside it (how a plan names it)."""
        if self.path is None:
            return "unkey.yaml"
        return str(self.path.relative_to(root)) if self.path.is_relative_to(root) else str(self.path)

    def only_in(self, directory: Path) -> ProjectConfig:
        """This file when it lies in `directory` itself, else no file: what is read from the app's own directory
        only (check paths, project/app and environment settings) ignores a repository root's unkey.yaml."""
        if self.path is None or self.path.parent.resolve() == directory.resolve():
            return self
        return ProjectConfig()

    def section(self, name: str) -> dict[str, Any]:
        """A mapping section (`build:`), empty when absent; anything else is a clear error."""
        return project_section(dict(self.data), name, self.path)

    @property
    def image_repository(self) -> str | None:
        """The repository of `image:`, if the file sets one."""
        from unkey_deploy.imageref import parse_image

        repository = self.data.get("image")
        if repository is not None and not isinstance(repository, str):
            raise UsageError(f"{self.path}: `image` must be a repository such as ghcr.io/acme/api")
        return parse_image(repository).repository if repository else None

    @property
    def variables(self) -> Any:
        """`variables:` as written (checked by the build stage, which knows what a variable name may be)."""
        return self.data.get("variables") or {}

    @property
    def checks(self) -> Any:
        """`check:` as written: a path or a list of paths (checked by verify.configured_checks)."""
        return self.data.get("check")

    def settings(self, check: Check | None = None) -> SettingsCode:
        """`project:`, `app:` and `environments:` (settings as code), from the same parsed tree; `check` finds what
        is wrong with a value (`api.settings_check.setting_problems`: the API's settings schema)."""
        from unkey_deploy.settings_code import parse_settings

        return parse_settings(self, check)


def project_directories(context: Path, root_dir: str | None) -> list[Path]:
    """Where a build's unkey.yaml is looked for: the app's directory, then the repository root. The root is
    only looked at when the app's directory is one inside it (otherwise the plan refuses --root-dir)."""
    root = context.expanduser().resolve()
    app = (root / root_dir).resolve() if root_dir else root
    return [app, root] if app.is_dir() and app.is_relative_to(root) else [app]


def _read_project_config(directory: Path) -> ProjectConfig | None:
    """unkey.yaml (or unkey.yml) of `directory`, None when it has neither.

    Its size, and the number of values it holds once YAML aliases are expanded, are limited before
    anything is built from it, so a hostile file ("billion laughs") is refused at once."""
    for name in PROJECT_CONFIG_NAMES:
        path = directory / name
        try:
            if not path.is_file():
                continue
            with path.open("rb") as handle:
                raw = handle.read(MAX_PROJECT_CONFIG_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}; fix or remove it") from None
        if len(raw) > MAX_PROJECT_CONFIG_BYTES:
            raise ConfigError(f"{path} is larger than {MAX_PROJECT_CONFIG_BYTES // 1024} KB; an unkey.yaml holds a "
                              "few settings")
        try:
            node, data = _parse_project_yaml(raw.decode("utf-8"), path)
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8") from None
        data = data or {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must be a mapping of settings (e.g. `image: ghcr.io/acme/api`)")
        return ProjectConfig(data, path, node)
    return None


def _parse_project_yaml(text: str, path: Path) -> tuple[Any, Any]:
    """(the composed node tree, the values) of unkey.yaml's text."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # nodes: an alias is the same node, not a copy
        if root is not None and _expanded_size(root) > MAX_YAML_VALUES:
            raise ConfigError(f"{path} expands to more than {MAX_YAML_VALUES:,} values through YAML aliases; write "
                              "the values out instead of repeating anchors")
        return root, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}; fix the file") from None
    except RecursionError:
        raise ConfigError(f"{path} nests too deeply to be an unkey.yaml; fix the file") from None


def _expanded_size(root: Any) -> int:
    """How many values the YAML node graph holds with every alias expanded, counted once per node (linear);
    a node that contains itself counts as too many."""
    import yaml

    sizes: dict[int, int] = {}
    pending: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in pending:
            return MAX_YAML_VALUES + 1  # a recursive anchor never ends when expanded
        pending.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        pending.discard(key)
        sizes[key] = min(total, MAX_YAML_VALUES + 1)
        return sizes[key]

    return size(root)


def project_section(data: dict[str, Any], name: str, path: Path | None) -> dict[str, Any]:
    """A mapping section of unkey.yaml (`build:`), empty when absent; anything else is a clear error."""
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path or 'unkey.yaml'}: `{name}` must be a mapping of settings (`{name}:` then indented "
                          f"`key: value` lines), got {yaml_kind(value)}")
    return value


def yaml_kind(value: Any) -> str:
    """What a YAML value is, for error messages: `a string ('x')`, `a number (3)`, `a list`."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


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
    return '"' + value.translate(_TOML_ESCAPES) + '"'


_TOML_NAMED_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_TOML_ESCAPES = {  # for str.translate: control characters as \uXXXX unless they have a short escape
    **{code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)},
    **{ord(char): escaped for char, escaped in _TOML_NAMED_ESCAPES.items()},
}


def _config_target(config_path: Path | str | None) -> Path:
    path = Path(config_path).expanduser() if config_path else default_config_path()
    if not path.is_symlink():
        return path
    try:
        return path.resolve(strict=True)
    except FileNotFoundError:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop before Python 3.13
        raise ConfigError(f"config file {path} is a symlink that never reaches a file (a loop); remove it: "
                          f"rm {path}") from None


def _read_text(path: Path) -> str:
    try:
        text = _read_bounded(path).decode("utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else "not UTF-8"
        raise ConfigError(f"cannot read config file {path}: {reason}; fix or remove it") from None
    check_trusted(path)
    return text


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


def _make_private_dir(directory: Path, *, own: bool) -> None:
    """`~/.unkey` (or a directory created for the file) becomes 0700, like ~/.ssh; a directory of another
    user is refused unless sticky (/tmp). Another directory chosen with --config keeps its mode."""
    info = directory.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        if info.st_mode & stat.S_ISVTX:
            return
        raise ConfigError(f"cannot store the root key in {directory}: it belongs to another user; "
                          "use a config file in a directory of your own (--config)")
    if own and not info.st_mode & stat.S_ISVTX and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(directory, 0o700)


def _write_private(path: Path, text: str) -> None:
    import tempfile

    directory = path.parent
    try:
        created = not directory.exists()
        if created:
            directory.mkdir(mode=0o700, parents=True)
        _make_private_dir(directory, own=created or directory.name == ".unkey")
    except OSError as exc:
        raise ConfigError(f"cannot create the config directory {directory}: {exc.strerror or exc}") from None
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
