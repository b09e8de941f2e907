"""Build variables and the `UNKEY_SECRETS_ID` secret that carries them into a build.

Variables come from `variables:` in unkey.yaml, then `--env-file` files, then `--var` flags (later
wins). They reach the build only as a BuildKit secret: a `.env` file written to a private temp dir,
mounted by `RUN --mount=type=secret,id=${UNKEY_SECRETS_ID}` and removed when the build ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from unkey_deploy.errors import UsageError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([^=\s]+)\s*=[ \t]*(.*)\Z", re.S)
_SHELL_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]*\Z")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}
_DIR_PREFIX = "unkey-secrets-"
# The id is written into image metadata as a build argument, so it is a slow hash: recovering weak
# values from it by guessing is expensive, while the same variables still give the same id anywhere.
_KDF_SALT = b"unkey-deploy build variables v1"
_KDF_ROUNDS = 100_000


def check_name(name: str, where: str = "") -> str:
    if not _NAME.match(name):
        prefix = f"{where}: " if where else ""
        raise UsageError(
            f"{prefix}invalid variable name {name!r}: names must be valid environment variable names "
            "(letters, digits and underscores, not starting with a digit) because variables are exposed "
            "to the build as environment variables; rename it, e.g. "
            f"{re.sub(r'[^A-Za-z0-9_]', '_', name).lstrip('0123456789') or 'MY_VAR'!r}"
        )
    return name


def check_value(name: str, value: str) -> str:
    """A value the secret file and the build's environment can carry: no NUL byte (C strings end there)."""
    if "\x00" in value:
        raise UsageError(
            f"build variable {name} contains a NUL byte, which no environment variable can hold; remove it"
        )
    return value


@dataclass(frozen=True)
class BuildVariables:
    """An ordered name → value mapping. Values never appear in repr() or to_json()."""

    items: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @classmethod
    def merge(cls, *layers: Mapping[str, str]) -> BuildVariables:
        """Later layers override earlier ones; a name keeps the position it first appeared at."""
        merged: dict[str, str] = {}
        for layer in layers:
            for name, value in layer.items():
                merged[check_name(name)] = check_value(name, value)
        return cls(tuple(merged.items()))

    @classmethod
    def collect(
        cls,
        *,
        config: Mapping[str, Any] | None = None,
        env_files: Sequence[Path | str] = (),
        var_flags: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> BuildVariables:
        """unkey.yaml `variables:` < `--env-file` files (in order) < `--var` flags."""
        layers = [parse_config_variables(config or {})]
        layers += [parse_env_file(path) for path in env_files]
        layers.append(parse_var_flags(var_flags, environ))
        return cls.merge(*layers)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.items]

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def to_json(self) -> dict[str, Any]:
        return {"names": self.names, "secretsId": secrets_id(self)}


def parse_config_variables(variables: Mapping[str, Any], source: str = "unkey.yaml") -> dict[str, str]:
    """`variables:` from unkey.yaml: scalars only (booleans as true/false)."""
    if not isinstance(variables, Mapping):
        raise UsageError(f"{source}: `variables` must be a mapping of NAME: value")
    values: dict[str, str] = {}
    for name, value in variables.items():
        check_name(str(name), f"{source} variables")
        if isinstance(value, bool):
            values[str(name)] = "true" if value else "false"
        elif value is None:
            values[str(name)] = ""
        elif isinstance(value, str | int | float):
            values[str(name)] = str(value)
        else:
            raise UsageError(f"{source}: variable {name} must be a string, number or boolean")
    return values


def parse_var_flags(flags: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`--var KEY=VALUE` (split at the first `=`) or `--var KEY` (value from the environment)."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for flag in flags:
        name, sep, value = flag.partition("=")
        check_name(name, "--var")
        if not sep:
            if name not in env:
                raise UsageError(
                    f"--var {name}: {name} is not set in the environment; export it or pass --var {name}=VALUE"
                )
            value = env[name]
        values[name] = value
    return values


MAX_ENV_FILE = 1024 * 1024  # bytes read from one --env-file; more is refused (it is not a dotenv file)


def parse_env_file(path: Path | str) -> dict[str, str]:
    """A dotenv file: `NAME=value`, optional `export`, `#` comments, single quotes (literal) and double
    quotes (with \\n \\t \\" \\\\ escapes) that may span lines. Unquoted values end at ` #`.

    At most MAX_ENV_FILE bytes are read (so /dev/zero ends quickly); a NUL byte is refused."""
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_ENV_FILE + 1)
    except FileNotFoundError:
        raise UsageError(f"--env-file {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"--env-file {path}: is a directory, not a dotenv file") from None
    except OSError as exc:
        raise UsageError(f"--env-file {path}: cannot read it ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise UsageError(f"--env-file {path}:{line}: contains a NUL byte, so it is not a text dotenv file; "
                         "remove the byte or pass the right file")
    if len(raw) > MAX_ENV_FILE:
        raise UsageError(f"--env-file {path}: larger than {MAX_ENV_FILE // 1024} KB, so not a dotenv file; "
                         "pass the right file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise UsageError(f"--env-file {path}:{line}: not UTF-8 text; save the file as UTF-8") from None
    return parse_env_text(text, str(path))


def parse_env_text(text: str, source: str) -> dict[str, str]:
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    values: dict[str, str] = {}
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            raise UsageError(f"{source}:{number}: expected NAME=VALUE (a dotenv line)")
        name, rest = match.groups()
        check_name(name, f"{source}:{number}")
        if rest[:1] in ("'", '"'):
            quote, body = rest[0], rest[1:]
            end = _closing_quote(body, quote)
            while end is None:
                if index >= len(lines):
                    raise UsageError(f"{source}:{number}: the {quote} quote of {name} is never closed")
                body += "\n" + lines[index]
                index += 1
                end = _closing_quote(body, quote)
            value, trailing = body[:end], body[end + 1 :].strip()
            if trailing and not trailing.startswith("#"):
                raise UsageError(f"{source}:{number}: unexpected text after the closing quote of {name}")
            values[name] = _unescape(value) if quote == '"' else value
        else:
            values[name] = re.split(r"\s#", rest, maxsplit=1)[0].strip()
    return values


def _closing_quote(body: str, quote: str) -> int | None:
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == quote:
            return index
        index += 1
    return None


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), value, flags=re.S)


def secrets_id(variables: BuildVariables) -> str:
    """Same variables (in any order), same id; any change to a name or value, a new id."""
    canonical = json.dumps(sorted(variables.items), separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.pbkdf2_hmac("sha256", canonical.encode("utf-8"), _KDF_SALT, _KDF_ROUNDS)
    return digest.hex()[:32]


def render_env_file(variables: BuildVariables) -> str:
    """The secret's content: one NAME=value per line, sourceable with `set -a && . FILE`.

    Values that need it are single-quoted for the shell, so spaces, quotes, `#`, `$` and newlines
    arrive exactly as given.
    """
    lines = []
    for name, value in variables.items:
        if not _SHELL_SAFE.match(value):
            value = "'" + value.replace("'", "'\\''") + "'"
        lines.append(f"{name}={value}")
    return "".join(line + "\n" for line in lines)


@contextlib.contextmanager
def secret_files(variables: BuildVariables) -> Iterator[Path]:
    """Yield the path of a 0600 file holding the variables, in a private 0700 temp dir.

    The directory is removed when the block ends, whether by success, exception, Ctrl-C or SIGTERM
    (turned into KeyboardInterrupt while the block runs, unless a handler is already installed).
    Leftovers of processes that were killed outright are removed on the next run.
    """
    base = Path(tempfile.gettempdir())
    _remove_leftovers(base)
    directory = Path(tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{os.getpid()}-", dir=base))
    previous = _raise_on_sigterm()
    try:
        path = directory / ".env"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(render_env_file(variables))
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


_Handler = Callable[[int, FrameType | None], Any] | int  # what signal.signal takes and returns


def _raise_on_sigterm() -> _Handler | None:
    """Install a SIGTERM → KeyboardInterrupt handler when none is set; return what to restore."""
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return None
        return signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: signals stay as they are
        return None


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _remove_leftovers(base: Path) -> None:
    for directory in base.glob(f"{_DIR_PREFIX}*"):
        pid = directory.name.removeprefix(_DIR_PREFIX).split("-", 1)[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and not _alive(int(pid)) and directory.stat().st_uid == os.getuid():
                shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
