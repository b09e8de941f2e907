"""Cold build vs rebuild after a one-line source change, for the Python and Node examples.

Each example is copied to a temp dir and given one real dependency (so there is a dependency layer
to cache) and a fresh marker in its manifest (so the first build is cold). Then one line of the app's
source changes and it is built again. Prints both timings, their ratio (target: rebuild under 20% of
cold) and which steps the rebuild took from the cache (the dependency install must be among them).

Needs a Docker engine and the stand-in base images (`bash .ci/services.sh`).

    python bench/build_cache.py [--examples python-http node-http]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from unkey_deploy.dockerfile import render
from unkey_deploy.image.build import BuildRequest, build_image
from unkey_deploy.plan import make_plan
from unkey_deploy.report import Reporter

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SERVICES_ENV = Path(os.environ.get("UNKEY_CI_DIR", "/tmp/unkey-ci")) / "services.env"


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
            (self.cached if cached else self.ran).append(name)


def add_dependency(app: Path, marker: str) -> Path:
    """Give the app one dependency and a unique manifest; return the source file to edit."""
    if (app / "pyproject.toml").is_file():
        manifest = app / "pyproject.toml"
        text = manifest.read_text().replace("dependencies = []", 'dependencies = ["six==1.16.0"]')
        manifest.write_text(text.replace('description = "', f'description = "{marker} '))
        return app / "main.py"
    package = json.loads((app / "package.json").read_text())
    package["dependencies"] = {"left-pad": "1.3.0"}
    package["description"] = f"{marker} {package.get('description', '')}"
    (app / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    return app / "server.js"


def build(app: Path, tag: str) -> tuple[float, StepLog]:
    plan = make_plan(app)
    rendered = render(plan)
    request = BuildRequest(plan.context_dir, tag, dockerfile_text=rendered.dockerfile,
                           dockerignore_text=rendered.dockerignore)  # fmt: skip
    log = StepLog()
    started = time.perf_counter()
    build_image(request, log)
    return time.perf_counter() - started, log


def bench(example: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="unkey-bench-") as tmp:
        app = Path(tmp) / example
        shutil.copytree(EXAMPLES / example, app)
        source = add_dependency(app, uuid.uuid4().hex)
        tag = f"unkey-bench/{example}:latest"
        cold, _ = build(app, tag)
        comment = "# one-line change\n" if source.suffix == ".py" else "// one-line change\n"
        source.write_text(source.read_text() + comment)
        warm, log = build(app, tag)
    return {"example": example, "coldSeconds": round(cold, 2), "rebuildSeconds": round(warm, 2),
            "ratio": round(warm / cold, 3), "cachedSteps": log.cached, "rebuiltSteps": log.ran}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", nargs="+", default=["python-http", "node-http"])
    args = parser.parse_args()
    if "UNKEY_BASE_IMAGES" not in os.environ and SERVICES_ENV.is_file():
        from unkey_deploy.image.secrets import parse_env_text

        services = parse_env_text(SERVICES_ENV.read_text(), str(SERVICES_ENV))
        os.environ["UNKEY_BASE_IMAGES"] = services.get("UNKEY_BASE_IMAGES", "")
    for example in args.examples:
        result = bench(example)
        verdict = "ok" if float(result["ratio"]) < 0.2 else "over target"  # type: ignore[arg-type]
        print(f"{example}: cold {result['coldSeconds']}s, rebuild {result['rebuildSeconds']}s, "
              f"ratio {result['ratio']} ({verdict}, target < 0.2)")  # fmt: skip
        print(f"  cached: {'; '.join(map(str, result['cachedSteps']))}")  # type: ignore[call-overload]
        print(f"  rebuilt: {'; '.join(map(str, result['rebuiltSteps']))}")  # type: ignore[call-overload]
        print(json.dumps(result), file=sys.stderr)


if __name__ == "__main__":
    main()
