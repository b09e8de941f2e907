"""Deno: the build task, and a production start that is never a dev server or a watcher."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.errors import UsageError
from unkey_deploy.plan import make_plan

FRESH_IMPORTS = {"$fresh/": "https://deno.land/x/fresh@1.7.3/", "preact": "npm:preact@10.22.1"}


def test_fresh_starts_main_ts_not_the_watching_start_task(tmp_path):
    tasks = {"start": "deno run -A --watch=static/,routes/ dev.ts", "build": "deno run -A dev.ts build"}
    write(tmp_path, {"deno.json": {"tasks": tasks, "imports": FRESH_IMPORTS}, "main.ts": "", "dev.ts": ""})
    plan = make_plan(tmp_path)
    assert plan.framework == "fresh"
    assert plan.start_command == "deno run -A main.ts --port=$PORT"
    assert "deno task start" not in plan.recipe.cmd[-1] and "--watch" not in plan.recipe.cmd[-1]
    assert plan.build_command == "deno cache main.ts && deno task build"
    assert any("dev server (--watch), not used" in r for r in plan.reasons)


def test_fresh_2_is_found_through_jsr(tmp_path):
    tasks = {"dev": "vite", "build": "vite build", "start": "deno serve -A _fresh/server.js"}
    write(tmp_path, {"deno.json": {"tasks": tasks, "imports": {"fresh": "jsr:@fresh/core@^2.0.0"}}, "main.ts": ""})
    plan = make_plan(tmp_path)
    assert plan.framework == "fresh"
    assert plan.start_command == "deno serve --port=$PORT -A _fresh/server.js"  # deno serve defaults to 8000
    assert plan.build_command.endswith("deno task build")


@pytest.mark.parametrize("start", ["deno run -A --watch main.ts", "deno run -A dev.ts"])
def test_a_dev_start_task_falls_back_to_the_entry_file(tmp_path, start):
    write(tmp_path, {"deno.json": {"tasks": {"start": start}}, "main.ts": ""})
    plan = make_plan(tmp_path)
    assert plan.start_command == "deno run --allow-net --allow-env --allow-read main.ts"
    assert "build" not in plan.build_command


def test_a_production_start_task_is_used(tmp_path):
    write(tmp_path, {"deno.json": {"tasks": {"start": "deno run --allow-net server.ts"}}, "server.ts": ""})
    assert make_plan(tmp_path).start_command == "deno task start"


def test_only_a_dev_task_and_no_entry_is_a_usage_error(tmp_path):
    write(tmp_path, {"deno.json": {"tasks": {"start": "deno run --watch app/dev.ts"}}})
    with pytest.raises(UsageError, match="not a dev server"):
        make_plan(tmp_path)


@pytest.mark.parametrize(("lock", "pin", "expected"), [("5", None, "2.4.5"), ("4", None, "2.4.5"),
                                                      ("5", "2.1.4", "2.1.4")])
def test_the_lockfile_format_sets_the_oldest_deno(tmp_path, lock, pin, expected):
    write(tmp_path, {"deno.json": {}, "deno.lock": {"version": lock}, "main.ts": "",
                     **({".dvmrc": pin} if pin else {})})
    plan = make_plan(tmp_path)
    assert plan.versions == {"deno": expected}
    assert plan.recipe.runtime_image == f"denoland/deno:{expected}"
