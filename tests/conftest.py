"""Shared fixtures: run the installed `unkey` as a subprocess, as users do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def unkey_bin() -> list[str]:
    found = shutil.which("unkey", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "unkey_deploy"]


@pytest.fixture(autouse=True)
def _no_ambient_unkey_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process code sees none of the caller's UNKEY_* settings (CI exports UNKEY_BASE_IMAGES, say)."""
    for name in list(os.environ):
        if name.startswith("UNKEY_") and not name.startswith(("UNKEY_TEST_", "UNKEY_CI_")):
            monkeypatch.delenv(name)


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment with no ambient Unkey settings, CI markers or colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNKEY_", "GITHUB_", "GITLAB_", "CI_"))}
    env.pop("CI", None)
    env["NO_COLOR"] = "1"
    env["HOME"] = str(tmp_path / "home")
    (tmp_path / "home").mkdir(exist_ok=True)
    env["UNKEY_CONFIG"] = str(tmp_path / "home" / ".unkey" / "config.toml")
    return env


@pytest.fixture
def run_cli(cli_env: dict[str, str], tmp_path: Path):
    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, input: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        merged = dict(cli_env)
        merged.update(env or {})
        return subprocess.run(
            [*unkey_bin(), *args],
            env=merged,
            cwd=cwd or tmp_path,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    """What .ci/services.sh started (Docker engine, registries, stand-in base images), read from
    $UNKEY_CI_DIR/services.env (default /tmp/unkey-ci), overridden by UNKEY_TEST_* / UNKEY_BASE_IMAGES."""
    from unkey_deploy.image.secrets import parse_env_text

    path = Path(os.environ.get("UNKEY_CI_DIR", "/tmp/unkey-ci")) / "services.env"
    found = parse_env_text(path.read_text(), str(path)) if path.is_file() else {}
    found.update({k: v for k, v in os.environ.items() if k.startswith("UNKEY_TEST_") or k == "UNKEY_BASE_IMAGES"})
    return found


def write(root: Path, files: dict[str, Any]) -> Path:
    """Write a source tree: file name → text, or a dict written as JSON (package.json, composer.json)."""
    import json

    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content) if isinstance(content, dict) else content)
    return root
