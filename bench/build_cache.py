"""Cold build vs rebuild after a one-line source change, on apps with real registry dependencies.

Each case writes a small app into a temp dir from an example's source: a Flask app whose
dependencies are the [project].dependencies of pyproject.toml (pip), one with requirements.txt, and
the Express example with a real package-lock.json (made with the host's npm when it has one,
otherwise the install runs without a lockfile). A fresh marker in the manifest makes the first
build's dependency step new, and the package-manager caches (BuildKit cache mounts) are emptied
first, so "cold" downloads and installs every dependency. Then one line of the app's source changes
and it is built again. Prints both timings, their ratio (target: rebuild under 20% of cold) and
whether the rebuild took the dependency step from the cache.

Needs a Docker engine and the stand-in base images (`bash .ci/services.sh`).

    python bench/build_cache.py [--cases python-pyproject node-npm] [--keep-cache-mounts]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from unkey_deploy.dockerfile import render
from unkey_deploy.image.build import BuildRequest, build_image
from unkey_deploy.plan import Plan, make_plan
from unkey_deploy.report import Reporter

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVICES_ENV = Path(os.environ.get("UNKEY_CI_DIR", "/tmp/unkey-ci")) / "services.env"
DOCKER = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else "docker"
FLASK_DEPENDENCIES = ["flask==3.1.0", "gunicorn==23.0.0"]
NODE_DEPENDENCIES = {"express": "4.21.2"}


class StepLog(Reporter):
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.cached: list[str] = []
        self.ran: list[str] = []

    def step_started(self, step_id: str, name: str) -> None:
        self.names[step_id] = name

    def step_finished(self, step_id: str, *, ok: bool = True, cached: bool = False, detail: str = "") -> None:
        name = self.names.get(step_id, step_id)
        if not name.startswith("[internal]") and name != "exporting to image":
            (self.cached if cached else self.ran).append(" ".join(name.split()))


def python_pyproject(app: Path, marker: str) -> Path:
    shutil.copy(EXAMPLES / "python-flask" / "app.py", app / "app.py")
    deps = ", ".join(f'"{dep}"' for dep in FLASK_DEPENDENCIES)
    (app / "pyproject.toml").write_text(
        f'[project]\nname = "bench-flask"\nversion = "0.1.0"\ndescription = "{marker}"\ndependencies = [{deps}]\n'
    )
    return app / "app.py"


def python_requirements(app: Path, marker: str) -> Path:
    shutil.copy(EXAMPLES / "python-flask" / "app.py", app / "app.py")
    (app / "requirements.txt").write_text(f"# {marker}\n" + "\n".join(FLASK_DEPENDENCIES) + "\n")
    return app / "app.py"


def node_npm(app: Path, marker: str) -> Path:
    shutil.copy(EXAMPLES / "node-express" / "index.js", app / "index.js")
    package = {"name": "bench-express", "version": "1.0.0", "private": True, "description": marker,
               "scripts": {"start": "node index.js"}, "dependencies": NODE_DEPENDENCIES}  # fmt: skip
    (app / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    npm = shutil.which("npm")
    if npm:
        subprocess.run([npm, "install", "--package-lock-only", "--no-audit", "--no-fund"], cwd=app, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
    return app / "index.js"


CASES: dict[str, Callable[[Path, str], Path]] = {
    "python-pyproject": python_pyproject,
    "python-requirements": python_requirements,
    "node-npm": node_npm,
}


def build(app: Path, tag: str) -> tuple[float, StepLog, Plan]:
    plan = make_plan(app)
    rendered = render(plan)
    request = BuildRequest(plan.context_dir, tag, dockerfile_text=rendered.dockerfile,
                           dockerignore_text=rendered.dockerignore)  # fmt: skip
    log = StepLog()
    started = time.perf_counter()
    build_image(request, log)
    return time.perf_counter() - started, log, plan


def dependency_step(plan: Plan, log: StepLog) -> tuple[str, bool] | None:
    """(step name, cached?) of the rebuild's dependency install."""
    needle = (plan.install_command or "").split(" && ")[-1]
    for name in log.cached:
        if needle and needle in name:
            return name, True
    for name in log.ran:
        if needle and needle in name:
            return name, False
    return None


def empty_cache_mounts() -> None:
    subprocess.run([DOCKER, "builder", "prune", "--force", "--filter", "type=exec.cachemount"], check=False,
                   capture_output=True, timeout=300)  # fmt: skip


def bench(case: str, keep_cache_mounts: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="unkey-bench-") as tmp:
        app = Path(tmp) / case
        app.mkdir()
        source = CASES[case](app, uuid.uuid4().hex)
        tag = f"unkey-bench/{case}:latest"
        if not keep_cache_mounts:
            empty_cache_mounts()
        cold, _, plan = build(app, tag)
        comment = "# one-line change\n" if source.suffix == ".py" else "// one-line change\n"
        source.write_text(source.read_text() + comment)
        warm, log, _ = build(app, tag)
    step = dependency_step(plan, log)
    return {"case": case, "packageManager": plan.package_manager, "installCommand": plan.install_command,
            "coldSeconds": round(cold, 2), "rebuildSeconds": round(warm, 2), "ratio": round(warm / cold, 3),
            "dependencyStepCached": step[1] if step else None,
            "cachedSteps": log.cached, "rebuiltSteps": log.ran}  # fmt: skip


def verdict(result: dict[str, object]) -> str:
    ratio = float(result["ratio"])  # type: ignore[arg-type]
    cached = result["dependencyStepCached"]
    if cached is None:
        return "no dependency step found in the rebuild"
    if not cached:
        return "over target: the dependency step ran again"
    return "ok" if ratio < 0.2 else "over target: fixed per-build overhead outweighs the saved install"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--keep-cache-mounts", action="store_true",
                        help="keep downloaded packages in the BuildKit cache mounts (a warmer cold build)")
    args = parser.parse_args()
    if "UNKEY_BASE_IMAGES" not in os.environ and SERVICES_ENV.is_file():
        from unkey_deploy.image.secrets import parse_env_text

        services = parse_env_text(SERVICES_ENV.read_text(), str(SERVICES_ENV))
        os.environ["UNKEY_BASE_IMAGES"] = services.get("UNKEY_BASE_IMAGES", "")
    for case in args.cases:
        result = bench(case, args.keep_cache_mounts)
        print(f"{case} ({result['packageManager']}): cold {result['coldSeconds']}s, "
              f"rebuild {result['rebuildSeconds']}s, ratio {result['ratio']} "
              f"({verdict(result)}; target < 0.2)")  # fmt: skip
        state = {True: "CACHED", False: "RAN AGAIN", None: "not found"}[result["dependencyStepCached"]]  # type: ignore[index]
        print(f"  dependency step `{result['installCommand']}`: {state}")
        print(f"  rebuilt: {'; '.join(map(str, result['rebuiltSteps']))}")  # type: ignore[call-overload]
        print(json.dumps(result), file=sys.stderr)


if __name__ == "__main__":
    main()
