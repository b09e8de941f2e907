"""Choosing tool versions from the files a repository pins them in.

A source is written `kind:argument` in a buildpack's `versions.<tool>.sources`:

    file:.nvmrc                       first line of the file
    json:package.json#engines.node    a dotted key of a JSON file
    toml:pyproject.toml#project.requires-python
    regex:runtime.txt#python-(\\S+)   first group of a regular expression over the file
    tool-versions:nodejs              a line of asdf's .tool-versions
    mise:node                         [tools] of mise.toml / .mise.toml

An exact version (`20.11.1`, `3.12`) is used as written; a range (`>=18`, `^3.11`, `~=3.10`,
`20.x`, `~> 1.14`) resolves to the default when it satisfies the range, else to the highest candidate
that does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from unkey_deploy.plan._buildpacks import VersionRule
from unkey_deploy.plan._source import Source

_EXACT = re.compile(r"^v?(\d+(?:\.\d+){0,2})$")
_CLAUSE = re.compile(r"^(>=|<=|==|!=|~=|>|<|=|\^|~)?\s*v?(\d+(?:\.(?:\d+|x|\*))*)")


@dataclass(frozen=True)
class Pin:
    """A tool's version and the reason given for it in the plan."""

    version: str
    reason: str


def resolve(src: Source, rule: VersionRule) -> Pin:
    """The version of `rule.tool` for this app, and why."""
    for source in rule.sources:
        raw = read_source(src, source)
        if raw:
            version = pick(raw, rule)
            where = source.split(":", 1)[1]
            if version == raw.strip().lstrip("v"):
                return Pin(version, f"{rule.tool} {version} from {where}")
            return Pin(version, f"{rule.tool} {version} satisfies {raw.strip()!r} from {where}")
    return Pin(rule.default, f"{rule.tool} {rule.default} (default; pin it in {_where_to_pin(rule)})")


def _where_to_pin(rule: VersionRule) -> str:
    files = []
    for source in rule.sources:
        name = source.split(":", 1)[1].split("#", 1)[0]
        if source.startswith("tool-versions:"):
            name = ".tool-versions"
        elif source.startswith("mise:"):
            name = "mise.toml"
        if name not in files:
            files.append(name)
    return " or ".join(files[:2]) if files else "the project files"


def read_source(src: Source, source: str) -> str | None:
    kind, _, arg = source.partition(":")
    if kind == "file":
        text = src.text(arg)
        line = text.strip().splitlines()[0].strip() if text and text.strip() else ""
        return line or None
    if kind in ("json", "toml"):
        name, _, key = arg.partition("#")
        data: Any = src.json(name) if kind == "json" else src.toml(name)
        for part in key.split("."):
            data = data.get(part) if isinstance(data, dict) else None
        return str(data) if isinstance(data, (str, int, float)) and str(data).strip() else None
    if kind == "regex":
        name, _, pattern = arg.partition("#")
        match = re.search(pattern, src.text(name) or "")
        return match.group(1) if match else None
    if kind == "tool-versions":
        for line in (src.text(".tool-versions") or "").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == arg:
                return parts[1]
        return None
    if kind == "mise":
        for name in ("mise.toml", ".mise.toml"):
            value = src.toml(name).get("tools", {}).get(arg)
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, (str, int, float)):
                return str(value)
        return None
    raise ValueError(f"unknown version source kind {kind!r} in {source!r}")


def pick(spec: str, rule: VersionRule) -> str:
    spec = spec.strip()
    if spec in rule.aliases:
        return rule.aliases[spec]
    exact = _EXACT.match(spec)
    if exact:
        return exact.group(1)
    if spec in ("", "*", "latest", "x"):
        return rule.default
    spec = spec.replace("~>", "~=")  # Ruby and Elixir's pessimistic operator is PEP 440's ~=
    alternatives = [alt for alt in re.split(r"\s*\|\|\s*", spec) if alt]
    candidates = [rule.default, *sorted(rule.candidates, key=version_key, reverse=True)]
    for candidate in candidates:
        if any(satisfies(candidate, alt) for alt in alternatives):
            return candidate
    lower = _CLAUSE.match(alternatives[0].lstrip(">=^~ ")) if alternatives else None
    return lower.group(2).split(".x")[0].split(".*")[0] if lower else rule.default


def version_key(version: str) -> tuple[int, ...]:
    """The numbers of a version, for comparing and sorting (`1.22.3` → (1, 22, 3))."""
    return tuple(int(p) for p in re.findall(r"\d+", version))


def satisfies(version: str, spec: str) -> bool:
    """Whether `version` meets every clause of `spec` (`>=18 <21`, `^3.11`, `~=3.10`, `20.x`)."""
    spec = re.sub(r"([<>=!~^])\s+", r"\1", spec.strip())
    clauses = [c for c in re.split(r"[,\s]+(?=[<>=!~^\d])", spec) if c.strip()]
    return bool(clauses) and all(_clause_ok(version, clause.strip()) for clause in clauses)


def _clause_ok(version: str, clause: str) -> bool:
    match = _CLAUSE.match(clause)
    if not match:
        return False
    op, target = match.group(1) or "", match.group(2)
    wildcard = target.endswith((".x", ".*"))
    bound = version_key(target)
    have = version_key(version)
    if not op or op in ("=", "==") or wildcard:
        return have[: len(bound)] == bound if op != "!=" else have[: len(bound)] != bound
    if op == "!=":
        return have[: len(bound)] != bound
    padded = have + (999,) * max(0, len(bound) - len(have))  # a candidate "20" stands for the newest 20.x
    if op == ">=":
        return padded >= bound
    if op == ">":
        return padded[: len(bound)] > bound
    if op == "<=":
        return padded[: len(bound)] <= bound
    if op == "<":
        return padded < bound
    if op == "^":  # same major (first non-zero part for 0.x)
        return padded >= bound and have[:1] == bound[:1]
    if op == "~=":  # PEP 440: same prefix as the target minus its last part
        prefix = bound[: max(1, len(bound) - 1)]
        return padded >= bound and have[: len(prefix)] == prefix
    if op == "~":  # npm: same major.minor
        prefix = bound[:2]
        return padded >= bound and have[: len(prefix)] == prefix
    return False
