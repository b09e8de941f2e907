"""`unkey plan` on a 200,000-file tree, most of it under node_modules, .git and .venv.

Detection reads single files and never lists ignored directories, so the big tree should plan about
as fast as the same app without them. Prints both timings and their ratio (target: within 1.5x).

    python bench/plan_walk.py [--files 200000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IGNORED = ("node_modules", ".git", ".venv")


def make_app(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({
        "name": "bench", "dependencies": {"express": "4"}, "scripts": {"build": "tsc", "start": "node dist/i.js"},
    }))
    (root / "package-lock.json").write_text("{}")
    (root / ".nvmrc").write_text("20\n")
    for i in range(200):
        path = root / "src" / f"m{i // 20}" / f"f{i}.ts"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("export {}\n")


def fill_ignored(root: Path, total: int) -> int:
    per_dir = 100
    made = 0
    for n in range(total):
        top = IGNORED[n % len(IGNORED)]
        directory = root / top / f"pkg{n // per_dir % 997}" / f"d{n // (per_dir * 997)}"
        if n % per_dir == 0 or not directory.exists():
            directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{n}.js").write_bytes(b"")
        made += 1
    return made


def time_plan(app: Path, runs: int) -> float:
    unkey = shutil.which("unkey", path=str(Path(sys.executable).parent)) or "unkey"
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([unkey, "plan", str(app), "--output", "json"], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small", Path(tmp) / "big"
        make_app(small)
        make_app(big)
        start = time.perf_counter()
        made = fill_ignored(big, args.files)
        print(f"tree: {made} files under {', '.join(IGNORED)} (made in {time.perf_counter() - start:.1f}s)")
        plain = time_plan(small, args.runs)
        heavy = time_plan(big, args.runs)
        ratio = heavy / plain
        print(f"unkey plan without ignored dirs: {plain * 1000:.0f} ms (median of {args.runs})")
        print(f"unkey plan with ignored dirs:    {heavy * 1000:.0f} ms (median of {args.runs})")
        print(f"ratio: {ratio:.2f}x (target <= 1.5x) {'ok' if ratio <= 1.5 else 'SLOW'}")


if __name__ == "__main__":
    main()
