"""Python start commands: a production server for the framework's app, and checks that it is installed."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

UV_LOCK = """version = 1
requires-python = ">=3.10"

[[package]]
name = "api"
version = "0.1.0"
source = {{ virtual = "." }}
dependencies = [{{ name = "fastapi", extra = ["standard"] }}]

[package.dev-dependencies]
dev = [{{ name = "pytest" }}]

[[package]]
name = "fastapi"
version = "0.115.0"
source = {{ registry = "https://pypi.org/simple" }}
dependencies = [{{ name = "starlette" }}]

[package.optional-dependencies]
standard = [{{ name = "{server}" }}]

[[package]]
name = "{server}"
version = "1.0.0"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "starlette"
version = "0.38.0"
source = {{ registry = "https://pypi.org/simple" }}

[[package]]
name = "pytest"
version = "8.0.0"
source = {{ registry = "https://pypi.org/simple" }}
"""


def fastapi_uv(tmp_path, server="uvicorn", main="app = FastAPI()\n", dependency="fastapi[standard]"):
    return write(tmp_path, {
        "pyproject.toml": f'[project]\nname = "api"\nversion = "0.1.0"\ndependencies = ["{dependency}"]\n'
                          '[dependency-groups]\ndev = ["pytest"]\n',
        "uv.lock": UV_LOCK.format(server=server), "main.py": main,
    })


@pytest.mark.parametrize(
    ("files", "start"),
    [
        # an app factory called at module level in a module named after the project
        ({"requirements.txt": "Flask\ngunicorn\n", "app/__init__.py": "def create_app():\n    return Flask(1)\n",
          "microblog.py": "from app import create_app\n\napp = create_app()\n"},
         "gunicorn microblog:app --bind 0.0.0.0:$PORT"),
        # only the factory: gunicorn calls it
        ({"requirements.txt": "Flask\ngunicorn\n", "app/__init__.py": "def create_app():\n    return Flask(1)\n"},
         "gunicorn 'app:create_app()' --bind 0.0.0.0:$PORT"),
        ({"requirements.txt": "flask\nwaitress\n", "app.py": "app = Flask(__name__)\n"},
         "waitress-serve --listen=0.0.0.0:$PORT app:app"),
        ({"requirements.txt": "fastapi\nhypercorn\n", "src/app.py": "api: FastAPI = FastAPI()\n"},
         "hypercorn src.app:api --bind 0.0.0.0:$PORT"),
        ({"requirements.txt": "litestar\ngranian\n", "app.py": "app = Litestar(route_handlers=[])\n"},
         "granian --interface asgi --host 0.0.0.0 --port $PORT app:app"),
        ({"requirements.txt": "starlette\nuvicorn\n", "server.py": "app = Starlette(routes=[])\n"},
         "uvicorn server:app --host 0.0.0.0 --port $PORT"),
        ({"requirements.txt": "fastapi\nuvicorn\n", "main.py": "def create_app():\n    return FastAPI()\n"},
         "uvicorn main:create_app --factory --host 0.0.0.0 --port $PORT"),
    ],
)
def test_framework_app_on_its_server(tmp_path, files, start):
    write(tmp_path, files)
    plan = make_plan(tmp_path)
    assert plan.start_command == start
    assert plan.warnings == []


def test_fastapi_entrypoint_from_pyproject(tmp_path):
    write(tmp_path, {
        "pyproject.toml": '[project]\nname = "app"\nversion = "0"\ndependencies = ["fastapi[standard]"]\n'
                          '[tool.fastapi]\nentrypoint = "backend.api:application"\n',
        "main.py": "app = FastAPI()\n",
    })
    plan = make_plan(tmp_path)
    assert plan.start_command == "uvicorn backend.api:application --host 0.0.0.0 --port $PORT"
    assert "uvicorn" not in (plan.install_command or ""), "fastapi[standard] brings uvicorn"


def test_flask_without_a_server_gets_gunicorn_added(tmp_path):
    write(tmp_path, {"requirements.txt": "Flask==3.0.0\n", "app.py": "app = Flask(__name__)\n"})
    plan = make_plan(tmp_path)
    assert plan.start_command == "gunicorn app:app --bind 0.0.0.0:$PORT"
    assert plan.install_command == "pip install -r requirements.txt && pip install gunicorn==23.0.0"
    assert any("gunicorn==23.0.0 is installed" in reason for reason in plan.reasons)
    assert plan.warnings == []


def test_uv_app_adds_its_server_with_uv_and_keeps_it(tmp_path):
    fastapi_uv(tmp_path, server="httptools", dependency="fastapi")
    plan = make_plan(tmp_path)
    assert plan.start_command == "uvicorn main:app --host 0.0.0.0 --port $PORT"
    assert plan.install_command.endswith("&& uv pip install uvicorn==0.32.1")


def test_server_from_the_lockfile_closure(tmp_path):
    fastapi_uv(tmp_path, server="uvicorn")
    plan = make_plan(tmp_path)
    assert plan.start_command == "uvicorn main:app --host 0.0.0.0 --port $PORT"
    assert "uv pip install" not in plan.install_command


def test_dev_only_server_is_not_installed(tmp_path):
    write(tmp_path, {
        "pyproject.toml": '[project]\nname = "api"\nversion = "0"\ndependencies = ["fastapi"]\n',
        "uv.lock": UV_LOCK.format(server="uvicorn").replace('extra = ["standard"] ', "")
        .replace('{ name = "fastapi", }', '{ name = "fastapi" }').replace('dev = [{ name = "pytest" }]',
                                                                          'dev = [{ name = "gunicorn" }]'),
        "main.py": "app = FastAPI()\n",
    })
    plan = make_plan(tmp_path)
    assert plan.install_command.endswith("uv pip install uvicorn==0.32.1")


@pytest.mark.parametrize(
    ("procfile", "missing"),
    [
        ("web: gunicorn app:app", "gunicorn"),
        ("web: python manage.py migrate && daphne -b 0.0.0.0 -p $PORT shop.asgi:application", "daphne"),
        ("web: bin/start-web", "bin/start-web"),
        ("web: python -m hypercorn app:app", "python -m hypercorn"),
    ],
)
def test_procfile_program_not_installed_is_a_warning(tmp_path, procfile, missing):
    write(tmp_path, {"requirements.txt": "flask\n", "app.py": "app = Flask(__name__)\n", "manage.py": "",
                     "Procfile": procfile + "\n"})
    plan = make_plan(tmp_path)
    assert plan.start_command == procfile.removeprefix("web: ")
    assert len(plan.warnings) == 1 and missing in plan.warnings[0]
    assert any(missing in reason and "runtime" in reason for reason in plan.reasons)
    assert plan.to_json()["warnings"] == plan.warnings


@pytest.mark.parametrize(
    "procfile",
    [
        "web: newrelic-admin run-program gunicorn app:app",
        "web: FLASK_ENV=production exec gunicorn app:app",
        "web: python -m http.server $PORT",
        "web: ./boot.sh",
        "web: waitress-serve --port=$PORT app:app",
    ],
)
def test_procfile_programs_that_are_installed(tmp_path, procfile):
    write(tmp_path, {"requirements.txt": "flask\ngunicorn\nnewrelic\nwaitress\n", "app.py": "app = Flask(1)\n",
                     "boot.sh": "#!/bin/sh\n", "Procfile": procfile + "\n"})
    assert make_plan(tmp_path).warnings == []


def test_project_script_is_installed(tmp_path):
    write(tmp_path, {
        "pyproject.toml": '[project]\nname = "svc"\nversion = "0"\ndependencies = ["aiohttp"]\n'
                          '[project.scripts]\nsvc = "svc.cli:main"\n'
                          '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
        "svc/__init__.py": "", "svc/cli.py": "def main():\n    pass\n",
    })
    plan = make_plan(tmp_path)
    assert plan.start_command == "svc"
    assert plan.warnings == []


def test_module_entry_point(tmp_path):
    write(tmp_path, {"requirements.txt": "aiohttp\n", "bot/__init__.py": "", "bot/__main__.py": "print(1)\n"})
    assert make_plan(tmp_path).start_command == "python -m bot"


@pytest.mark.parametrize(
    ("files", "port", "where"),
    [
        ({"requirements.txt": "", "main.py": "app.run(host='0.0.0.0', port=5000)\n"}, 5000, "main.py"),
        ({"requirements.txt": "aiohttp\n", "server.py": "web.run_app(app, port=8000)\n"}, 8000, "server.py"),
        ({"requirements.txt": "", "main.py": "run_simple('0.0.0.0', 4000, application)\n"}, 4000, "main.py"),
        ({"requirements.txt": "", "main.py": "uvicorn.run('main:app', host='0.0.0.0', port=8000)\n"}, 8000,
         "main.py"),
        ({"requirements.txt": "", "main.py": "port = int(os.environ.get('PORT', 5000))\napp.run(port=port)\n"},
         None, None),
        ({"requirements.txt": "gunicorn\nflask\n", "app.py": "app = Flask(1)\n",
          "Procfile": "web: gunicorn --bind 0.0.0.0:8000 app:app\n"}, 8000, "Procfile"),
    ],
)
def test_hard_coded_port_becomes_port(tmp_path, files, port, where):
    write(tmp_path, files)
    plan = make_plan(tmp_path)
    if port is None:
        assert plan.port == 8080
        return
    assert plan.port == port
    assert any(reason.startswith(f"port {port}: hard-coded in {where}") for reason in plan.reasons)
    dockerfile = render(plan).dockerfile
    assert f"ENV PORT={port}" in dockerfile and f"EXPOSE {port}" in dockerfile


def test_own_server_command_ignores_the_port_in_the_source(tmp_path):
    write(tmp_path, {"requirements.txt": "fastapi\nuvicorn\n",
                     "main.py": "app = FastAPI()\nif __name__ == '__main__':\n    uvicorn.run(app, port=8000)\n"})
    plan = make_plan(tmp_path)
    assert plan.start_command == "uvicorn main:app --host 0.0.0.0 --port $PORT"
    assert plan.port == 8080


def test_lone_procfile_with_a_bound_port(tmp_path):
    write(tmp_path, {"Procfile": "web: ./server -p 3000\n", "server": ""})
    plan = make_plan(tmp_path)
    assert plan.port == 3000


@pytest.mark.parametrize(
    ("files", "start"),
    [
        ({"requirements.txt": "flask\ngunicorn\n", "hello/__init__.py": "app = Flask(__name__)\n"},
         "gunicorn hello:app --bind 0.0.0.0:$PORT"),
        ({"pyproject.toml": '[project]\nname = "svc"\nversion = "0"\ndependencies = ["fastapi", "uvicorn"]\n'
                            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
          "src/svc/__init__.py": "", "src/svc/api.py": "api = FastAPI()\n"},
         "uvicorn svc.api:api --host 0.0.0.0 --port $PORT"),
    ],
)
def test_app_object_inside_a_package(tmp_path, files, start):
    write(tmp_path, files)
    assert make_plan(tmp_path).start_command == start


def test_server_without_a_framework_uses_the_interface_of_the_app_it_finds(tmp_path):
    write(tmp_path, {"requirements.txt": "granian\nsome-wsgi-lib\n", "app.py": "app = Flask(__name__)\n"})
    assert make_plan(tmp_path).start_command == "granian --interface wsgi --host 0.0.0.0 --port $PORT app:app"


def test_src_package_main_runs_only_when_installed(tmp_path):
    write(tmp_path / "a", {"requirements.txt": "aiohttp\n", "src/bot/__main__.py": "", "run.py": ""})
    assert make_plan(tmp_path / "a").start_command == "python run.py"
    write(tmp_path / "b", {"pyproject.toml": '[project]\nname = "bot"\nversion = "0"\ndependencies = ["aiohttp"]\n'
                                             '[build-system]\nrequires = ["hatchling"]\n'
                                             'build-backend = "hatchling.build"\n',
                           "src/bot/__init__.py": "", "src/bot/__main__.py": ""})
    assert make_plan(tmp_path / "b").start_command == "python -m bot"
