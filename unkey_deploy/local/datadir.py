"""The data directory of the local control plane: private to the user, owned by one server at a time.

Everything in it is created private from the start (directories 0700, files 0600, through `os.open` modes
and the server's umask), never loosened and tightened afterwards. A data dir left by an older version with
looser modes is tightened once when it is opened, since its log may hold a root key.

Ownership is an exclusive `flock` on `server.lock`, taken before any state is read or written and held until
the server exits (the kernel drops it when the process dies, however it dies). The lock file also says
who holds it: the pid on the first line, the URL on the second once the server listens.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from unkey_deploy.errors import UsageError

LOCK_FILE = "server.lock"
START_LOCK_FILE = "start.lock"
DIR_MODE = 0o700
FILE_MODE = 0o600
_PRIVATE_UMASK = 0o077


@dataclass(frozen=True)
class Owner:
    """The server holding a data dir: its pid and, once it listens, its URL."""

    pid: int | None
    url: str | None

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid else "pid unknown"
        return f"at {self.url} ({pid})" if self.url else f"({pid}), still starting"


def private_umask() -> int:
    """Make every file and directory this process creates private; returns the previous umask."""
    return os.umask(_PRIVATE_UMASK)


def prepare(data_dir: Path, *, elsewhere: str = "pass another --data-dir") -> Path:
    """`data_dir` as a private directory that exists and can be written, or a UsageError saying what to fix."""
    data_dir = data_dir.expanduser().absolute()
    make_private_dir(data_dir, elsewhere=elsewhere)
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise UsageError(
            f"the local data dir {data_dir} is not writable: fix its permissions "
            f"(chmod 700 {data_dir}) or {elsewhere}"
        )
    tighten(data_dir)
    return data_dir


def make_private_dir(path: Path, *, elsewhere: str = "pass another --data-dir") -> None:
    """Create `path` and its missing parents with mode 0700 (existing ones are left as they are)."""
    missing: list[Path] = []
    probe = path
    while True:
        try:
            info = probe.stat()
        except (FileNotFoundError, NotADirectoryError):  # missing, or under a file (found further up)
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
            continue
        except OSError as exc:
            raise _dir_error(probe, path, exc, elsewhere) from None
        if not stat.S_ISDIR(info.st_mode):
            if probe == path:
                raise UsageError(f"the local data dir {path} is a file, not a directory: move it away or "
                                 f"{elsewhere}")
            raise UsageError(f"{probe} is a file, so the local data dir {path} cannot be created under it: "
                             f"move it away or {elsewhere}")
        break
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise UsageError(
                    f"{directory} is a file, not a directory: move it away or {elsewhere}"
                ) from None
        except OSError as exc:
            raise _dir_error(directory.parent, path, exc, elsewhere) from None


def _dir_error(where: Path, data_dir: Path, exc: OSError, elsewhere: str) -> UsageError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UsageError(
            f"cannot create the local data dir {data_dir}: {where} is not writable ({reason}); "
            f"fix its permissions (chmod 700 {where}) or {elsewhere}"
        )
    return UsageError(f"cannot create the local data dir {data_dir} ({reason}): {elsewhere}")


# The files the local control plane keeps in its data dir; only these (and the dir) are ever tightened.
OWN_FILES = (
    "state.db", "state.db-wal", "state.db-shm", "state.db-journal", "root_key", "variables.key",
    "server.log", "server.pid", LOCK_FILE, START_LOCK_FILE,
)


def tighten(data_dir: Path) -> None:
    """Take group and other permissions off the data dir's own files, and off the dir once it holds state
    (left so by older versions). Other files, shared directories (sticky, like /tmp) and links are left alone."""
    present = [data_dir / name for name in OWN_FILES if (data_dir / name).exists()]
    candidates = present.copy()
    if any(path.name in ("state.db", "root_key") for path in present):
        candidates.append(data_dir)
    for path in candidates:
        with contextlib.suppress(OSError):
            info = path.lstat()
            if (info.st_uid == os.getuid() and not stat.S_ISLNK(info.st_mode) and not info.st_mode & stat.S_ISVTX
                    and info.st_mode & 0o077):
                os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o077)


def open_private(path: Path, flags: int) -> int:
    """`os.open` creating the file 0600; an existing file with looser modes is tightened first."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        info = os.fstat(fd)
        if info.st_mode & 0o077 and info.st_uid == os.getuid():
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~0o077)
    except OSError:
        os.close(fd)
        raise
    return fd


class DataDirLock:
    """The exclusive lock of one server on its data dir."""

    def __init__(self, data_dir: Path, fd: int) -> None:
        self.data_dir = data_dir
        self._fd = fd

    @classmethod
    def acquire(cls, data_dir: Path, *, wait: float = 1.0) -> DataDirLock:
        """Take the data dir, or a UsageError naming the server that has it.

        `wait` covers the moment another process looks at the lock (see `owner`)."""
        try:
            fd = open_private(data_dir / LOCK_FILE, os.O_RDWR)
        except OSError as exc:
            raise UsageError(
                f"cannot open {data_dir / LOCK_FILE} ({exc.strerror or exc}): fix the permissions of "
                f"{data_dir} (chmod 700) or pass another --data-dir"
            ) from None
        if not _lock_within(fd, wait):
            os.close(fd)
            running = _read_owner(data_dir / LOCK_FILE) or Owner(None, None)
            raise UsageError(
                f"the local data dir {data_dir} is in use by the local control plane {running.describe()}: "
                f"use that one, stop it with `unkey local stop --data-dir {data_dir}`, or pass another --data-dir"
            )
        lock = cls(data_dir, fd)
        lock._write(f"{os.getpid()}\n")
        return lock

    def announce(self, url: str) -> None:
        """Record the URL the server listens on, for `unkey local stop` and a refused second server."""
        self._write(f"{os.getpid()}\n{url}\n")

    def release(self) -> None:
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the only descriptor drops the lock
        self._fd = -1

    def _write(self, text: str) -> None:
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode(), 0)


def owner(data_dir: Path) -> Owner | None:
    """The server holding `data_dir`, or None when no process holds its lock (whatever the lock file says)."""
    path = data_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_owner(path) or Owner(None, None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_owner(path: Path) -> Owner | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    url = lines[1].strip() if len(lines) > 1 and lines[1].startswith("http://") else None
    return Owner(pid, url)


@contextlib.contextmanager
def start_lock(data_dir: Path, timeout: float) -> Iterator[None]:
    """Serialise background starts on one data dir, so concurrent `--local` commands start one server."""
    fd = open_private(data_dir / START_LOCK_FILE, os.O_RDWR)
    try:
        if not _lock_within(fd, timeout):
            raise UsageError(
                f"another command has been starting the local control plane of {data_dir} for "
                f"{timeout:.0f}s; see {data_dir / 'server.log'}"
            )
        yield
    finally:
        os.close(fd)


def _lock_within(fd: int, seconds: float) -> bool:
    """Take the exclusive lock of `fd`, trying every 50ms for `seconds`; False when another process keeps it."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


def is_our_server(pid: int) -> bool:
    """Whether `pid` runs `unkey local serve` (by its command line where /proc tells; else trust the lock)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc on this system: the lock is the only evidence
    except OSError:
        return False
    args = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    return "local" in args and "serve" in args
