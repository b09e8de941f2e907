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


def test_a_dev_start_task_falls_back_to_the_entry_file(tmp_path):
    write(tmp_path, {"deno.json": {"tasks": {"start": "deno run -A dev.ts"}}, "main.ts": ""})
    plan = make_plan(tmp_path)
    assert plan.start_command == "deno run --allow-net --allow-env --allow-read main.ts"
    assert "build" not in plan.build_command


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        ({"start": "deno run -A --watch main.ts"}, "deno run -A main.ts"),
        # github.com/Pepegakac123/deno-link-shortener@467a12f44cb57f7d40cd89cf6ab7431dd3642387: only a dev task,
        # whose flags the app needs (Deno KV); deno serve defaults to 8000, so it gets $PORT.
        ({"dev": "deno serve --watch -A --unstable-kv --env src/main.ts", "test": "deno test tests/"},
         "deno serve --port=$PORT -A --unstable-kv --env src/main.ts"),
        # github.com/uptownhr/uptownhr@c2c33a4905b795a64d26e9b915e6f6e381c6354c apps/deno-hello-world: a dev run
        # prompts for permissions; the image grants the usual ones.
        ({"dev": "deno run --watch main.ts"}, "deno run --allow-net --allow-env --allow-read main.ts"),
        ({"dev": "deno run --watch=static/ --allow-net --allow-read main.ts"},
         "deno run --allow-net --allow-read main.ts"),
    ],
)
def test_a_watching_task_is_the_production_command_without_its_watcher(tmp_path, tasks, expected):
    write(tmp_path, {"deno.json": {"tasks": tasks}, "main.ts": "", "src/main.ts": ""})
    plan = make_plan(tmp_path)
    assert plan.start_command == expected
    assert any("without its file watcher (--watch)" in r for r in plan.reasons)


@pytest.mark.parametrize("dev", ["deno run -A --watch dev.ts", "deno run --watch main.ts && echo done", "vite"])
def test_a_dev_task_that_is_more_than_a_watcher_is_not_used(tmp_path, dev):
    write(tmp_path, {"deno.json": {"tasks": {"dev": dev}}, "main.ts": ""})
    assert make_plan(tmp_path).start_command == "deno run --allow-net --allow-env --allow-read main.ts"


def test_an_entry_that_exports_its_handler_is_served_by_deno_serve(tmp_path):
    entry = 'import app from "./app.ts";\n\nexport default {\n  fetch(req) {\n    return app(req);\n  },\n};\n'
    write(tmp_path, {"deno.json": {}, "main.ts": entry, "app.ts": ""})
    plan = make_plan(tmp_path)
    assert plan.start_command == "deno serve --allow-net --allow-env --allow-read --port=$PORT main.ts"
    assert plan.port == 8080  # deno serve gets $PORT, so no hard-coded port applies


@pytest.mark.parametrize(
    ("code", "port"),
    [
        # github.com/Leviakc/quoted@d7f71dcd20042dbb3e278ba4b9cad4fd3354c810 (src/main.ts): no port, so 8000.
        ("const app = new Hono();\nDeno.serve(app.fetch);\n", 8000),
        ("Deno.serve((_req) => new Response('hi'));\n", 8000),
        ("Deno.serve({ hostname: '0.0.0.0' }, handler);\n", 8000),
        ("import { serve } from 'https://deno.land/std/http/server.ts';\nserve(handler);\n", 8000),
        ("Deno.serve({ port: 3000 }, app.fetch);\n", 3000),
        ("serve(handler, { port: 4000 });\n", 4000),
        ("Deno.serve({ port: Number(Deno.env.get('PORT') ?? 8000) }, handler);\n", 8080),
        ("const port = 3000;\nDeno.serve({ port }, handler);\n", 8080),  # a variable: unknown, left alone
    ],
)
def test_the_port_deno_serve_listens_on(tmp_path, code, port):
    write(tmp_path, {"deno.json": {}, "main.ts": code})
    plan = make_plan(tmp_path)
    assert plan.port == port
    if port == 8000:
        assert any("names no port" in r for r in plan.reasons)


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
