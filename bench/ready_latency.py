"""Readiness-detection latency of `unkey deploy` and the getDeployment request rate it costs.

Starts `unkey local serve --runtime simulate --debug-timestamps` with deployments that become READY after a
random 2-20 s (in the second scenario the last 1.5 s of it in NETWORK), puts a counting proxy in front of it,
runs N `unkey deploy` processes at once, and reports per scenario: latency = the CLI's exit time minus the
moment the server marked the deployment READY, and getDeployment calls per second from the deployment's
creation to the CLI's exit.

Targets: median < 600 ms with at most ~1 getDeployment call per second on average (1.1/s) when a deployment
jumps from PENDING straight to READY; median < 150 ms when it passes through NETWORK first (polling is
faster there by design, so that scenario costs more calls).

    python bench/ready_latency.py [--count 20] [--scenario jump|network|both]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def unkey_cmd() -> list[str]:
    found = shutil.which("unkey", path=str(Path(sys.executable).parent)) or shutil.which("unkey")
    return [found] if found else [sys.executable, "-m", "unkey_deploy"]


def start_server(data_dir: str, steps: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*unkey_cmd(), "local", "serve", "--port", "0", "--runtime", "simulate", "--allow-any-key",
         "--data-dir", data_dir, "--steps", steps, "--ready-after", "2-20", "--debug-timestamps"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


def start_proxy(upstream: str, calls: Counter[str], created: dict[str, float]) -> tuple[ThreadingHTTPServer, str]:
    """Forward every request to `upstream`, counting getDeployment calls per deployment id and noting
    when each deployment was created."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.endswith("getDeployment"):
                calls[json.loads(body).get("deploymentId", "?")] += 1
            req = urllib.request.Request(upstream + self.path, data=body, method="POST", headers={
                "Content-Type": "application/json", "Authorization": self.headers.get("Authorization", ""),
            })
            try:
                with urllib.request.urlopen(req) as resp:
                    status, payload = resp.status, resp.read()
            except urllib.error.HTTPError as exc:
                status, payload = exc.code, exc.read()
            if self.path.endswith("createDeployment") and status == 201:
                created[json.loads(payload)["data"]["deploymentId"]] = time.time()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def ready_at(url: str, deployment_id: str) -> int:
    req = urllib.request.Request(f"{url}/v2/deploy.getDeployment", method="POST",
                                 data=json.dumps({"deploymentId": deployment_id}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer bench"})
    with urllib.request.urlopen(req) as resp:
        return int(json.loads(resp.read())["data"]["readyAt"])


def run_scenario(name: str, steps: str, count: int) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        server, url = start_server(data_dir, steps)
        calls: Counter[str] = Counter()
        created: dict[str, float] = {}
        proxy, proxy_url = start_proxy(url, calls, created)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UNKEY_", "GITHUB_"))}
        env.update(NO_COLOR="1", UNKEY_ROOT_KEY="bench")
        try:
            procs = []
            for i in range(count):
                proc = subprocess.Popen(
                    [*unkey_cmd(), "deploy", f"bench/app:{i}", "--project=bench", f"--api-url={proxy_url}",
                     "--output=json"],
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=data_dir,
                )
                procs.append(proc)
            latencies, rates = [], []
            pending = list(procs)
            exits: dict[int, float] = {}
            while pending:  # note each process's exit time as it happens
                for proc in list(pending):
                    if proc.poll() is not None:
                        exits[proc.pid] = time.time()
                        pending.remove(proc)
                time.sleep(0.002)
            for proc in procs:
                out = json.loads(proc.stdout.read() if proc.stdout else "{}")
                dep = out["deploymentId"]
                latencies.append(exits[proc.pid] * 1000 - ready_at(url, dep))
                rates.append(calls[dep] / (exits[proc.pid] - created[dep]))
        finally:
            proxy.shutdown()
            server.terminate()
            server.wait(10)
    latencies.sort()
    print(f"{name:<8} n={count}  latency ms: median {statistics.median(latencies):6.0f}  "
          f"p90 {latencies[int(len(latencies) * 0.9) - 1]:6.0f}  max {latencies[-1]:6.0f}   "
          f"getDeployment/s: mean {statistics.mean(rates):.2f}  max {max(rates):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--scenario", choices=["jump", "network", "both"], default="both")
    args = parser.parse_args()
    if args.scenario in ("jump", "both"):
        run_scenario("jump", "none", args.count)  # PENDING straight to READY
    if args.scenario in ("network", "both"):
        run_scenario("network", "network=1.5", args.count)  # PENDING -> NETWORK (the last 1.5 s) -> READY


if __name__ == "__main__":
    main()
