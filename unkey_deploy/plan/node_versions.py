"""pnpm and Yarn versions the repository can use: its pins, else what its lockfile's format needs,
capped by the Node version the image runs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from unkey_deploy.plan._buildpacks import VersionRule
from unkey_deploy.plan._source import Source
from unkey_deploy.plan._versions import Pin, read_source, resolve, satisfies, version_key
from unkey_deploy.plan.node_rules import NodeRules

_PNPM_LOCK = re.compile(r"(?m)^lockfileVersion:\s*['\"]?([\d.]+)")
_YARN_BERRY = re.compile(r"(?m)^__metadata:\s*\n\s+version:\s*['\"]?(\d+)")
_BUN_LOCK = re.compile(r'"lockfileVersion"\s*:\s*(\d+)')


@dataclass(frozen=True)
class ToolVersion(Pin):
    """A package manager's version, with the warning to show when it does not fit the chosen Node."""

    warning: str | None = None
    pinned: bool = True  # False: inferred from the lockfile's format or defaulted


def runs_on(node: str, minimum: str | None) -> bool:
    """Whether Node `node` (a major stands for its newest release) is at least `minimum`."""
    return minimum is None or satisfies(node, f">={minimum}")


def pnpm_version(top: Source, rule: VersionRule, rules: NodeRules, node: str) -> ToolVersion:
    """packageManager or engines.pnpm, else the newest major that writes the lockfile's format and runs
    on `node`, else the newest major that runs on `node`."""
    pin = _pinned(top, rule)
    if pin:
        return ToolVersion(pin.version, pin.reason, _too_new("pnpm", pin.version.split(".")[0], rules, node))
    match = _PNPM_LOCK.search(top.text("pnpm-lock.yaml") or "")
    if match:
        lock = match.group(1)
        key = lock if lock in rules.pnpm_lockfiles else lock.split(".")[0] + ".0"
        majors = rules.pnpm_lockfiles.get(key)
        if majors:
            fits = [m for m in majors if runs_on(node, rules.pnpm_node.get(m))]
            if fits:
                return ToolVersion(fits[0], f"pnpm {fits[0]}: writes lockfileVersion {lock} of pnpm-lock.yaml"
                                   + (f" and runs on node {node}" if len(fits) < len(majors) else ""))
            return ToolVersion(majors[0], f"pnpm {majors[0]}: writes lockfileVersion {lock} of pnpm-lock.yaml",
                               _too_new("pnpm", majors[0], rules, node))
    order = [rule.default, *sorted(rule.candidates, key=lambda v: int(v.split(".")[0]), reverse=True)]
    fits = [m for m in order if runs_on(node, rules.pnpm_node.get(m))]
    chosen = fits[0] if fits else rule.default
    why = "the default" if chosen == rule.default else f"the newest that runs on node {node}"
    return ToolVersion(chosen, f"pnpm {chosen} ({why}; pin it with packageManager in package.json)")


def yarn_version(top: Source, rule: VersionRule, rules: NodeRules) -> ToolVersion:
    """packageManager or .yarnrc.yml's yarnPath, else the major that writes a Yarn 2+ yarn.lock, else 1."""
    pin = _pinned(top, rule)
    if pin:
        return pin
    match = _YARN_BERRY.search(top.text("yarn.lock") or "")
    if match:
        major = rules.yarn_lockfiles.get(match.group(1)) or max(rules.yarn_lockfiles.values(), default="4")
        return ToolVersion(major, f"yarn {major}: writes yarn.lock format {match.group(1)} (pin it with "
                                  "packageManager in package.json)", pinned=False)
    return ToolVersion(rule.default, f"yarn {rule.default}: yarn.lock of Yarn 1 (or none)", pinned=False)


def _pinned(top: Source, rule: VersionRule) -> ToolVersion | None:
    """The version a source of the rule pins, said in words (`packageManager in package.json`)."""
    source = next((s for s in rule.sources if read_source(top, s)), None)
    if source is None:
        return None
    pin = resolve(top, rule)
    where = source.split(":", 1)[1]
    file, _, key = where.partition("#")
    if source.startswith("regex:"):
        key = "packageManager" if "packageManager" in key else "yarnPath"
    return ToolVersion(pin.version, f"{rule.tool} {pin.version} from {key} in {file}" if key else pin.reason)


def _too_new(tool: str, major: str, rules: NodeRules, node: str) -> str | None:
    minimum = rules.pnpm_node.get(major) if tool == "pnpm" else None
    if runs_on(node, minimum):
        return None
    return (f"{tool} {major} needs node >= {minimum} but node {node} is chosen: raise the node version "
            f"(.nvmrc or engines.node) or pin an older {tool} in packageManager")


def bun_version(top: Source, rule: VersionRule, rules: NodeRules) -> ToolVersion:
    """A pin (.bun-version, packageManager, engines.bun, ...) when it reads the lockfile, else the oldest
    candidate that reads it (Bun 1.2 writes a bun.lock 1.1 cannot read); an older exact pin stays, with a warning."""
    lockfile, needed = "", None
    if top.exists("bun.lock") and not top.exists("bun.lockb"):  # beside bun.lockb, older releases read that
        match = _BUN_LOCK.search(top.text("bun.lock") or "")
        lockfile = f"lockfileVersion {match.group(1)} of bun.lock" if match else "bun.lock"
        needed = rules.bun_lockfiles.get(match.group(1)) if match else None
        if needed is None:
            needed = max([*rules.bun_lockfiles.values(), *rule.candidates], key=version_key)
    source = next((s for s in rule.sources if read_source(top, s)), None)
    newer = sorted((c for c in rule.candidates if needed and runs_on(c, needed)), key=version_key)
    if source is None:
        if needed and not runs_on(rule.default, needed) and newer:
            return ToolVersion(newer[0], f"bun {newer[0]}: the oldest that reads {lockfile} (pin it in .bun-version)",
                               pinned=False)
        pin = resolve(top, rule)
        return ToolVersion(pin.version, pin.reason, pinned=False)
    pin = resolve(top, rule)
    if not needed or runs_on(pin.version, needed):
        return ToolVersion(pin.version, pin.reason)
    raw = read_source(top, source) or ""
    fits = [c for c in newer if satisfies(c, raw)]
    if fits:  # a range the lockfile's release satisfies
        return ToolVersion(fits[0], f"bun {fits[0]} satisfies {raw.strip()!r} from {source.split(':', 1)[1]} "
                                    f"and reads {lockfile}")
    return ToolVersion(pin.version, pin.reason,
                       f"{lockfile} needs bun >= {needed} but bun {pin.version} is pinned "
                       f"({source.split(':', 1)[1].split('#')[0]}): raise the pin to {needed} or newer")


def node_floor(version: str, rule: VersionRule, rules: NodeRules) -> str | None:
    """For a Node version older than `oldest_node` (an end-of-life pin such as 7.0.0): the oldest candidate
    that is at least the oldest supported major; None when the version is supported."""
    if not rules.oldest_node or not re.match(r"^\d", version) or runs_on(version, rules.oldest_node):
        return None
    fits = sorted((c for c in rule.candidates if runs_on(c, rules.oldest_node)), key=version_key)
    return fits[0] if fits else rule.default
