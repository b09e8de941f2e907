"""Detection order, precedence reasons, package managers, frameworks and start commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from unkey_deploy.errors import AppNotDetected, UsageError
from unkey_deploy.plan import DETECTION_ORDER, make_plan


def test_detection_order_names_every_ecosystem():
    expected = {"node", "python", "go", "php", "java", "rust", "ruby", "elixir", "deno", "dotnet", "gleam", "cpp",
                "static", "shell", "procfile"}
    assert set(DETECTION_ORDER) == expected
    assert DETECTION_ORDER.index("python") < DETECTION_ORDER.index("node")
    assert DETECTION_ORDER[-1] == "procfile"


def test_python_wins_over_package_json_for_assets_and_says_why(tmp_path):
    write(tmp_path, {"requirements.txt": "flask\n", "app.py": "app = Flask(__name__)\n",
                     "package.json": {"devDependencies": {"tailwindcss": "3"}}})
    plan = make_plan(tmp_path)
    assert plan.language == "python"
    assert any("package.json also present" in r for r in plan.reasons)


def test_a_bundlers_index_html_is_its_entry_page_not_a_stray_static_site(tmp_path):
    # Shape of github.com/TaraDenniston/pokemon-app@991c92a9930b88be770de54e3eecdcaca0c4d86b: a Vite app whose
    # index.html at the root is what `vite build` starts from.
    write(tmp_path, {"package.json": {"scripts": {"build": "vite build"}, "devDependencies": {"vite": "5"}},
                     "index.html": "<div id=root></div><script type=module src=/src/main.js></script>\n"})
    plan = make_plan(tmp_path)
    assert plan.language == "node"
    assert not any("stray" in r for r in plan.reasons)
    assert any(r.startswith("index.html: the entry page of the build") for r in plan.reasons)


def test_public_index_html_beside_a_server_is_a_page_it_serves(tmp_path):
    # Shape of github.com/Thalis-Freitas/rebase-labs@83a1c0995fffbb54c3929fa25823f7c6cf883a59: Sinatra sends
    # public/index.html itself.
    write(tmp_path, {"Gemfile": "source 'https://rubygems.org'\ngem 'sinatra'\n",
                     "app.rb": "require 'sinatra'\nget('/') { send_file './public/index.html' }\n",
                     "public/index.html": "<h1>exams</h1>\n"})
    plan = make_plan(tmp_path)
    assert plan.language == "ruby"
    assert "public/index.html: a page the app serves from public/, not a site of its own" in plan.reasons
    assert not any("stray" in r for r in plan.reasons)


def test_index_html_beside_an_app_without_a_build_is_still_called_out(tmp_path):
    write(tmp_path, {"package.json": {"scripts": {"start": "node server.js"}}, "server.js": "\n",
                     "index.html": "<h1>old page</h1>\n"})
    plan = make_plan(tmp_path)
    assert any(r.startswith("index.html also present (Static site)") and "stray" in r for r in plan.reasons)


def test_nothing_detected_names_files_and_fixes(tmp_path):
    (tmp_path / "README.md").write_text("hi")
    with pytest.raises(AppNotDetected) as err:
        make_plan(tmp_path)
    assert "could not determine how to build this app" in err.value.message
    assert "--root-dir" in err.value.message and "Dockerfile" in err.value.message
    assert "package.json" in err.value.details[0] and "go.mod" in err.value.details[0]


def test_root_dir_outside_or_missing_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        make_plan(tmp_path, root_dir="apps/none")
    with pytest.raises(UsageError, match="outside"):
        make_plan(tmp_path, root_dir="..")


def test_existing_dockerfile_is_respected(tmp_path):
    write(tmp_path, {"package.json": {"scripts": {"start": "node a.js"}}, "Dockerfile": "FROM scratch\n"})
    plan = make_plan(tmp_path)
    assert plan.generated is False
    assert plan.dockerfile_path == tmp_path / "Dockerfile"
    assert plan.to_json()["dockerfile"] == {"path": "Dockerfile", "generated": False}
    assert plan.language == "node"


def test_dockerfile_flag_must_exist(tmp_path):
    write(tmp_path, {"index.html": "<h1>hi</h1>"})
    with pytest.raises(UsageError, match="not found"):
        make_plan(tmp_path, dockerfile=Path("nope/Dockerfile"))


@pytest.mark.parametrize(
    ("files", "manager", "install"),
    [
        ({"package-lock.json": "{}"}, "npm", "npm ci"),
        ({"pnpm-lock.yaml": ""}, "pnpm", "pnpm install --frozen-lockfile"),
        ({"yarn.lock": ""}, "yarn", "yarn install --frozen-lockfile"),
        ({"bun.lockb": ""}, "bun", "bun install --frozen-lockfile"),
        ({}, "npm", "npm install"),
    ],
)
def test_node_package_manager_from_lockfile(tmp_path, files, manager, install):
    write(tmp_path, {"package.json": {"dependencies": {"express": "4"}, "scripts": {"start": "node s.js"}}, **files})
    plan = make_plan(tmp_path)
    assert (plan.package_manager, plan.install_command) == (manager, install)


def test_package_manager_field_wins_and_uses_corepack(tmp_path):
    write(tmp_path, {"package.json": {"packageManager": "yarn@4.1.0", "dependencies": {"hono": "4"},
                                      "scripts": {"start": "node s.js"}},
                     "package-lock.json": "{}", "yarn.lock": ""})
    plan = make_plan(tmp_path)
    assert plan.package_manager == "yarn"
    assert plan.install_command == "yarn install --immutable"
    assert plan.recipe.setup == ["corepack enable"]


def test_pnpm_without_package_manager_field_installs_pinned_pnpm(tmp_path):
    write(tmp_path, {"package.json": {"dependencies": {"a": "1"}, "scripts": {"start": "node s.js"}},
                     "pnpm-lock.yaml": ""})
    assert make_plan(tmp_path).recipe.setup == ["npm install -g pnpm@9"]


@pytest.mark.parametrize(
    ("deps", "framework", "start"),
    [
        ({"next": "14"}, "next", "next start"),
        ({"nuxt": "3"}, "nuxt", "node .output/server/index.mjs"),
        ({"@remix-run/dev": "2", "vite": "5"}, "remix", "remix-serve ./build/index.js"),
        ({"@react-router/dev": "7", "vite": "5"}, "react-router", "react-router-serve ./build/server/index.js"),
        ({"astro": "4", "@astrojs/node": "8"}, "astro", "node ./dist/server/entry.mjs"),
    ],
)
def test_node_framework_default_start(tmp_path, deps, framework, start):
    write(tmp_path, {"package.json": {"dependencies": deps, "scripts": {"build": "x"}}, "package-lock.json": "{}"})
    plan = make_plan(tmp_path)
    assert (plan.framework, plan.start_command, plan.build_command) == (framework, start, "npm run build")


@pytest.mark.parametrize("deps", [{"vite": "5", "react": "18"}, {"astro": "4"}])
def test_static_output_frameworks_are_served_by_nginx(tmp_path, deps):
    write(tmp_path, {"package.json": {"devDependencies": deps, "scripts": {"build": "vite build"}},
                     "package-lock.json": "{}"})
    plan = make_plan(tmp_path)
    assert plan.recipe.runtime_image == "nginx:1.27-alpine"
    assert plan.recipe.artifacts == [("/app/dist", "/app")]
    assert "$PORT" in plan.start_command


def test_start_script_wins_over_framework_default(tmp_path):
    write(tmp_path, {"package.json": {"dependencies": {"next": "14"}, "scripts": {"start": "node server.js"}}})
    plan = make_plan(tmp_path)
    assert plan.start_command == "node server.js"
    assert plan.recipe.cmd == ["node", "server.js"]


def test_node_without_start_is_a_clear_error(tmp_path):
    write(tmp_path, {"package.json": {"name": "x"}})
    with pytest.raises(UsageError, match="add a start script"):
        make_plan(tmp_path)


def test_procfile_web_line_wins(tmp_path):
    write(tmp_path, {"requirements.txt": "gunicorn\nflask\n", "app.py": "app = Flask(__name__)\n",
                     "Procfile": "release: python migrate.py\nweb: gunicorn app:app -b 0.0.0.0:$PORT -w 2\n"})
    plan = make_plan(tmp_path)
    assert plan.language == "python"
    assert plan.start_command == "gunicorn app:app -b 0.0.0.0:$PORT -w 2"
    assert plan.recipe.cmd == ["sh", "-c", "exec gunicorn app:app -b 0.0.0.0:$PORT -w 2"]


def test_lone_procfile_runs_in_debian(tmp_path):
    write(tmp_path, {"Procfile": "web: ./server --port $PORT\n"})
    plan = make_plan(tmp_path)
    assert plan.language == "shell"
    assert plan.recipe.runtime_image == "debian:bookworm-slim"


@pytest.mark.parametrize(
    ("files", "framework", "start"),
    [
        ({"requirements.txt": "Django\ngunicorn\n", "manage.py": "", "shop/wsgi.py": "", "shop/settings.py": ""},
         "django", "gunicorn shop.wsgi:application --bind 0.0.0.0:$PORT"),
        ({"requirements.txt": "django\n", "manage.py": "", "shop/settings.py": ""},
         "django", "python manage.py runserver 0.0.0.0:$PORT"),
        ({"requirements.txt": "fastapi[standard]\n", "app/main.py": "api = FastAPI()\n"},
         "fastapi", "uvicorn app.main:api --host 0.0.0.0 --port $PORT"),
        ({"requirements.txt": "flask\ngunicorn\n", "app.py": "server = Flask(__name__)\n"},
         "flask", "gunicorn app:server --bind 0.0.0.0:$PORT"),
        ({"requirements.txt": "Flask\n", "app.py": "app = Flask(__name__)\n"},
         "flask", "gunicorn app:app --bind 0.0.0.0:$PORT"),
    ],
)
def test_python_framework_start(tmp_path, files, framework, start):
    write(tmp_path, files)
    plan = make_plan(tmp_path)
    assert (plan.framework, plan.start_command) == (framework, start)


@pytest.mark.parametrize(
    ("files", "manager", "install"),
    [
        ({"pyproject.toml": "[project]\nname='a'\ndependencies=['x']\n", "uv.lock": ""}, "uv",
         "uv sync --frozen --no-dev --no-install-project"),
        ({"pyproject.toml": "[tool.poetry.dependencies]\npython='^3.11'\nx='1'\n", "poetry.lock": ""}, "poetry",
         "poetry install --only main --no-root --no-interaction"),
        ({"Pipfile": "[packages]\nx='*'\n"}, "pipenv",
         "pipenv requirements > /tmp/requirements.txt && pip install -r /tmp/requirements.txt"),
        ({"requirements.txt": "x\n"}, "pip", "pip install -r requirements.txt"),
        ({"pyproject.toml": "[project]\nname='a'\ndependencies=['x']\n"}, "pip",
         "python -c \"import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], "
         "sep='\\n')\" > /tmp/requirements.txt && pip install -r /tmp/requirements.txt"),
    ],
)
def test_python_package_managers(tmp_path, files, manager, install):
    write(tmp_path, {**files, "main.py": ""})
    plan = make_plan(tmp_path)
    assert (plan.package_manager, plan.install_command) == (manager, install)


def test_npm_workspace_member_builds_from_the_workspace_root(tmp_path):
    write(tmp_path, {
        "package.json": {"private": True, "workspaces": ["apps/*", "packages/*"]},
        "package-lock.json": "{}",
        "packages/ui/package.json": {"name": "ui"},
        "apps/web/package.json": {"name": "web", "dependencies": {"ui": "*", "express": "4"},
                                  "scripts": {"build": "tsc", "start": "node dist/index.js"}},
    })
    plan = make_plan(tmp_path, root_dir="apps/web")
    assert plan.context_dir == tmp_path
    assert plan.app_dir == tmp_path / "apps" / "web"
    assert plan.install_command == "npm ci"
    assert "packages/ui/package.json" in plan.recipe.install_files
    assert plan.recipe.runtime_workdir == "/app/apps/web"
    assert plan.to_json()["context"] == "."


def test_pnpm_workspace_yaml(tmp_path):
    write(tmp_path, {
        "package.json": {"private": True}, "pnpm-workspace.yaml": "packages:\n  - 'apps/*'\n",
        "pnpm-lock.yaml": "", "apps/api/package.json": {"name": "api", "scripts": {"start": "node i.js"}},
    })
    plan = make_plan(tmp_path, root_dir="apps/api")
    assert (plan.package_manager, plan.context_dir) == ("pnpm", tmp_path)


def test_standalone_app_in_a_monorepo_keeps_its_own_context(tmp_path):
    write(tmp_path, {"services/api/requirements.txt": "x\n", "services/api/main.py": "",
                     "package.json": {"private": True}})
    plan = make_plan(tmp_path, root_dir="services/api")
    assert plan.context_dir == tmp_path / "services" / "api"
    assert plan.to_json()["appDir"] == "services/api"


def test_loader_prefers_units_shipped_in_the_package(tmp_path, monkeypatch):
    from unkey_deploy.plan import _buildpacks

    package = tmp_path / "site-packages" / "unkey_deploy"
    monkeypatch.setattr(_buildpacks, "PACKAGE_DIR", package)
    assert _buildpacks.buildpacks_dir() == tmp_path / "site-packages" / "buildpacks"  # editable: repository dir
    (package / "buildpacks").mkdir(parents=True)
    assert _buildpacks.buildpacks_dir() == package / "buildpacks"  # installed wheel
