"""How much `unkey --help` and `unkey --version` cost on top of starting Python at all.

Target: under 150 ms more than `python -c pass`. Prints the medians in milliseconds.

    python bench/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def median_ms(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    unkey = shutil.which("unkey") or shutil.which("unkey", path=str(__import__("pathlib").Path(sys.executable).parent))
    cli = [unkey] if unkey else [sys.executable, "-m", "unkey_deploy"]
    bare = median_ms([sys.executable, "-c", "pass"], args.runs)
    print(f"python -c pass      {bare:7.1f} ms")
    for flag in ("--help", "--version"):
        took = median_ms([*cli, flag], args.runs)
        verdict = "ok" if took - bare < 150 else "OVER TARGET"
        print(f"unkey {flag:<13} {took:7.1f} ms  (+{took - bare:.1f} ms over bare Python, target < 150: {verdict})")


if __name__ == "__main__":
    main()
