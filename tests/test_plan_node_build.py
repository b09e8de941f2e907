"""Node builds: pnpm/Yarn versions the repository can use, workspace dependencies built first, Prisma,
and a hard-coded listening port."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

EXPRESS = {"dependencies": {"express": "4"}, "scripts": {"start": "node server.js"}}


def pnpm_app(tmp_path, lock: str | None, nvmrc: str | None = None, **pkg):
    files = {"package.json": {**EXPRESS, **pkg}, "server.js": "listen(process.env.PORT)\n"}
    if lock is not None:
        files["pnpm-lock.yaml"] = f"lockfileVersion: {lock}\n\nsettings:\n  autoInstallPeers: true\n"
    if nvmrc:
        files[".nvmrc"] = nvmrc
    write(tmp_path, files)
    return make_plan(tmp_path)


@pytest.mark.parametrize(
    ("lock", "nvmrc", "pnpm"),
    [("'9.0'", None, "9"), ("'6.0'", None, "8"), ("'6.0'", "16\n", "8"), ("5.4", None, "7"), ("5.3", "14", "6")],
)
def test_pnpm_major_follows_the_lockfile(tmp_path, lock, nvmrc, pnpm):
    plan = pnpm_app(tmp_path, lock, nvmrc)
    assert plan.recipe.setup == [f"npm install -g pnpm@{pnpm}"]
    assert any(r.startswith(f"pnpm {pnpm}: writes lockfileVersion") for r in plan.reasons)
    assert plan.warnings == []


def test_without_a_lockfile_pnpm_is_capped_by_node(tmp_path):
    write(tmp_path, {"package.json": {**EXPRESS, "engines": {"node": "16"}}, "pnpm-workspace.yaml": "packages: []\n"})
    (tmp_path / "pnpm-lock.yaml").write_text("")
    plan = make_plan(tmp_path)
    assert plan.recipe.setup == ["npm install -g pnpm@8"]
    assert "pnpm 8 (the newest that runs on node 16; pin it with packageManager in package.json)" in plan.reasons


def test_a_pinned_pnpm_too_new_for_node_is_a_warning(tmp_path):
    plan = pnpm_app(tmp_path, "'9.0'", "16.13.0\n", packageManager="pnpm@9.15.0")
    assert plan.recipe.setup == ["corepack enable"]
    assert plan.warnings and "pnpm 9 needs node >= 18.12 but node 16.13.0 is chosen" in plan.warnings[0]


def test_a_lockfile_only_old_pnpm_writes_warns_on_old_node(tmp_path):
    plan = pnpm_app(tmp_path, "'9.0'", "16\n")
    assert plan.recipe.setup == ["npm install -g pnpm@9"]
    assert plan.warnings and "needs node >= 18.12" in plan.warnings[0]


@pytest.mark.parametrize(
    ("files", "setup", "install"),
    [
        ({"yarn.lock": "# yarn lockfile v1\n"}, [], "yarn install --frozen-lockfile"),
        ({"yarn.lock": "__metadata:\n  version: 8\n  cacheKey: 10c0\n"},
         ["corepack enable && corepack prepare yarn@4 --activate"], "yarn install"),
        ({"yarn.lock": "__metadata:\n  version: 6\n"},
         ["corepack enable && corepack prepare yarn@3 --activate"], "yarn install"),
        ({"package.json": {**EXPRESS, "packageManager": "yarn@4.0.2"}, "yarn.lock": "__metadata:\n  version: 8\n"},
         ["corepack enable"], "yarn install --immutable"),
        ({"yarn.lock": "__metadata:\n  version: 6\n", ".yarnrc.yml": "yarnPath: .yarn/releases/yarn-3.6.4.cjs\n",
          ".yarn/releases/yarn-3.6.4.cjs": "//"}, [], "yarn install --immutable"),
    ],
)
def test_yarn_major_from_lockfile_format_or_yarn_path(tmp_path, files, setup, install):
    write(tmp_path, {"package.json": EXPRESS, "server.js": "", **files})
    plan = make_plan(tmp_path)
    assert plan.recipe.setup == setup
    assert plan.install_command == install
    if setup:
        assert plan.recipe.build_env["COREPACK_NPM_REGISTRY"] == "https://registry.npmjs.org"


def test_yarn_path_release_is_copied_before_install(tmp_path):
    write(tmp_path, {"package.json": EXPRESS, "server.js": "", "yarn.lock": "__metadata:\n  version: 6\n",
                     ".yarnrc.yml": "yarnPath: .yarn/releases/yarn-3.6.4.cjs\n", ".yarn/releases/yarn-3.6.4.cjs": "//"})
    plan = make_plan(tmp_path)
    assert ".yarn/releases/yarn-3.6.4.cjs" in plan.recipe.install_files
    assert "yarn 3.6.4 from yarnPath in .yarnrc.yml" in plan.reasons


def monorepo(tmp_path, root_extra: dict, lock: dict[str, str]):
    files = {
        "package.json": {"name": "root", "private": True, "workspaces": ["apps/*", "packages/*"], **root_extra},
        "apps/api/package.json": {"name": "api", "scripts": {"build": "tsc", "start": "node dist/index.js"},
                                  "dependencies": {"@acme/util": "*", "express": "5"}},
        "packages/util/package.json": {"name": "@acme/util", "main": "dist/index.js", "scripts": {"build": "tsc"},
                                       "dependencies": {"@acme/base": "workspace:*"}},
        "packages/base/package.json": {"name": "@acme/base", "scripts": {"build": "tsc"}},
        "packages/docs/package.json": {"name": "docs", "scripts": {"build": "vitepress build"}},
        **lock,
    }
    write(tmp_path, files)
    return make_plan(tmp_path, root_dir="apps/api")


def test_turbo_builds_the_app_and_its_workspace_packages(tmp_path):
    plan = monorepo(tmp_path, {"devDependencies": {"turbo": "2"}}, {"package-lock.json": "{}", "turbo.json": "{}"})
    assert plan.build_command == "npx --no-install turbo run build --filter=api..."
    assert plan.recipe.build_workdir == "/app"
    assert plan.recipe.runtime_workdir == "/app/apps/api"


def test_nx_builds_the_app_with_its_dependencies(tmp_path):
    plan = monorepo(tmp_path, {"devDependencies": {"nx": "20"}}, {"package-lock.json": "{}", "nx.json": "{}"})
    assert plan.build_command == "npx --no-install nx build api"


def test_pnpm_filter_builds_dependencies_first(tmp_path):
    plan = monorepo(tmp_path, {}, {"pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
                                   "pnpm-workspace.yaml": "packages:\n  - apps/*\n  - packages/*\n"})
    assert plan.build_command == 'pnpm --filter "api..." run build'


def test_without_a_task_runner_each_workspace_dependency_builds_first_in_order(tmp_path):
    plan = monorepo(tmp_path, {}, {"package-lock.json": "{}"})
    assert plan.build_command == ("cd /app/packages/base && npm run build && cd /app/packages/util && npm run build"
                                  " && cd /app/apps/api && npm run build")
    assert "docs" not in plan.build_command
    assert "cd /app/packages/base && npm run build" in render(plan).dockerfile


@pytest.mark.parametrize(
    ("files", "found"),
    [
        ({"prisma/schema.prisma": "generator client {}\n"}, "prisma/schema.prisma"),
        ({"db/main.prisma": "model A {}\n"}, "db/main.prisma"),
        ({"prisma/schema/user.prisma": "model A {}\n"}, "prisma/schema"),
    ],
)
def test_prisma_generates_its_client_before_the_build(tmp_path, files, found):
    pkg = {"scripts": {"build": "tsc", "start": "node dist/index.js"}, "dependencies": {"@prisma/client": "5"},
           "devDependencies": {"prisma": "5", "typescript": "5"}}
    if found == "db/main.prisma":
        pkg["prisma"] = {"schema": "db/main.prisma"}
    write(tmp_path, {"package.json": pkg, "package-lock.json": "{}", **files})
    plan = make_plan(tmp_path)
    assert plan.build_command == "npx --no-install prisma generate && npm run build"
    assert f"prisma: {found} found, so the build runs prisma generate first" in plan.reasons
    assert plan.recipe.packages == ["openssl"] and plan.recipe.runtime_packages == ["openssl"]


def test_prisma_generate_already_in_a_script_is_not_repeated(tmp_path):
    pkg = {"scripts": {"postinstall": "prisma generate", "start": "node index.js"},
           "dependencies": {"@prisma/client": "5", "prisma": "5"}}
    write(tmp_path, {"package.json": pkg, "prisma/schema.prisma": "", "index.js": ""})
    plan = make_plan(tmp_path)
    assert plan.build_command is None


@pytest.mark.parametrize(
    ("source", "port"),
    [
        ("app.listen(3000);\n", 3000),
        ("app.listen('4000', () => {});\n", 4000),
        ("const port = 5000\napp.listen(port, () => console.log(port))\n", 5000),
        ("const PORT: number = 3001;\nserver.listen(PORT)\n", 3001),
        ("fastify.listen({ host: '0.0.0.0', port: 8000 })\n", 8000),
        ("const port = process.env.PORT || 3000\napp.listen(port)\n", None),
        ("app.listen(process.env['PORT'] ?? 3000)\n", None),
        ("// app.listen(3000)\napp.listen(process.env.PORT)\n", None),
        ("const db = { port: 5432 }\napp.listen(process.env.PORT)\n", None),
    ],
)
def test_a_hard_coded_port_sets_port(tmp_path, source, port):
    write(tmp_path, {"package.json": {"scripts": {"start": "node server.js"}, "dependencies": {"express": "4"}},
                     "server.js": source})
    plan = make_plan(tmp_path)
    assert plan.port == (port or 8080)
    dockerfile = render(plan).dockerfile
    assert f"ENV PORT={port or 8080}" in dockerfile and f"EXPOSE {port or 8080}" in dockerfile
    assert any(r.startswith(f"port {port}: hard-coded in server.js") for r in plan.reasons) == bool(port)


def test_a_port_in_the_typescript_source_of_the_build_output(tmp_path):
    pkg = {"scripts": {"build": "tsc", "start": "node dist/main.js"}, "dependencies": {"@nestjs/core": "11"}}
    write(tmp_path, {"package.json": pkg, "src/main.ts": "await app.listen(3000);\n"})
    plan = make_plan(tmp_path)
    assert plan.port == 3000
    assert "port 3000: hard-coded in src/main.ts" in plan.reasons[-1]



def test_volta_pin_wins_over_an_engines_range(tmp_path):
    write(tmp_path, {"package.json": {**EXPRESS, "engines": {"node": ">=18"}, "volta": {"node": "20.11.1"}},
                     "server.js": ""})
    assert make_plan(tmp_path).versions["node"] == "20.11.1"
