"""Version pinning: every source kind, precedence between sources, and range resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from unkey_deploy.errors import ConfigError
from unkey_deploy.plan import make_plan
from unkey_deploy.plan._buildpacks import VersionRule
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._images import ImageMap, parse_env
from unkey_deploy.plan._versions import pick

NODE = VersionRule("node", "22", ("24", "22", "20", "18"), {"lts/iron": "20"})
PYTHON = VersionRule("python", "3.12", ("3.13", "3.12", "3.11", "3.10", "3.9"))




@pytest.mark.parametrize(
    ("spec", "rule", "expected"),
    [
        ("20.11.1", NODE, "20.11.1"),
        ("v20", NODE, "20"),
        (">=18", NODE, "22"),
        (">= 18 <21", NODE, "20"),
        ("^20.5.0", NODE, "20"),
        ("20.x", NODE, "20"),
        ("18 || 20", NODE, "20"),
        ("lts/iron", NODE, "20"),
        ("*", NODE, "22"),
        (">=3.9,<3.12", PYTHON, "3.11"),
        ("~=3.10", PYTHON, "3.12"),
        ("==3.10.*", PYTHON, "3.10"),
        ("^3.11", PYTHON, "3.12"),
        (">=3.14", PYTHON, "3.14"),
        ("3.11", PYTHON, "3.11"),
    ],
)
def test_pick(spec, rule, expected):
    assert pick(spec, rule) == expected


def node_app(root: Path, extra: dict) -> Path:
    return write(root, {"package.json": {"scripts": {"start": "node a.js"}, **extra.pop("package.json", {})}, **extra})


@pytest.mark.parametrize(
    ("files", "expected", "source"),
    [
        ({".nvmrc": "v20.11.1\n", ".node-version": "18"}, "20.11.1", ".nvmrc"),
        ({".node-version": "18.20.4"}, "18.20.4", ".node-version"),
        ({"package.json": {"engines": {"node": ">=18 <21"}}}, "20", "package.json#engines.node"),
        ({".tool-versions": "python 3.11\nnodejs 20.10.0\n"}, "20.10.0", "nodejs"),
        ({"mise.toml": "[tools]\nnode = '24'\n"}, "24", "node"),
        ({}, "22", None),
    ],
)
def test_node_version_sources_in_order(tmp_path, files, expected, source):
    plan = make_plan(node_app(tmp_path, dict(files)))
    assert plan.versions["node"] == expected
    assert plan.recipe.runtime_image == f"node:{expected}-slim"
    reason = next(r for r in plan.reasons if r.startswith("node "))
    assert (source in reason) if source else "default" in reason


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".python-version": "3.11.9\n", "runtime.txt": "python-3.10.4"}, "3.11.9"),
        ({"runtime.txt": "python-3.10.4\n"}, "3.10.4"),
        ({"pyproject.toml": "[project]\nname='a'\nrequires-python='>=3.9,<3.12'\n"}, "3.11"),
        ({"pyproject.toml": "[tool.poetry.dependencies]\npython = '~3.10'\n"}, "3.10"),
        ({"Pipfile": "[requires]\npython_version = '3.9'\n"}, "3.9"),
        ({}, "3.12"),
    ],
)
def test_python_version_sources(tmp_path, files, expected):
    plan = make_plan(write(tmp_path, {"main.py": "", **files}))
    assert plan.versions["python"] == expected
    assert plan.recipe.runtime_image == f"python:{expected}-slim"


def test_go_toolchain_line_wins_over_go_line(tmp_path):
    write(tmp_path, {"go.mod": "module x\n\ngo 1.22\n\ntoolchain go1.23.2\n", "main.go": "package main\n"})
    plan = make_plan(tmp_path)
    assert plan.versions == {"go": "1.23.2"}
    assert plan.recipe.build_image == "golang:1.23.2-bookworm"


def test_bun_version_from_package_manager_field(tmp_path):
    write(tmp_path, {"package.json": {"packageManager": "bun@1.2.1", "scripts": {"start": "bun x.ts"}}})
    plan = make_plan(tmp_path)
    assert plan.versions == {"bun": "1.2.1"}
    assert plan.recipe.runtime_image == "oven/bun:1.2.1-slim"


def test_workspace_member_uses_the_root_pins(tmp_path):
    write(tmp_path, {".nvmrc": "20\n", "package.json": {"workspaces": ["apps/*"]}, "package-lock.json": "{}",
                     "apps/a/package.json": {"scripts": {"start": "node a.js"}}})
    assert make_plan(tmp_path, root_dir="apps/a").versions["node"] == "20"


@pytest.mark.parametrize(
    ("mapping", "ref", "expected"),
    [
        ({"python:3.12-slim": "local/py:1"}, "python:3.12-slim", "local/py:1"),
        ({"python": "mirror.io/library/python"}, "python:3.12-slim", "mirror.io/library/python:3.12-slim"),
        ({"python": "local/python:stand-in"}, "python:3.11-slim", "local/python:stand-in"),
        ({"gcr.io/distroless/static-debian12": "localhost:5000/static"},
         "gcr.io/distroless/static-debian12:nonroot", "localhost:5000/static:nonroot"),
        ({"node": "x/node"}, "python:3.12-slim", "python:3.12-slim"),
    ],
)
def test_image_remap(mapping, ref, expected):
    assert ImageMap(mapping).remap(ref) == expected


def test_env_map_formats():
    assert parse_env('{"a": "b"}') == {"a": "b"}
    assert parse_env("python=p, node:22-slim=n:1") == {"python": "p", "node:22-slim": "n:1"}
    with pytest.raises(ConfigError, match="from=to"):
        parse_env("python")


def test_bad_env_map_is_a_one_line_usage_error(run_cli):
    repo = Path(__file__).resolve().parents[1]
    result = run_cli("plan", str(repo / "examples" / "node-http"), env={"UNKEY_BASE_IMAGES": "nonsense"})
    assert result.returncode == 2
    assert "UNKEY_BASE_IMAGES" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "argv"),
    [
        ("node server.js", ["node", "server.js"]),
        ("gunicorn app:app --bind 0.0.0.0:$PORT", ["sh", "-c", "exec gunicorn app:app --bind 0.0.0.0:$PORT"]),
        ("NODE_OPTIONS=--x node a.js", ["env", "NODE_OPTIONS=--x", "node", "a.js"]),
        ("npm run migrate && node a.js", ["sh", "-c", "npm run migrate && node a.js"]),
    ],
)
def test_exec_form(command, argv):
    assert exec_form(command) == argv
