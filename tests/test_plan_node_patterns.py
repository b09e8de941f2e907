"""Node and Bun apps as real repositories have them: the Bun release the lockfile needs, Bun apps without
package.json, static-output frameworks without a build script, end-of-life Node pins."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

HONO = {"dependencies": {"hono": "4"}, "scripts": {"start": "bun run src/index.ts"}}
SERVER = "Bun.serve({ port: process.env.PORT, fetch: () => new Response('ok') })\n"


def bun_app(tmp_path, lockfile: str, lock_version: int = 1, **pkg):
    lock = f'{{\n  "lockfileVersion": {lock_version},\n  "workspaces": {{}},\n}}\n'  # bun.lock is JSONC
    write(tmp_path, {"package.json": {**HONO, **pkg}, "src/index.ts": SERVER, lockfile: lock})
    return make_plan(tmp_path)


def test_a_text_bun_lock_without_a_pin_gets_a_bun_that_reads_it(tmp_path):
    plan = bun_app(tmp_path, "bun.lock")
    assert plan.versions == {"bun": "1.2"}
    assert plan.recipe.runtime_image == "oven/bun:1.2-slim"
    assert any("oldest that reads lockfileVersion 1 of bun.lock" in r for r in plan.reasons)
    assert plan.warnings == []


def test_a_bun_lock_of_bun_1_1_keeps_the_default(tmp_path):
    plan = bun_app(tmp_path, "bun.lock", lock_version=0)
    assert plan.versions == {"bun": "1.1"}


def test_a_bun_lock_of_an_unknown_version_needs_the_newest_bun(tmp_path):
    plan = bun_app(tmp_path, "bun.lock", lock_version=9)
    assert plan.versions == {"bun": "1.2"}


def test_a_binary_lockfile_keeps_the_default_bun(tmp_path):
    plan = bun_app(tmp_path, "bun.lockb")
    assert plan.versions == {"bun": "1.1"}


def test_a_pin_older_than_the_lockfile_is_kept_with_a_warning(tmp_path):
    plan = bun_app(tmp_path, "bun.lock", packageManager="bun@1.1.38")
    assert plan.versions == {"bun": "1.1.38"}
    assert len(plan.warnings) == 1
    assert "lockfileVersion 1 of bun.lock needs bun >= 1.2" in plan.warnings[0]
    assert "bun 1.1.38 is pinned" in plan.warnings[0]


def test_a_bun_version_file_older_than_the_lockfile_warns(tmp_path):
    write(tmp_path, {".bun-version": "1.1.0\n"})
    plan = bun_app(tmp_path, "bun.lock")
    assert plan.versions == {"bun": "1.1.0"}
    assert "raise the pin to 1.2" in plan.warnings[0]


def test_a_range_that_allows_the_lockfile_s_release_takes_it(tmp_path):
    plan = bun_app(tmp_path, "bun.lock", engines={"bun": ">=1.0"})
    assert plan.versions == {"bun": "1.2"}
    assert plan.warnings == []


@pytest.mark.parametrize("lockfile", ["bun.lockb", "bun.lock"])
def test_a_bun_app_without_package_json_runs_its_entry(tmp_path, lockfile):
    entry = "Bun.serve({\n  port: 3000,\n  fetch() { return new Response('hi') },\n})\n"
    write(tmp_path, {lockfile: "{}\n", "index.ts": entry})
    plan = make_plan(tmp_path)
    assert plan.language == "node" and plan.package_manager == "bun"
    assert plan.start_command == "bun index.ts"
    assert plan.install_command is None
    assert plan.port == 3000
    dockerfile = render(plan).dockerfile
    assert "package.json" not in dockerfile
    assert 'CMD ["bun", "index.ts"]' in dockerfile


def test_a_bun_lockfile_alone_is_not_an_app(tmp_path):
    write(tmp_path, {"bun.lockb": "{}\n", "README.md": "notes\n"})
    from unkey_deploy.errors import UsageError

    with pytest.raises(UsageError):
        make_plan(tmp_path)


def test_vite_without_a_build_script_runs_vite_build(tmp_path):
    write(tmp_path, {"package.json": {"devDependencies": {"vite": "5"}, "scripts": {"dev": "vite"}},
                     "index.html": '<script type="module" src="/src/main.ts"></script>\n',
                     "src/main.ts": "let a = 1\n"})
    plan = make_plan(tmp_path)
    assert plan.build_command == "npx --no-install vite build"
    dockerfile = render(plan).dockerfile
    assert "&& npx --no-install vite build\n" in dockerfile
    assert "/app/dist" in dockerfile


def test_vite_serving_a_page_of_classic_scripts_is_a_static_site(tmp_path):
    write(tmp_path, {"package.json": {"devDependencies": {"vite": "5"}, "scripts": {"dev": "node dev.js"}},
                     "index.html": '<h1>me</h1><script src="/app.js"></script>\n', "app.js": "console.log(1)\n",
                     "404.html": "<h1>lost</h1>\n"})
    plan = make_plan(tmp_path)
    assert plan.build_command is None and plan.install_command is None
    assert plan.versions == {}
    dockerfile = render(plan).dockerfile
    assert "FROM node" not in dockerfile and "/app/dist" not in dockerfile
    assert "COPY --chown=10001:10001 . .\n" in dockerfile
    assert any("index.html has nothing for it to build" in r for r in plan.reasons)


def test_a_static_framework_nothing_builds_serves_the_committed_root(tmp_path):
    # @sveltejs/kit without vite installed: nothing can build build/, the committed index.html is the site
    write(tmp_path, {"package.json": {"devDependencies": {"@sveltejs/kit": "2"}}, "index.html": "<h1>hi</h1>\n"})
    plan = make_plan(tmp_path)
    assert plan.build_command is None
    assert plan.recipe.copy_from == "."
    assert not plan.recipe.artifacts
    assert any("the root (index.html) is served" in r for r in plan.reasons)


@pytest.mark.parametrize(("pin", "chosen"), [("7.0.0", "18"), ("10.16.3", "18"), ("0.12", "18")])
def test_an_end_of_life_node_pin_is_a_floor(tmp_path, pin, chosen):
    write(tmp_path, {"package.json": {"engines": {"node": pin}, "dependencies": {"express": "4"},
                                      "scripts": {"start": "node server.js"}},
                     "server.js": "require('express')().listen(process.env.PORT)\n"})
    plan = make_plan(tmp_path)
    assert plan.versions["node"] == chosen
    assert plan.recipe.runtime_image == f"node:{chosen}-slim"
    assert len(plan.warnings) == 1 and f"node {pin} is pinned" in plan.warnings[0]
    assert any(r.startswith("warning: node") for r in plan.reasons)


def test_a_supported_old_node_pin_is_kept(tmp_path):
    write(tmp_path, {"package.json": {"engines": {"node": "16.20.2"}, "scripts": {"start": "node server.js"}},
                     "server.js": "require('http').createServer().listen(process.env.PORT)\n"})
    plan = make_plan(tmp_path)
    assert plan.versions["node"] == "16.20.2"
    assert plan.warnings == []


def test_a_framework_output_nothing_builds_is_not_copied(tmp_path):
    write(tmp_path, {"package.json": {"devDependencies": {"nuxt": "3"}, "scripts": {"start": "node server.mjs"}},
                     "server.mjs": "import http from 'node:http'\nhttp.createServer().listen(process.env.PORT)\n"})
    plan = make_plan(tmp_path)
    assert plan.build_command is None
    assert ".output" not in render(plan).dockerfile
