"""The build context's size, measured before a build: no surprise multi-gigabyte uploads.

The context is walked with the rules the build will use (the context's `.dockerignore`, and for a generated
Dockerfile the generated rules and what git ignores). Above `WARN_BYTES` a warning lists the largest paths
that are not ignored, each with the `.dockerignore` line that would leave it out; above the hard limit
(`--max-context`, default 2GB) the build is refused with the same list (exit 2).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from unkey_deploy.errors import UsageError

if TYPE_CHECKING:
    from unkey_deploy.image.build import BuildRequest
    from unkey_deploy.report import Reporter

KIB = 1024
UNITS = {"": 1, "B": 1, "K": KIB, "KB": KIB, "KIB": KIB, "M": KIB**2, "MB": KIB**2, "MIB": KIB**2,
         "G": KIB**3, "GB": KIB**3, "GIB": KIB**3, "T": KIB**4, "TB": KIB**4, "TIB": KIB**4}  # fmt: skip
WARN_BYTES = 100 * KIB**2
LARGEST = 5
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str, flag: str = "--max-context") -> int:
    """`500MB`, `2GB`, `1.5G`, `1048576` → bytes (units are powers of 1024)."""
    match = _SIZE.match(str(text))
    unit = match.group(2).upper() if match else ""
    if not match or unit not in UNITS:
        raise UsageError(f"{flag} {text!r} is not a size: use a number with B, KB, MB, GB or TB, e.g. 500MB or 2GB")
    return int(float(match.group(1)) * UNITS[unit])


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


@dataclass(frozen=True)
class Rule:
    pattern: str
    exclude: bool  # False for `!pattern`


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match plus `**`) as a regex over a slash-separated path."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # `**/` matches zero or more directories
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def parse_rules(text: str) -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).replace(os.sep, "/").lstrip("/")
        if pattern in ("", "."):
            continue
        rules.append(Rule(pattern, exclude))
    return rules


def ignored(path: str, rules: list[Rule]) -> bool:
    """Whether `path` (relative, slash-separated) is left out: the last rule matching it or a parent wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for rule in rules:
        regex = _regex(rule.pattern)
        if any(regex.match(prefix) for prefix in prefixes):
            result = rule.exclude
    return result


@dataclass
class ContextSize:
    total: int = 0
    files: int = 0
    entries: dict[str, int] = field(default_factory=dict)  # top-level path → bytes sent
    directories: set[str] = field(default_factory=set)

    def largest(self) -> list[tuple[str, int, str]]:
        """(path, bytes, the .dockerignore line that would leave it out), largest first."""
        ranked = sorted(self.entries.items(), key=lambda item: item[1], reverse=True)[:LARGEST]
        return [(name + ("/" if name in self.directories else ""), size, f"/{name}") for name, size in ranked]


def measure(context: Path, ignore_text: str) -> ContextSize:
    """Bytes and files of `context` that a build would send, given the .dockerignore text it uses."""
    rules = parse_rules(ignore_text)
    negations = any(not rule.exclude for rule in rules)
    size = ContextSize()
    for root, dirs, files in os.walk(context):
        rel_root = os.path.relpath(root, context).replace(os.sep, "/")
        prefix = "" if rel_root == "." else rel_root + "/"
        if not negations:  # a directory left out entirely need not be walked
            dirs[:] = [d for d in dirs if not ignored(prefix + d, rules)]
        if not prefix:
            size.directories.update(dirs)
        for name in files:
            rel = prefix + name
            if ignored(rel, rules):
                continue
            try:
                stat = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            size.total += stat.st_size
            size.files += 1
            top = rel.split("/", 1)[0]
            size.entries[top] = size.entries.get(top, 0) + stat.st_size
    return size


def ignore_text_for(context: Path, request: BuildRequest) -> str:
    """The .dockerignore rules the build of `request` uses."""
    if request.dockerfile_text is not None:
        from unkey_deploy.image.build import _merged_dockerignore

        return _merged_dockerignore(context, request.dockerignore_text)
    dockerfile = request.dockerfile_path()
    for candidate in [Path(f"{dockerfile}.dockerignore"), context / ".dockerignore"]:
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8", errors="replace")
    return ""


def enforce(context: Path, request: BuildRequest, limit: int, reporter: Reporter) -> ContextSize:
    """Report the size; warn above `WARN_BYTES` with the largest paths; refuse above `limit` (UsageError)."""
    from unkey_deploy.report.safe import text as printable

    size = measure(context, ignore_text_for(context, request))
    reporter.info(f"Build context: {human_size(size.total)} in {size.files} files")
    if size.total <= WARN_BYTES:
        return size
    listing = [f"{printable(path)}  {human_size(n)}  (.dockerignore: {printable(line)})"
               for path, n, line in size.largest()]  # fmt: skip
    if size.total > limit:
        raise UsageError(
            f"the build context {context} is {human_size(size.total)}, above --max-context {human_size(limit)}: "
            "leave large paths out with .dockerignore, or raise --max-context",
            details=["largest paths sent:", *(f"  {line}" for line in listing)],
        )
    reporter.warn(f"the build context is {human_size(size.total)} (above {human_size(WARN_BYTES)}); largest paths "
                  "sent, with the .dockerignore line that would leave each out:")  # fmt: skip
    for line in listing:
        reporter.warn(f"  {line}")
    return size
