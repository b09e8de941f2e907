"""Checks over every finished plan: the start program exists in the runtime stage, and a port the source
hard-codes becomes the plan's port."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import Plan, Recipe, make_plan
from unkey_deploy.plan._buildpacks import PortRule
from unkey_deploy.plan._checks import check_ports, check_start, start_programs


def test_programs_of_a_command_and_of_a_shell_line():
    assert start_programs(["node", "server.js"]) == ["node"]
    assert start_programs(["env", "A=1", "node", "x.js"]) == ["node"]
    assert start_programs(["sh", "-c", "exec gunicorn app:app --bind 0.0.0.0:$PORT"]) == ["sh", "gunicorn"]
    assert start_programs(["sh", "-c", "npm run migrate && NODE_ENV=production pnpm start"]) == ["sh", "npm", "pnpm"]
    assert start_programs(["sh", "-c", "exec app >>log 2>&1"]) == ["sh", "app"]
    assert start_programs(["sh", "-c", "worker & exec web"]) == ["sh", "worker", "web"]
    assert start_programs(["sh", "-c", "if [ -f x ]; then a; fi"]) is None  # too involved: no verdict


def test_a_program_the_runtime_image_lacks_is_a_reason_and_a_warning(run_cli, tmp_path):
    write(tmp_path, {"Procfile": "web: pnpm start\n"})
    plan = make_plan(tmp_path)
    assert any(r.startswith("start program pnpm: not found in the runtime stage") for r in plan.reasons)
    assert len(plan.warnings) == 1 and "pnpm" in plan.warnings[0]
    text = run_cli("plan", str(tmp_path))
    assert text.returncode == 0
    assert "Warnings:\n  - the start command runs pnpm, which will not exist" in text.stdout
    data = json.loads(run_cli("plan", str(tmp_path), "--output", "json").stdout)
    assert data["warnings"] == plan.warnings


def test_programs_of_the_image_and_files_of_the_app_are_found(tmp_path):
    write(tmp_path / "a", {"Procfile": "web: bash -c 'sleep 1'\n"})
    assert make_plan(tmp_path / "a").warnings == []
    write(tmp_path / "b", {"Procfile": "web: ./bin/server --port $PORT\n", "bin/server": "#!/bin/sh\n"})
    assert make_plan(tmp_path / "b").warnings == []
    write(tmp_path / "c", {"Procfile": "web: ./bin/server --port $PORT\n"})
    plan = make_plan(tmp_path / "c")
    assert plan.warnings and "./bin/server is not a file copied into the runtime image" in plan.warnings[0]


def _plan(tmp_path: Path, recipe: Recipe) -> Plan:
    return Plan(app_dir=tmp_path, context_dir=tmp_path, recipe=recipe)


def test_files_from_the_build_stage_and_declared_programs_are_trusted(tmp_path):
    built = Recipe(runtime_image="img", build_image="b", cmd=["/app/web"], artifacts=[("/out/web", "/app/web")])
    plan = _plan(tmp_path, built)
    check_start(plan, ("sh",))
    assert plan.warnings == []
    installed = Recipe(runtime_image="img", cmd=["gunicorn", "app:app"], programs=["gunicorn"])
    plan = _plan(tmp_path, installed)
    check_start(plan, ("python",))
    assert plan.warnings == []
    unknown = Recipe(runtime_image="img", cmd=["gunicorn"], runtime_env={"PATH": "/opt/venv/bin:$PATH"})
    plan = _plan(tmp_path, unknown)
    check_start(plan, ("python",))
    assert plan.warnings == []  # the venv may hold it and the recipe does not say: no false alarm
    check_start(plan, None)
    assert plan.warnings == []  # nothing known about the image


def test_warnings_are_shown_before_the_build(tmp_path):
    from unkey_deploy.build_stage import PreparedBuild, run_build

    write(tmp_path, {"Procfile": "web: pnpm start\n"})
    plan = make_plan(tmp_path)
    seen: list[str] = []

    class Reporter:
        def warn(self, message: str) -> None:
            seen.append(message)

    prepared = PreparedBuild(plan, None, "img:t", False, skip_reason="no engine")  # type: ignore[arg-type]
    run_build(prepared, Reporter())  # type: ignore[arg-type]
    assert seen[0] == plan.warnings[0] and "skipping the build" in seen[1]


# -- hard-coded ports --------------------------------------------------------------------------------------

def test_a_port_the_start_script_hard_codes_becomes_the_plan_port(tmp_path):
    write(tmp_path, {"start.sh": "#!/bin/sh\nexec ./server --port 3000\n"})
    plan = make_plan(tmp_path)
    assert plan.port == 3000
    assert any(r.startswith("port 3000: hard-coded in start.sh") for r in plan.reasons)
    text = render(plan).dockerfile
    assert "ENV PORT=3000" in text and "EXPOSE 3000" in text


def test_a_script_that_reads_port_keeps_the_default(tmp_path):
    write(tmp_path, {"start.sh": "#!/bin/sh\nexec ./server --port ${PORT:-3000}\n"})
    assert make_plan(tmp_path).port == 8080


def test_procfile_port_wins_over_the_language_default(tmp_path):
    write(tmp_path, {"requirements.txt": "gunicorn\n", "app.py": "app = None\n",
                     "Procfile": "web: gunicorn app:app -b 0.0.0.0:5000\n"})
    plan = make_plan(tmp_path)
    assert plan.port == 5000 and any("hard-coded in Procfile" in r for r in plan.reasons)


def test_port_rules_walk_the_tree_within_bounds(tmp_path):
    rule = PortRule(files=("*.js", "src/**/*.js"), pattern=r"\.listen\(\s*(\d{2,5})",
                    reads_port=r"process\.env\.PORT")
    write(tmp_path, {"node_modules/x/index.js": "app.listen(9999)", "src/lib/server.js": "app.listen(4000)\n"})
    plan = _plan(tmp_path, Recipe(runtime_image="node", cmd=["node", "src/lib/server.js"]))
    check_ports(plan, tmp_path, (rule,), 8080)
    assert plan.port == 4000
    write(tmp_path, {"index.js": "const port = process.env.PORT || 4000\n"})
    plan = _plan(tmp_path, Recipe(runtime_image="node", cmd=["node", "index.js"]))
    check_ports(plan, tmp_path, (rule,), 8080)
    assert plan.port == 8080
