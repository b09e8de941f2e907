"""Generated Dockerfiles install dependencies from the manifests alone, before the source is copied,
so a source-only change reuses the dependency layers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

REPO = Path(__file__).resolve().parents[1]
WHOLE_SOURCE = re.compile(r"^COPY (?:--chown=\S+ )?\. \S+$", re.MULTILINE)
FLASK_APP = "from flask import Flask\napp = Flask(__name__)\n"
PYPROJECT = "[project]\nname = 'shop'\nversion = '1'\ndependencies = ['flask>=3']\n"
BUILD_SYSTEM = "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"




def layers(root: Path, root_dir: str | None = None) -> tuple[str, list[str], str]:
    """(Dockerfile, the COPY lines before the dependency install, the install command)."""
    plan = make_plan(root, root_dir=root_dir)
    assert plan.install_command, plan.reasons
    text = render(plan).dockerfile
    install_at = text.index(plan.install_command)
    before = [line for line in text[:install_at].splitlines() if line.startswith("COPY ")]
    return text, before, plan.install_command


def assert_source_after_install(text: str, install: str) -> None:
    whole = WHOLE_SOURCE.search(text)
    assert whole, "the source is never copied"
    assert text.index(install) < whole.start(), f"the whole source is copied before `{install}`:\n{text}"


CASES = {
    "pip requirements.txt": ({"requirements.txt": "flask\n", "app.py": FLASK_APP}, ["requirements.txt"]),
    "pip pyproject.toml": ({"pyproject.toml": PYPROJECT, "app.py": FLASK_APP}, ["pyproject.toml"]),
    "poetry": ({"pyproject.toml": "[tool.poetry.dependencies]\npython = '^3.11'\nflask = '^3'\n",
                "poetry.lock": "", "app.py": FLASK_APP}, ["poetry.lock", "pyproject.toml"]),
    "uv": ({"pyproject.toml": PYPROJECT, "uv.lock": "", ".python-version": "3.12\n", "app.py": FLASK_APP},
           ["uv.lock", "pyproject.toml", ".python-version"]),
    "pdm": ({"pyproject.toml": PYPROJECT, "pdm.lock": "", "app.py": FLASK_APP}, ["pdm.lock", "pyproject.toml"]),
    "pipenv": ({"Pipfile": "[packages]\nflask = '*'\n", "Pipfile.lock": "{}", "app.py": FLASK_APP},
               ["Pipfile.lock", "Pipfile"]),
    "npm": ({"package.json": {"dependencies": {"express": "4"}, "scripts": {"start": "node i.js"}},
             "package-lock.json": "{}", ".npmrc": "x=1\n"}, ["package.json", "package-lock.json", ".npmrc"]),
    "pnpm": ({"package.json": {"dependencies": {"express": "4"}, "scripts": {"start": "node i.js"}},
              "pnpm-lock.yaml": "", "pnpm-workspace.yaml": "onlyBuiltDependencies: [esbuild]\n"},
             ["package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"]),
    "yarn": ({"package.json": {"dependencies": {"express": "4"}, "scripts": {"start": "node i.js"}},
              "yarn.lock": ""}, ["package.json", "yarn.lock"]),
    "bun": ({"package.json": {"dependencies": {"hono": "4"}, "scripts": {"start": "bun i.ts"}}, "bun.lock": "",
             "bunfig.toml": ""}, ["package.json", "bun.lock", "bunfig.toml"]),
    "go": ({"go.mod": "module example.com/api\n\ngo 1.23\n", "go.sum": "", "main.go": "package main\n"},
           ["go.mod", "go.sum"]),
}


@pytest.mark.parametrize("case", CASES)
def test_dependencies_install_from_the_manifests_before_the_source(tmp_path, case):
    files, manifests = CASES[case]
    text, copied, install = layers(write(tmp_path, files))
    assert copied == [f"COPY {' '.join(manifests)} ./"]
    assert_source_after_install(text, install)


EXAMPLES = ["python-django", "python-fastapi", "python-flask", "python-uv-workspace", "node-express",
            "node-fastify", "bun-http", "monorepo-npm", "monorepo-pnpm", "nextjs", "go-http", "go-workspace"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_copy_the_source_after_the_dependency_install(example):
    marker = REPO / "examples" / example / ".root-dir"
    root_dir = marker.read_text().strip() if marker.is_file() else None
    text, copied, install = layers(REPO / "examples" / example, root_dir)
    assert copied and not any(WHOLE_SOURCE.match(line) for line in copied)
    assert_source_after_install(text, install)


def test_pip_reads_pyproject_dependencies_with_tomllib_and_installs_a_package_after_the_source(tmp_path):
    write(tmp_path, {"pyproject.toml": PYPROJECT + BUILD_SYSTEM, "app.py": FLASK_APP})
    text, _, install = layers(tmp_path)
    assert install.startswith('python -c "import tomllib; ')
    assert "> /tmp/requirements.txt && pip install -r /tmp/requirements.txt" in install
    whole = WHOLE_SOURCE.search(text)
    assert whole and text.index("pip install --no-deps .") > whole.start()
    assert "--mount=type=cache,target=/root/.cache/pip" in text[whole.start():]
    assert any("[build-system]" in reason for reason in make_plan(tmp_path).reasons)


def test_pyproject_dependencies_on_older_pythons_use_pips_tomli(tmp_path):
    write(tmp_path, {"pyproject.toml": PYPROJECT, "app.py": FLASK_APP, ".python-version": "3.10\n"})
    _, _, install = layers(tmp_path)
    assert install.startswith('python -c "import pip._vendor.tomli as tomllib; ')


def test_app_without_build_system_is_not_installed_itself(tmp_path):
    text, _, _ = layers(write(tmp_path, {"pyproject.toml": PYPROJECT, "app.py": FLASK_APP}))
    assert "--no-deps" not in text


@pytest.mark.parametrize(
    ("files", "project_install"),
    [
        ({"uv.lock": ""}, "uv sync --frozen --no-dev --no-editable"),
        ({"pdm.lock": ""}, "pip install --no-deps ."),
        ({"uv.lock": "", "pyproject.toml": PYPROJECT + BUILD_SYSTEM + "[tool.uv]\npackage = false\n"}, None),
    ],
)
def test_locked_packages_install_the_app_after_the_source(tmp_path, files, project_install):
    text, _, _ = layers(write(tmp_path, {"pyproject.toml": PYPROJECT + BUILD_SYSTEM, "app.py": FLASK_APP, **files}))
    after_source = text[WHOLE_SOURCE.search(text).start():].split("\n\nFROM ")[0]
    if project_install:
        assert project_install in after_source
    else:
        assert "RUN" not in after_source


def test_dynamic_dependencies_need_the_whole_source(tmp_path):
    write(tmp_path, {"pyproject.toml": "[project]\nname = 'a'\nversion = '1'\ndynamic = ['dependencies']\n",
                     "setup.py": "", "app.py": FLASK_APP})
    text, copied, install = layers(tmp_path)
    assert install == "pip install ." and WHOLE_SOURCE.match(copied[0])


def test_requirements_includes_are_copied_and_local_paths_copy_the_source(tmp_path):
    write(tmp_path / "a", {"requirements.txt": "-r requirements/base.txt\n-c constraints.txt\ngunicorn\n",
                           "requirements/base.txt": "flask\n", "constraints.txt": "flask<4\n", "app.py": FLASK_APP})
    _, copied, _ = layers(tmp_path / "a")
    assert copied == ["COPY requirements.txt constraints.txt ./", "COPY requirements/base.txt requirements/"]
    write(tmp_path / "b", {"requirements.txt": "flask\n-e .\n", "app.py": FLASK_APP})
    _, copied, _ = layers(tmp_path / "b")
    assert copied == ["COPY . ."]


def test_uv_workspace_copies_member_manifests_and_installs_members_after_the_source(tmp_path):
    text, copied, install = layers(REPO / "examples" / "python-uv-workspace", "packages/api")
    assert copied == ["COPY uv.lock pyproject.toml ./", "COPY packages/api/pyproject.toml packages/api/",
                      "COPY packages/core/pyproject.toml packages/core/"]  # fmt: skip
    assert install.endswith("--package acme-api --no-install-workspace")
    project_sync = text.index("uv sync --frozen --no-dev --no-editable --inexact --package acme-api")
    assert project_sync > WHOLE_SOURCE.search(text).start()


def test_node_install_scripts_get_the_whole_source(tmp_path):
    write(tmp_path, {"package.json": {"dependencies": {"@prisma/client": "5"}, "scripts": {
        "postinstall": "prisma generate", "start": "node i.js"}}, "package-lock.json": "{}"})
    _, copied, _ = layers(tmp_path)
    assert copied == ["COPY . ."]
    assert any("postinstall" in reason for reason in make_plan(tmp_path).reasons)


def test_node_patches_and_yarn_release_are_copied_with_the_manifests(tmp_path):
    write(tmp_path, {"package.json": {"packageManager": "yarn@4.5.0", "dependencies": {"express": "4"},
                                      "scripts": {"start": "node i.js"}},
                     "yarn.lock": "", ".yarnrc.yml": "yarnPath: .yarn/releases/yarn-4.5.0.cjs\n",
                     ".yarn/releases/yarn-4.5.0.cjs": "", "patches/express+4.0.0.patch": ""})
    _, copied, _ = layers(tmp_path)
    assert copied == ["COPY package.json yarn.lock .yarnrc.yml ./",
                      "COPY .yarn/releases/yarn-4.5.0.cjs .yarn/releases/",
                      "COPY patches/express+4.0.0.patch patches/"]  # fmt: skip


def test_go_local_replace_targets_are_copied_with_the_module(tmp_path):
    write(tmp_path, {"go.mod": "module example.com/api\n\ngo 1.23\n\nreplace example.com/lib => ./lib\n",
                     "lib/go.mod": "module example.com/lib\n", "main.go": "package main\n"})
    text, copied, install = layers(tmp_path)
    assert copied == ["COPY go.mod ./", "COPY lib/go.mod lib/"]
    assert_source_after_install(text, install)


@pytest.mark.parametrize(
    ("files", "dependencies"),
    [
        ({"package.json": {"dependencies": {"express": "4"}, "devDependencies": {"nodemon": "3"},
                           "scripts": {"start": "node i.js"}}, "package-lock.json": "{}"},
         "/app/node_modules /app/node_modules"),
        ({"requirements.txt": "flask\n", "app.py": FLASK_APP}, "/opt/venv /opt/venv"),
    ],
)
def test_runtime_takes_dependencies_from_the_build_stage_and_the_source_from_the_context(tmp_path, files,
                                                                                         dependencies):
    text, _, install = layers(write(tmp_path, files))
    build, runtime = text.split("\n\nFROM ")
    assert not WHOLE_SOURCE.search(build), "nothing in the build stage needs the source"
    copies = [line for line in runtime.splitlines() if line.startswith("COPY")]
    assert copies == [f"COPY --from=build --chown=10001:10001 {dependencies}", "COPY --chown=10001:10001 . /app"]
    if "npm" in install:
        assert "npm ci && npm prune --omit=dev" in build  # pruning joins the dependency layer
