"""Every example's plan JSON, Dockerfile and .dockerignore against a checked-in snapshot.

Regenerate after an intended change with:  UNKEY_UPDATE_SNAPSHOTS=1 pytest tests/test_plan_snapshots.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan
from unkey_deploy.plan._engine import detect
from unkey_deploy.plan._source import Source

REPO = Path(__file__).resolve().parents[1]
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UNKEY_UPDATE_SNAPSHOTS") == "1"


def root_dir_of(example: Path) -> str:
    """Monorepo examples name the app to build in a `.root-dir` file (what --root-dir would be)."""
    marker = example / ".root-dir"
    return marker.read_text().strip() if marker.is_file() else "."


def app_examples() -> list[Path]:
    examples = sorted(p for p in (REPO / "examples").iterdir() if p.is_dir())
    return [p for p in examples if detect(Source(p, p / root_dir_of(p)))]


EXAMPLES = app_examples()


@pytest.fixture(autouse=True)
def _no_ambient_remaps(monkeypatch):
    monkeypatch.delenv("UNKEY_BASE_IMAGES", raising=False)


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_matches_snapshot(example: Path):
    plan = make_plan(example, root_dir=root_dir_of(example))
    outputs = {"plan.json": json.dumps(plan.to_json(), indent=2) + "\n"}
    if plan.generated:
        rendered = render(plan)
        outputs["Dockerfile"] = rendered.dockerfile
        outputs["dockerignore"] = rendered.dockerignore
    directory = SNAPSHOTS / example.name
    if UPDATE:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in outputs.items():
            (directory / name).write_text(text)
        return
    for name, text in outputs.items():
        snapshot = directory / name
        assert snapshot.is_file(), f"no snapshot {snapshot}; run UNKEY_UPDATE_SNAPSHOTS=1 pytest {__file__}"
        assert text == snapshot.read_text(), f"{example.name}/{name} changed; review, then update the snapshots"


def test_every_snapshot_has_an_example():
    stale = sorted({p.name for p in SNAPSHOTS.iterdir() if p.is_dir()} - {p.name for p in EXAMPLES})
    assert not stale, f"snapshots without an example: {stale}; delete them"


def test_the_examples_the_docker_tests_build_need_no_network():
    for name in ("python-http", "node-http", "go-http", "static-site"):
        plan = make_plan(REPO / "examples" / name)
        assert plan.generated
        assert plan.install_command in (None, "go mod download"), name
        assert plan.build_command is None or plan.language == "go", name
