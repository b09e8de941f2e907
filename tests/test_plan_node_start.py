"""Node start commands: a production server whose program exists in the runtime image."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.errors import UsageError
from unkey_deploy.plan import make_plan

NEST_SCRIPTS = {"build": "nest build", "start": "nest start", "start:dev": "nest start --watch",
                "start:prod": "node dist/main"}
NEST = {"dependencies": {"@nestjs/core": "^11", "@nestjs/common": "^11"},
        "devDependencies": {"@nestjs/cli": "^11", "typescript": "^5"}}


def plan_of(tmp_path, files):
    write(tmp_path, files)
    return make_plan(tmp_path)


def test_nest_prefers_start_prod_over_the_pruned_cli(tmp_path):
    plan = plan_of(tmp_path, {"package.json": {"scripts": NEST_SCRIPTS, **NEST}, "package-lock.json": "{}"})
    assert plan.start_command == "node dist/main"
    assert "start: the start:prod script of package.json" in plan.reasons
    dockerfile = render(plan).dockerfile
    assert "npm run build && npm prune --omit=dev" in dockerfile
    assert dockerfile.rstrip().endswith('CMD ["node", "dist/main"]')
    assert plan.warnings == []


def test_nest_without_start_prod_runs_the_framework_server_not_nest_start(tmp_path):
    scripts = {k: v for k, v in NEST_SCRIPTS.items() if k != "start:prod"}
    plan = plan_of(tmp_path, {"package.json": {"scripts": scripts, **NEST}})
    assert plan.start_command == "node dist/main"
    assert any("not the start script of package.json (nest start)" in r for r in plan.reasons)
    assert "start: nestjs's production server" in plan.reasons


@pytest.mark.parametrize("script", ["nodemon index.js", "node --watch index.js", "ts-node-dev src/index.ts",
                                    "vite", "next dev", "tsx watch src/index.ts", "react-scripts start"])
def test_a_dev_server_is_never_the_start_command(tmp_path, script):
    plan = plan_of(tmp_path, {"package.json": {"scripts": {"start": script}, "dependencies": {"express": "4"}},
                              "index.js": "require('express')().listen(process.env.PORT)\n"})
    assert plan.start_command == "node index.js"
    assert any("a dev server, watcher or build tool" in r for r in plan.reasons)


def test_only_dev_servers_and_no_entry_is_a_clear_error(tmp_path):
    write(tmp_path, {"package.json": {"scripts": {"start": "nodemon src/app.ts"}, "dependencies": {"koa": "2"}}})
    with pytest.raises(UsageError, match="only run a dev server"):
        make_plan(tmp_path)


def test_package_manager_scripts_expand_to_what_they_run(tmp_path):
    pkg = {"packageManager": "pnpm@9.15.0",
           "scripts": {"start": "pnpm run build && pnpm run serve:prod", "build": "tsc",
                       "serve:prod": "node dist/server.js"},
           "dependencies": {"fastify": "5"}, "devDependencies": {"typescript": "5"}}
    plan = plan_of(tmp_path, {"package.json": pkg, "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"})
    assert plan.start_command == "node dist/server.js"
    assert "pnpm" not in render(plan).dockerfile.split("FROM node:22-slim\n")[1]


def test_cross_env_and_npx_launchers_are_dropped(tmp_path):
    pkg = {"scripts": {"start": "cross-env NODE_ENV=production npx next start"},
           "dependencies": {"next": "15", "react": "19"}, "devDependencies": {"cross-env": "7"}}
    plan = plan_of(tmp_path, {"package.json": pkg})
    assert plan.start_command == "NODE_ENV=production next start"
    assert plan.recipe.cmd == ["env", "NODE_ENV=production", "next", "start"]


def test_a_dev_dependency_the_start_needs_is_kept(tmp_path):
    pkg = {"scripts": {"start": "ts-node src/index.ts"}, "dependencies": {"express": "4"},
           "devDependencies": {"ts-node": "10", "typescript": "5"}}
    plan = plan_of(tmp_path, {"package.json": pkg, "package-lock.json": "{}"})
    assert plan.start_command == "ts-node src/index.ts"
    assert "npm prune" not in render(plan).dockerfile
    assert "start needs ts-node from devDependencies: they stay in the image" in plan.reasons


def test_a_required_module_from_dev_dependencies_is_kept(tmp_path):
    pkg = {"scripts": {"start": "node -r dotenv/config index.js"}, "dependencies": {"express": "4"},
           "devDependencies": {"dotenv": "16"}}
    plan = plan_of(tmp_path, {"package.json": pkg, "package-lock.json": "{}", "index.js": ""})
    assert "npm prune" not in render(plan).dockerfile
    assert "start needs dotenv from devDependencies: they stay in the image" in plan.reasons


def test_a_start_program_nothing_installs_is_a_warning_before_any_build(tmp_path, run_cli):
    write(tmp_path, {"package.json": {"scripts": {"start": "pm2-runtime ecosystem.config.js"},
                                      "dependencies": {"express": "4"}}})
    plan = make_plan(tmp_path)
    assert plan.start_command == "pm2-runtime ecosystem.config.js"
    assert len(plan.warnings) == 1 and "pm2-runtime (pm2)" in plan.warnings[0]
    assert any(r.startswith("warning: ") for r in plan.reasons)
    result = run_cli("plan", str(tmp_path), "--output", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["warnings"] == plan.warnings
    text = run_cli("plan", str(tmp_path))
    assert "Warnings:" in text.stdout


def test_a_framework_start_whose_server_package_is_missing_falls_back_to_the_entry(tmp_path):
    pkg = {"dependencies": {"@remix-run/node": "2", "express": "4"}, "devDependencies": {"@remix-run/dev": "2"}}
    plan = plan_of(tmp_path, {"package.json": pkg, "server.js": "app.listen(process.env.PORT)\n"})
    assert plan.start_command == "node server.js"
    assert any("@remix-run/serve" in r for r in plan.reasons)


def test_yarn_node_runs_node_with_the_pnp_loader_under_plug_n_play(tmp_path):
    pkg = {"packageManager": "yarn@4.5.3", "scripts": {"start": "yarn node server.js"},
           "dependencies": {"express": "4"}}
    plan = plan_of(tmp_path, {"package.json": pkg, "yarn.lock": "__metadata:\n  version: 8\n",
                              ".yarnrc.yml": "enableGlobalCache: false\n"})
    assert plan.start_command == "node -r ./.pnp.cjs server.js"


def test_next_standalone_ships_only_the_traced_server(tmp_path):
    pkg = {"scripts": {"build": "next build", "start": "next start"},
           "dependencies": {"next": "14.2.3", "react": "18", "react-dom": "18"}}
    plan = plan_of(tmp_path, {"package.json": pkg, "package-lock.json": "{}",
                              "next.config.mjs": 'export default { output: "standalone" };\n',
                              "public/logo.svg": "<svg/>"})
    assert plan.start_command == "node server.js"
    assert plan.recipe.artifacts == [("/app/.next/standalone", "/app"), ("/app/.next/static", "/app/.next/static"),
                                     ("/app/public", "/app/public")]
    assert "npm prune" not in render(plan).dockerfile


def test_a_procfile_web_line_replaces_a_start_that_would_warn(tmp_path):
    write(tmp_path, {"package.json": {"scripts": {"start": "pm2-runtime app.js"}, "dependencies": {"express": "4"}},
                     "Procfile": "web: node app.js\n", "app.js": ""})
    plan = make_plan(tmp_path)
    assert plan.start_command == "node app.js"
    assert plan.warnings == []


def test_create_react_app_is_a_static_build(tmp_path):
    pkg = {"scripts": {"start": "react-scripts start", "build": "react-scripts build"},
           "dependencies": {"react": "18", "react-scripts": "5"}}
    plan = plan_of(tmp_path, {"package.json": pkg})
    assert plan.framework == "create-react-app"
    from unkey_deploy.plan.static import ROOT

    assert plan.recipe.artifacts == [("/app/build", ROOT)]
    assert plan.start_command != "react-scripts start"


def test_a_start_file_that_nothing_builds_is_a_warning(tmp_path):
    pkg = {"scripts": {"start": "node dist/server.js"}, "dependencies": {"express": "4"}}
    plan = plan_of(tmp_path, {"package.json": pkg, "src/server.ts": ""})
    assert plan.warnings and "runs dist/server.js, which is not in the source and nothing builds it" in plan.warnings[0]


@pytest.mark.parametrize("files", [{"server.js": ""}, {"server/index.js": ""}])
def test_a_start_file_in_the_source_is_fine(tmp_path, files):
    pkg = {"scripts": {"start": "node server"}, "dependencies": {"express": "4"}}
    assert plan_of(tmp_path, {"package.json": pkg, **files}).warnings == []


def test_serve_runs_only_when_start_cannot(tmp_path):
    scripts = {"start": "node index.js", "serve": "node dist/server.js"}
    pkg = {"scripts": scripts, "dependencies": {"express": "4"}}
    assert plan_of(tmp_path, {"package.json": pkg, "index.js": ""}).start_command == "node index.js"
    scripts["start"] = "nodemon index.js"
    pkg["scripts"]["build"] = "tsc"
    write(tmp_path, {"package.json": pkg})
    assert make_plan(tmp_path).start_command == "node dist/server.js"
