"""Build-context bytes sent to the builder vs tracked source bytes, on a repository that also holds
node_modules, .venv and .git (target: under 1.1x).

The app is a Node.js server committed to git; node_modules, .venv and the .git directory are filled
with junk. The image is built with the generated Dockerfile and .dockerignore, and the context size
BuildKit reports ("transferring context") is compared with the size of `git ls-files`.

Needs a Docker engine and the stand-in base images (`bash .ci/services.sh`).

    python bench/context_size.py [--junk-mb 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

from unkey_deploy.dockerfile import render
from unkey_deploy.image.build import BuildRequest, build_image
from unkey_deploy.plan import make_plan
from unkey_deploy.report import Reporter

SERVICES_ENV = Path(os.environ.get("UNKEY_CI_DIR", "/tmp/unkey-ci")) / "services.env"
SERVER = "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT || 8080);\n"


def make_repo(root: Path, junk_mb: int) -> int:
    """The repository; returns the tracked source bytes."""
    (root / "src").mkdir(parents=True)
    package = {"name": "ctx", "version": "1.0.0", "scripts": {"start": "node src/server.js"}}
    (root / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (root / "src" / "server.js").write_text(SERVER)
    for i in range(50):
        (root / "src" / f"module{i}.js").write_text(f"module.exports = {i};\n" * 40)
    (root / ".gitignore").write_text("node_modules\n.venv\n")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-C", str(root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "app"], check=True)
    per_dir = junk_mb * 1024 * 1024 // 3
    for name in ("node_modules/big-dependency", ".venv/lib", ".git/objects/junk"):
        directory = root / name
        directory.mkdir(parents=True, exist_ok=True)
        for i in range(10):
            (directory / f"blob{i}.bin").write_bytes(os.urandom(per_dir // 10))
    tracked = subprocess.run([*git, "ls-files", "-z"], capture_output=True, check=True).stdout.split(b"\0")
    return sum((root / name.decode()).stat().st_size for name in tracked if name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--junk-mb", type=int, default=50, help="Bytes put in node_modules, .venv and .git.")
    args = parser.parse_args()
    if "UNKEY_BASE_IMAGES" not in os.environ and SERVICES_ENV.is_file():
        from unkey_deploy.image.secrets import parse_env_text

        services = parse_env_text(SERVICES_ENV.read_text(), str(SERVICES_ENV))
        os.environ["UNKEY_BASE_IMAGES"] = services.get("UNKEY_BASE_IMAGES", "")
    with tempfile.TemporaryDirectory(prefix="unkey-bench-") as tmp:
        root = Path(tmp) / "repo"
        tracked = make_repo(root, args.junk_mb)
        plan = make_plan(root)
        rendered = render(plan)
        request = BuildRequest(plan.context_dir, "unkey-bench/context:latest", dockerfile_text=rendered.dockerfile,
                               dockerignore_text=rendered.dockerignore)  # fmt: skip
        built = build_image(request, Reporter())
    sent = built.context_bytes or 0
    ratio = sent / tracked
    verdict = "ok" if ratio < 1.1 else "over target"
    print(f"tracked source: {tracked} B, context sent: {sent} B (BuildKit's rounded figure), "
          f"junk: {args.junk_mb} MB; ratio {ratio:.3f} ({verdict}, target < 1.1)")  # fmt: skip


if __name__ == "__main__":
    main()
