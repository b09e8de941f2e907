"""Python versions from the repository's pins and lockfiles; native packages per stage."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

POETRY = '[tool.poetry]\nname = "x"\npackage-mode = false\n[tool.poetry.dependencies]\npython = "{pin}"\nflask = "*"\n'


@pytest.mark.parametrize(
    ("files", "version", "source"),
    [
        ({"pyproject.toml": POETRY.format(pin="*"), "app.py": "app = Flask(1)\n",
          "poetry.lock": '[metadata]\nlock-version = "2.0"\npython-versions = ">=3.9,<3.11"\n'},
         "3.10", "poetry.lock"),
        ({"pyproject.toml": '[project]\nname = "x"\nversion = "0"\ndependencies = ["flask"]\n', "app.py": "",
          "uv.lock": 'version = 1\nrequires-python = ">=3.13,<3.14"\n'}, "3.13", "uv.lock"),
        ({"Pipfile": "[packages]\nflask = '*'\n", "app.py": "",
          "Pipfile.lock": json.dumps({"_meta": {"requires": {"python_version": "3.9"}}, "default": {}})},
         "3.9", "Pipfile.lock"),
        ({"requirements.txt": "flask\n", "app.py": "", "runtime.txt": "python-3.11.4\n",
          "uv.lock": 'version = 1\nrequires-python = ">=3.13"\n'}, "3.11.4", "runtime.txt"),
        ({"requirements.txt": "flask\n", "app.py": "", ".python-version": "3.10\n"}, "3.10", ".python-version"),
    ],
)
def test_version_from_pins_then_lockfiles(tmp_path, files, version, source):
    write(tmp_path, files)
    plan = make_plan(tmp_path)
    assert plan.versions["python"] == version
    assert plan.recipe.runtime_image == f"python:{version}-slim"
    assert any(reason.startswith(f"python {version}") and source in reason for reason in plan.reasons)


def test_default_version_says_so(tmp_path):
    write(tmp_path, {"requirements.txt": "flask\n", "app.py": ""})
    plan = make_plan(tmp_path)
    assert plan.versions["python"] == "3.12"
    assert any(reason.startswith("python 3.12: the default (") and "nothing pins it" in reason
               for reason in plan.reasons)


def test_native_build_packages_stay_in_the_build_stage(tmp_path):
    write(tmp_path, {"requirements.txt": "Django\npsycopg2==2.9.9\nmysqlclient\n", "manage.py": "",
                     "shop/wsgi.py": "", "shop/settings.py": ""})
    plan = make_plan(tmp_path)
    build, runtime = render(plan).dockerfile.split("\n\nFROM ")
    assert "build-essential" in build and "libpq-dev" in build and "default-libmysqlclient-dev" in build
    assert "libpq5" in runtime and "libmariadb3" in runtime
    assert "build-essential" not in runtime and "-dev" not in runtime
    assert "COPY --from=build --chown=10001:10001 /opt/venv /opt/venv" in runtime


def test_binary_wheels_need_no_packages(tmp_path):
    write(tmp_path, {"requirements.txt": "flask\npsycopg2-binary\n", "app.py": "app = Flask(1)\n"})
    dockerfile = render(make_plan(tmp_path)).dockerfile
    assert "apt-get" not in dockerfile


def test_native_package_found_through_the_lockfile(tmp_path):
    write(tmp_path, {"Pipfile": "[packages]\nflask = '*'\n", "app.py": "app = Flask(1)\n",
                     "Pipfile.lock": json.dumps({"_meta": {}, "default": {"flask": {}, "psycopg2": {}}})})
    plan = make_plan(tmp_path)
    assert plan.recipe.packages == ["build-essential", "libpq-dev"]
    assert plan.recipe.runtime_packages == ["libpq5"]


def test_extra_with_a_bundled_library_needs_no_package(tmp_path):
    write(tmp_path, {"requirements.txt": "fastapi\nuvicorn\npsycopg[binary]\n", "main.py": "app = FastAPI()\n"})
    assert make_plan(tmp_path).recipe.runtime_packages == []
    write(tmp_path, {"requirements.txt": "fastapi\nuvicorn\npsycopg\n", "main.py": "app = FastAPI()\n"})
    assert make_plan(tmp_path).recipe.runtime_packages == ["libpq5"]
