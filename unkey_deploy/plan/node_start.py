"""The start command of a Node.js app: a production server whose program exists in the runtime image.

Candidates, in order: the production scripts of package.json (`start:prod`, `serve`, ..., then
`start`), the framework's own production server, the `main` field, conventional entry files. A
script is expanded first (`npm run x`, `pnpm x`, `yarn x` become the script they run, a build step
chained in front is dropped: the image is already built), then rejected when it runs a dev server or
a watcher, or when its program is neither in every runtime image (node, npm) nor a dependency's
binary. A program from devDependencies is fine when the plan keeps them (`keep_dev`).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from unkey_deploy.plan.node_rules import NodeRules

PACKAGE_MANAGERS = ("npm", "pnpm", "yarn", "bun")
NODE_MODULE_FLAGS = ("-r", "--require", "--import", "--loader", "--experimental-loader")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Candidate:
    label: str  # "the start:prod script", "nestjs's production server", ...
    command: str


@dataclass
class Start:
    command: str
    keep_dev: list[str] = field(default_factory=list)  # devDependencies the start command needs
    reasons: list[str] = field(default_factory=list)
    warning: str | None = None  # the start program is not known to exist in the runtime image


@dataclass(frozen=True)
class Deps:
    """The app's dependencies (and, in a workspace, the root's: they are hoisted to /app/node_modules)."""

    runtime: frozenset[str]
    dev: frozenset[str]
    runner: str  # node or bun
    pnp: bool = False  # Yarn Plug'n'Play: node needs its loader (.pnp.cjs) to find packages

    @staticmethod
    def of(manifests: list[dict[str, Any]], runner: str, pnp: bool = False) -> Deps:
        runtime: set[str] = set()
        dev: set[str] = set()
        for pkg in manifests:
            for key, into in (("dependencies", runtime), ("optionalDependencies", runtime), ("devDependencies", dev)):
                value = pkg.get(key)
                if isinstance(value, dict):
                    into.update(str(name) for name in value)
        return Deps(frozenset(runtime), frozenset(dev - runtime), runner, pnp)


def expand(command: str, scripts: dict[str, Any], depth: int = 0) -> str:
    """`npm run start:prod` → the script it runs; build steps chained in front are dropped."""
    if any(token in command for token in ("||", ";", "|")) and "&&" not in command:
        return command.strip()
    parts: list[str] = []
    for segment in (s.strip() for s in command.split("&&")):
        if not segment:
            continue
        name = script_called(segment, scripts)
        if name and depth < 5:
            if name == "build" or name.startswith("build:") or name.startswith("prebuild"):
                continue
            parts.append(expand(str(scripts[name]), scripts, depth + 1))
            continue
        if segment == str(scripts.get("build") or "").strip():
            continue
        parts.append(segment)
    return " && ".join(part for part in parts if part)


def script_called(segment: str, scripts: dict[str, Any]) -> str | None:
    """The package.json script a command runs through a package manager (`npm start`, `yarn serve`)."""
    try:
        words = shlex.split(segment)
    except ValueError:
        return None
    if not words or words[0] not in PACKAGE_MANAGERS:
        return None
    rest = [w for w in words[1:] if not w.startswith("-")]
    if not rest:
        return None
    if rest[0] in ("run", "run-script") and len(rest) > 1:
        name = rest[1]
    elif rest[0] in ("start", "test") or words[0] in ("pnpm", "yarn", "bun"):
        name = rest[0]
    else:
        return None
    if len(rest) > (2 if rest[0] in ("run", "run-script") else 1):
        return None  # arguments passed on to the script: keep the command as written
    return name if isinstance(scripts.get(name), str) else None


def rewrite(segment: str, deps: Deps) -> str:
    """Drop launchers the runtime may lack when what they launch is there: `cross-env A=1 node x` →
    `A=1 node x`, `npx next start` / `yarn next start` / `pnpm exec next start` → `next start`."""
    words = segment.split()
    env = []
    while words and _ASSIGNMENT.match(words[0]):
        env.append(words.pop(0))
    if words and words[0] == "cross-env":
        words.pop(0)
        while words and _ASSIGNMENT.match(words[0]):
            env.append(words.pop(0))
    if len(words) > 1 and words[0] in ("yarn", "pnpm") and words[1] == "node":
        words = ["node", *(["-r", "./.pnp.cjs"] if deps.pnp else []), *words[2:]]
    elif len(words) > 1 and words[0] in ("npx", "bunx") and not words[1].startswith("-"):
        words = words[1:]
    elif len(words) > 2 and words[0] == "pnpm" and words[1] == "exec":
        words = words[2:]
    elif len(words) > 1 and words[0] == "yarn" and words[1] in deps.runtime | deps.dev:
        words = words[1:]
    return " ".join([*env, *words])


def program_of(segment: str) -> tuple[str, list[str]]:
    """The program a command segment runs, and its arguments (leading VAR=value pairs skipped)."""
    words = segment.split()
    while words and _ASSIGNMENT.match(words[0]):
        words.pop(0)
    if words and words[0] in ("exec", "env"):
        words.pop(0)
        while words and _ASSIGNMENT.match(words[0]):
            words.pop(0)
    return (words[0], words[1:]) if words else ("", [])


def package_name(module: str) -> str | None:
    """`dotenv/config` → dotenv, `@scope/x/register` → @scope/x; None for a relative path."""
    if module.startswith((".", "/")) or not module:
        return None
    parts = module.split("/")
    return "/".join(parts[:2]) if module.startswith("@") and len(parts) > 1 else parts[0]


def needs(segment: str, rules: NodeRules, deps: Deps) -> tuple[list[str], list[str]]:
    """(devDependencies the segment needs, programs/packages it needs that nothing installs)."""
    program, args = program_of(segment)
    dev: list[str] = []
    missing: list[str] = []
    wanted: list[str] = []
    if program in ("node", "bun", "tsx", "ts-node"):
        wanted += [p for i, arg in enumerate(args[:-1]) if arg in NODE_MODULE_FLAGS
                   for p in [package_name(args[i + 1])] if p]
    in_image = program in rules.programs.get(deps.runner, frozenset())
    if program and not in_image:
        wanted.insert(0, rules.package_of(program))
    for package in wanted:
        if package in deps.runtime:
            continue
        if package in deps.dev:
            dev.append(package)
        else:
            missing.append(package if package == program or program in rules.programs.get(deps.runner, ())
                           else f"{program} ({package})")
    return dev, missing


def check(command: str, rules: NodeRules, deps: Deps) -> tuple[str, list[str], list[str]]:
    """The command with launchers dropped, the devDependencies it needs, what it needs that is missing."""
    segments = [rewrite(s.strip(), deps) for s in command.split("&&") if s.strip()]
    dev: list[str] = []
    missing: list[str] = []
    for segment in segments:
        d, m = needs(segment, rules, deps)
        dev += [x for x in d if x not in dev]
        missing += [x for x in m if x not in missing]
    return " && ".join(segments), dev, missing


def choose(candidates: list[Candidate], rules: NodeRules, deps: Deps, scripts: dict[str, Any]) -> Start | None:
    """The first candidate that runs a production server with programs the runtime image has."""
    reasons: list[str] = []
    fallback: Start | None = None
    for candidate in candidates:
        command = expand(candidate.command, scripts)
        if not command:
            continue
        if rules.is_dev_server(command):
            reasons.append(f"start: not {candidate.label} ({command}): a dev server, watcher or build tool")
            continue
        command, dev, missing = check(command, rules, deps)
        if missing:
            what = ", ".join(missing)
            reasons.append(f"start: not {candidate.label} ({command}): {what} is not a dependency, so the "
                           "runtime image would not have it")
            if fallback is None:
                fallback = Start(command, dev, [], f"the start command {command!r} needs {what}, which no "
                                 "dependency installs: add it to dependencies or set a start script that runs "
                                 "node directly")
            continue
        why = f"start: {candidate.label}" + (f" (expanded to {command})" if command != candidate.command else "")
        reasons.append(why)
        if dev:
            reasons.append(f"start needs {', '.join(dev)} from devDependencies: they stay in the image")
        return Start(command, dev, reasons)
    if fallback is not None:
        fallback.reasons = [*reasons, f"start: {fallback.command}, although its program may be missing"]
        return fallback
    return Start("", [], reasons) if reasons else None
