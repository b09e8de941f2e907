"""Django: the settings module the server loads, collectstatic / compress at build time, the server."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

APPS = "INSTALLED_APPS = ['django.contrib.staticfiles']\n"


def manage(settings: str) -> str:
    return f"import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', '{settings}')\n"


def django_app(tmp_path, settings_files, *, requirements="Django\ngunicorn\n", manage_settings="shop.settings",
               wsgi_settings=None, extra=None):
    files = {"requirements.txt": requirements, "manage.py": manage(manage_settings),
             "shop/__init__.py": "", "shop/wsgi.py": manage(wsgi_settings) if wsgi_settings else "application = 1\n"}
    files.update(settings_files)
    files.update(extra or {})
    return write(tmp_path, files)


def test_collectstatic_when_static_root_is_set(tmp_path):
    django_app(tmp_path, {"shop/settings.py": APPS + "SECRET_KEY = 'x'\nSTATIC_ROOT = BASE_DIR / 'staticfiles'\n"})
    plan = make_plan(tmp_path)
    assert plan.build_command == "python manage.py collectstatic --noinput"
    assert "build: collectstatic, STATIC_ROOT is set in shop.settings" in plan.reasons
    assert plan.start_command == "gunicorn shop.wsgi:application --bind 0.0.0.0:$PORT"


def test_no_collectstatic_without_static_root(tmp_path):
    django_app(tmp_path, {"shop/settings.py": "STATIC_URL = '/static/'\n"})
    assert make_plan(tmp_path).build_command is None


def test_conditional_static_root_is_not_run_and_said(tmp_path):
    django_app(tmp_path, {"shop/settings.py": "if os.environ.get('RENDER'):\n    STATIC_ROOT = BASE_DIR / 's'\n"})
    plan = make_plan(tmp_path)
    assert plan.build_command is None
    assert any("STATIC_ROOT is set only under a condition" in reason for reason in plan.reasons)


def test_settings_package_with_star_imports_and_compress(tmp_path):
    django_app(tmp_path, {
        "shop/settings/__init__.py": "",
        "shop/settings/base.py": APPS + "STATIC_ROOT = os.path.join(BASE_DIR, 'static')\n",
        "shop/settings/dev.py": "from .base import *\nDEBUG = True\n",
        "shop/settings/production.py": "from .base import *\nenv = os.environ.copy()\n"
                                       "SECRET_KEY = env['SECRET_KEY']\nCOMPRESS_OFFLINE = True\n",
    }, requirements="django\ndjango-compressor\ngunicorn\n", manage_settings="shop.settings.dev",
        wsgi_settings="shop.settings.production")
    plan = make_plan(tmp_path)
    assert plan.build_command == (
        'export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-shop.settings.production}" '
        'SECRET_KEY="${SECRET_KEY:-unkey-build-placeholder}" '
        "&& python manage.py collectstatic --noinput && python manage.py compress --force"
    )
    dockerfile = render(plan).dockerfile
    runtime = dockerfile.split("\n\nFROM ")[-1]
    assert "unkey-build-placeholder" not in runtime, "the throwaway value stays on the build step"
    assert "ENV SECRET_KEY" not in dockerfile


def test_compress_needs_django_compressor(tmp_path):
    django_app(tmp_path, {"shop/settings.py": APPS + "STATIC_ROOT = 'static'\nCOMPRESS_OFFLINE = True\n"})
    assert make_plan(tmp_path).build_command == "python manage.py collectstatic --noinput"


@pytest.mark.parametrize(
    ("settings", "names"),
    [
        ("SECRET_KEY = os.environ['DJANGO_SECRET_KEY']\n", ["DJANGO_SECRET_KEY"]),
        ("SECRET_KEY = env('SECRET_KEY')\nDATABASES = {'default': env.db()}\n", ["SECRET_KEY", "DATABASE_URL"]),
        ("SECRET_KEY = config('SECRET_KEY')\nDEBUG = config('DEBUG', default=False, cast=bool)\n", ["SECRET_KEY"]),
        ("SECRET_KEY = os.environ.get('SECRET_KEY', 'dev')\n", []),
        ("SECRET_KEY = os.getenv('KEY')\n", ["KEY"]),
    ],
)
def test_settings_that_need_env_at_import_get_throwaway_values(tmp_path, settings, names):
    django_app(tmp_path, {"shop/settings.py": APPS + settings + "STATIC_ROOT = 'static'\n"})
    build = make_plan(tmp_path).build_command
    for name in names:
        assert f'{name}="${{{name}:-' in build
    if not names:
        assert build == "python manage.py collectstatic --noinput"
    if "DATABASE_URL" in names:
        assert 'DATABASE_URL="${DATABASE_URL:-sqlite:////tmp/build.sqlite3}"' in build


def test_django_without_a_server_gets_gunicorn(tmp_path):
    django_app(tmp_path, {"shop/settings.py": ""}, requirements="django\n")
    plan = make_plan(tmp_path)
    assert plan.start_command == "gunicorn shop.wsgi:application --bind 0.0.0.0:$PORT"
    assert "pip install gunicorn==23.0.0" in plan.install_command
    assert plan.warnings == []


def test_django_channels_served_over_asgi(tmp_path):
    django_app(tmp_path, {"shop/settings.py": ""}, requirements="django\nchannels\ndaphne\ngunicorn\n",
               extra={"shop/asgi.py": "application = 1\n"})
    plan = make_plan(tmp_path)
    assert plan.start_command == "daphne --bind 0.0.0.0 --port $PORT shop.asgi:application"


def test_django_with_only_an_asgi_server(tmp_path):
    django_app(tmp_path, {"shop/settings.py": ""}, requirements="django\nuvicorn\n",
               extra={"shop/asgi.py": "application = 1\n"})
    assert make_plan(tmp_path).start_command == "uvicorn shop.asgi:application --host 0.0.0.0 --port $PORT"


def test_runserver_only_without_wsgi_and_then_a_warning(tmp_path):
    write(tmp_path, {"requirements.txt": "django\n", "manage.py": manage("shop.settings"), "shop/settings.py": ""})
    plan = make_plan(tmp_path)
    assert plan.start_command == "python manage.py runserver 0.0.0.0:$PORT"
    assert plan.warnings and "runserver" in plan.warnings[0]


def test_empty_settings_package_of_the_server_falls_back_to_manage_py(tmp_path):
    django_app(tmp_path, {"shop/settings/__init__.py": "",
                          "shop/settings/dev.py": APPS + "SECRET_KEY = 'x'\nSTATIC_ROOT = 'static'\n"},
               manage_settings="shop.settings.dev", wsgi_settings="shop.settings")
    plan = make_plan(tmp_path)
    assert plan.build_command == "python manage.py collectstatic --noinput"
    assert "build: collectstatic, STATIC_ROOT is set in shop.settings.dev" in plan.reasons


def test_no_collectstatic_without_the_staticfiles_app(tmp_path):
    django_app(tmp_path, {"shop/settings.py": "INSTALLED_APPS = []\nSTATIC_ROOT = BASE_DIR / 'staticfiles'\n"})
    plan = make_plan(tmp_path)
    assert plan.build_command is None
    assert any("django.contrib.staticfiles is not in INSTALLED_APPS" in reason for reason in plan.reasons)
