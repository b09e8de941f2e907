"""A read-only view of the app's source tree: single files, never a full walk.

Detection asks for specific files, so ignored directories (node_modules, .git, .venv) are never
listed, however large they are.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

IGNORED_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", "vendor", "target", "dist", "build", ".next"}
)


def table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The JSON object or TOML table under `key` of `data`, or {} when it is missing or something else."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


class Source:
    """Files of `app` (the directory being built) inside `root` (the repository or PATH given)."""

    def __init__(self, root: Path, app: Path) -> None:
        self.root = root
        self.app = app
        self._texts: dict[Path, str | None] = {}

    def at(self, directory: Path) -> Source:
        """The same repository seen from another directory (a workspace root, say)."""
        return Source(self.root, directory)

    def enclosing(self) -> Iterator[tuple[Source, str]]:
        """The directories above the app up to the root, nearest first, each with the app's path inside it
        (`apps/web`): where to look for the workspace that lists the app."""
        directory = self.app.parent
        while directory.is_relative_to(self.root):
            yield self.at(directory), self.app.relative_to(directory).as_posix()
            if directory == self.root:
                break
            directory = directory.parent

    def path(self, rel: str) -> Path:
        return self.app / rel

    def exists(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def first(self, names: tuple[str, ...] | list[str]) -> str | None:
        return next((name for name in names if self.exists(name)), None)

    def text(self, rel: str) -> str | None:
        path = self.path(rel)
        if path not in self._texts:
            try:
                self._texts[path] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                self._texts[path] = None
        return self._texts[path]

    def json(self, rel: str) -> dict[str, Any]:
        text = self.text(rel)
        if not text:
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def toml(self, rel: str) -> dict[str, Any]:
        text = self.text(rel)
        if not text:
            return {}
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return {}

    def list_dir(self, rel: str = ".") -> list[str]:
        """Entry names of one directory (sorted), or [] when it does not exist."""
        try:
            return sorted(entry.name for entry in self.path(rel).iterdir())
        except OSError:
            return []

    def subdirs(self, rel: str = ".") -> list[str]:
        return [
            name
            for name in self.list_dir(rel)
            if name not in IGNORED_DIRS and not name.startswith(".") and self.path(f"{rel}/{name}").is_dir()
        ]

