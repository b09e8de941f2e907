"""Python apps as real repositories have them: requirement files in UTF-16 (pip freeze in PowerShell),
included requirement files, and the app object in a package or a plain folder."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"
FROZEN = "anyio==3.6.2\r\nfastapi==0.95.0\r\nuvicorn==0.21.1\r\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "utf-32", "utf-16-be"])
def test_requirements_with_a_byte_order_mark_are_read(tmp_path, encoding):
    write(tmp_path, {"main.py": MAIN})
    data = FROZEN.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    (tmp_path / "requirements.txt").write_bytes(data)
    plan = make_plan(tmp_path)
    assert plan.framework == "fastapi"
    assert plan.install_command == "pip install -r requirements.txt"
    assert plan.start_command == "uvicorn main:app --host 0.0.0.0 --port $PORT"
    assert plan.warnings == []
    assert "COPY requirements.txt ./" in render(plan).dockerfile


def test_included_requirement_files_are_dependencies(tmp_path):
    write(tmp_path, {"requirements.txt": "-r requirements/base.txt  # shared\n",
                     "requirements/base.txt": "fastapi\nuvicorn\n", "main.py": MAIN})
    plan = make_plan(tmp_path)
    assert plan.framework == "fastapi"
    assert plan.install_command == "pip install -r requirements.txt"
    assert "COPY requirements/base.txt requirements/\n" in render(plan).dockerfile


@pytest.mark.parametrize("init", [True, False])
def test_fastapi_app_in_a_folder_is_started_by_its_module(tmp_path, init):
    files = {"requirements.txt": "fastapi\nuvicorn\n", "app_fastapi/main.py": MAIN,
             "app_fastapi/config.py": "DEBUG = False\n", "database/database.py": "engine = None\n"}
    if init:
        files["app_fastapi/__init__.py"] = ""
    write(tmp_path, files)
    plan = make_plan(tmp_path)
    assert plan.start_command == "uvicorn app_fastapi.main:app --host 0.0.0.0 --port $PORT"


def test_a_test_folder_is_not_the_app(tmp_path):
    write(tmp_path, {"requirements.txt": "fastapi\nuvicorn\n", "tests/main.py": MAIN, "service/api.py": MAIN})
    plan = make_plan(tmp_path)
    assert plan.start_command == "uvicorn service.api:app --host 0.0.0.0 --port $PORT"
