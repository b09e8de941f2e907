"""The Node-specific tables of buildpacks/node.yaml that the common unit format does not cover.

Start-script preferences, dev-server patterns, binaries and their packages, build steps (Prisma),
monorepo task runners and the pnpm/Yarn lockfile tables: data in the YAML file, read here once, used
by the decisions in node.py and its helpers. (Hard-coded ports use the common `ports:` rules.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass(frozen=True)
class BuildStep:
    """A tool's build-time step (e.g. `prisma generate`), run when the tool is used and its files exist."""

    id: str
    dependencies: tuple[str, ...]
    run: str
    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    setting: str | None = None  # `file#dotted.key` naming where the tool's file is
    skip_if: str | None = None
    packages: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskRunner:
    """A monorepo task runner that builds an app together with the workspace packages it depends on."""

    id: str
    files: tuple[str, ...]
    dependencies: tuple[str, ...]
    build: str


@dataclass(frozen=True)
class Standalone:
    """A framework's self-contained server build (Next.js `output: "standalone"`)."""

    config: tuple[str, ...]
    pattern: str
    start: str
    copy: dict[str, str]


@dataclass(frozen=True)
class NodeRules:
    start_scripts: tuple[str, ...]
    dev_servers: tuple[re.Pattern[str], ...]
    programs: dict[str, frozenset[str]]  # image key (node, bun) -> programs on its PATH
    bins: dict[str, str]
    build_steps: tuple[BuildStep, ...]
    task_runners: tuple[TaskRunner, ...]
    pnpm_lockfiles: dict[str, tuple[str, ...]]
    pnpm_node: dict[str, str]
    yarn_lockfiles: dict[str, str]
    corepack_env: dict[str, str] = field(default_factory=dict)
    standalone: dict[str, Standalone] = field(default_factory=dict)  # framework id -> its standalone build
    bun_lockfiles: dict[str, str] = field(default_factory=dict)  # bun.lock lockfileVersion -> oldest Bun reading it
    bun_entry_files: tuple[str, ...] = ()  # beside a Bun lockfile, these make an app without package.json
    oldest_node: str | None = None  # older majors have no image the buildpack builds on: a pin is a floor

    def is_dev_server(self, command: str) -> bool:
        return any(pattern.search(command) for pattern in self.dev_servers)

    def package_of(self, program: str) -> str:
        """The npm package that provides a node_modules/.bin program (usually named after it)."""
        return self.bins.get(program, program)


@cache
def rules() -> NodeRules:
    """The tables of node.yaml (parsed once)."""
    from unkey_deploy.errors import ConfigError
    from unkey_deploy.plan._buildpacks import buildpacks_dir, load_buildpacks

    try:
        return _parse(load_buildpacks()["node"].data)
    except (KeyError, TypeError, AttributeError, re.error) as exc:
        raise ConfigError(f"buildpack {buildpacks_dir() / 'node.yaml'} is malformed ({exc}); reinstall "
                          "unkey-deploy") from None


def _parse(data: dict[str, Any]) -> NodeRules:
    frameworks = [fw for fw in data.get("frameworks") or () if isinstance(fw, dict)]
    return NodeRules(
        start_scripts=tuple(str(s) for s in data.get("start_scripts") or ("start",)),
        dev_servers=tuple(re.compile(p) for p in data.get("dev_servers") or ()),
        programs={str(k): frozenset(str(p) for p in v) for k, v in (data.get("programs") or {}).items()},
        bins={str(k): str(v) for k, v in (data.get("bins") or {}).items()},
        build_steps=tuple(
            BuildStep(
                id=step["id"], dependencies=tuple(step.get("dependencies", ())), run=step["run"],
                files=tuple(step.get("files", ())), folders=tuple(step.get("folders", ())),
                setting=step.get("setting"), skip_if=step.get("skip_if"), packages=tuple(step.get("packages", ())),
            )
            for step in data.get("build_steps") or ()
        ),
        task_runners=tuple(
            TaskRunner(id=r["id"], files=tuple(r.get("files", ())), dependencies=tuple(r.get("dependencies", ())),
                       build=r["build"])
            for r in data.get("task_runners") or ()
        ),
        pnpm_lockfiles={str(k): tuple(str(v) for v in vs) for k, vs in (data.get("pnpm_lockfiles") or {}).items()},
        pnpm_node={str(k): str(v) for k, v in (data.get("pnpm_node") or {}).items()},
        yarn_lockfiles={str(k): str(v) for k, v in (data.get("yarn_lockfiles") or {}).items()},
        corepack_env={str(k): str(v) for k, v in (data.get("corepack_env") or {}).items()},
        bun_lockfiles={str(k): str(v) for k, v in (data.get("bun_lockfiles") or {}).items()},
        bun_entry_files=tuple(str(f) for f in data.get("bun_entry_files") or ()),
        oldest_node=str(data["oldest_node"]) if data.get("oldest_node") else None,
        standalone={
            fw["id"]: Standalone(
                config=tuple(fw["standalone"].get("config", ())), pattern=fw["standalone"]["pattern"],
                start=fw["standalone"]["start"], copy={str(k): str(v) for k, v in fw["standalone"]["copy"].items()},
            )
            for fw in frameworks if isinstance(fw.get("standalone"), dict)
        },
    )
