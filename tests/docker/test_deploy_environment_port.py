"""`unkey deploy --build` of an app that hard-codes its port: the environment's port must follow the plan's,
or the health check on 8080 fails. Against `unkey local serve --runtime docker`."""

from __future__ import annotations

import json

import httpx

from tests.local.conftest import start_server

PROJECT = "porttest"
APP = (
    "import http.server\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers()\n"
    "        self.wfile.write(b'ok')\n"
    "http.server.HTTPServer(('0.0.0.0', 3000), H).serve_forever()\n"
)


def test_deploy_sets_the_port_the_plan_found(run_cli, docker_engine, base_images, tmp_path):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    (app_dir / "Procfile").write_text("web: python3 app.py --port 3000\n")
    (app_dir / "requirements.txt").write_text("")
    server = start_server(tmp_path / "data", "--runtime", "docker", "--health-timeout", "8")
    env = {"UNKEY_BASE_IMAGES": json.dumps(base_images)}
    target = ("--project", PROJECT, "--app", "web", "--env", "preview")
    try:
        def cli(*args: str):
            return run_cli(*args, "--api-url", server.url, "--root-key", server.root_key, env=env, timeout=900)

        assert cli("projects", "create", "--slug", PROJECT).returncode == 0
        assert cli("apps", "create", "--project", PROJECT, "--slug", "web").returncode == 0
        # The environment still has the default port: deploying sets the port the app listens on.
        fixed = cli("deploy", str(app_dir), "--local", *target, "--output", "json")
        assert fixed.returncode == 0, fixed.stderr
        assert "Port: 8080 -> 3000" in fixed.stderr
        assert httpx.get(json.loads(fixed.stdout)["urls"][0], timeout=10).text == "ok"
        settings = json.loads(cli("environments", "settings", *target, "-o", "json").stdout)
        assert settings["runtime"]["port"] == 3000

        # A port given to the environment on purpose is kept: a warning says how to change it.
        assert cli("environments", "set", *target, "--port", "4000").returncode == 0
        warned = cli("deploy", str(app_dir), "--local", *target)
        assert warned.returncode == 1
        assert "the app listens on port 3000" in warned.stderr and "--set-port" in warned.stderr
        settings = json.loads(cli("environments", "settings", *target, "-o", "json").stdout)
        assert settings["runtime"]["port"] == 4000

        forced = cli("deploy", str(app_dir), "--local", *target, "--set-port")
        assert forced.returncode == 0, forced.stderr
        assert "Port: 4000 -> 3000" in forced.stdout + forced.stderr
    finally:
        server.stop()
        _remove_containers(docker_engine)


def _remove_containers(docker: str) -> None:
    import subprocess

    found = subprocess.run([docker, "ps", "-aq", "--filter", f"label=dev.unkey.local.project={PROJECT}"],
                           capture_output=True, text=True).stdout.split()
    if found:
        subprocess.run([docker, "rm", "-f", *found], capture_output=True)
