"""The runtime stage: the app user owns its working directory, and static builds get a real server
(nginx on $PORT) with single-page-app fallback when the app routes on the client."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import Plan, Recipe, make_plan


def runtime_stage(text: str) -> str:
    return text.split("\n\nFROM ")[-1]


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]


def flask_app(root: Path) -> Path:
    return write(root, {"requirements.txt": "flask\n", "app.py": "app = Flask(__name__)\n"})


def test_created_user_owns_the_workdir_and_has_a_home(tmp_path):
    runtime = runtime_stage(render(make_plan(flask_app(tmp_path))).dockerfile)
    lines = lines_of(runtime)
    user = lines.index("USER 10001")
    # USER before WORKDIR: BuildKit creates the WORKDIR owned by the current user.
    assert lines[user + 1] == "WORKDIR /app"
    assert "--create-home --home-dir /home/app app" in runtime
    assert lines.index(next(line for line in lines if line.startswith("RUN groupadd"))) < user
    copies = [line for line in lines if line.startswith("COPY")]
    assert copies and all("--chown=10001:10001" in line for line in copies)
    assert all(not line.startswith(("RUN", "USER 0")) for line in lines[user:])


def _plan(tmp_path: Path, recipe: Recipe) -> Plan:
    return Plan(app_dir=tmp_path, context_dir=tmp_path, language="x", recipe=recipe)


def test_an_image_user_is_used_as_is_and_owns_every_copy(tmp_path):
    recipe = Recipe(runtime_image="mcr.microsoft.com/dotnet/aspnet:8.0", build_image="sdk", cmd=["dotnet", "a.dll"],
                    build=["dotnet publish -o /out"], artifacts=[("/out", "/app")], user="1654")
    text = render(_plan(tmp_path, recipe)).dockerfile
    runtime = runtime_stage(text)
    assert "useradd" not in text and "groupadd" not in text
    assert lines_of(runtime)[1:5] == ["ENV PORT=8080", "USER 1654", "WORKDIR /app",
                                      "COPY --from=build --chown=1654:1654 /out /app"]


def test_user_with_a_group_keeps_it(tmp_path):
    recipe = Recipe(runtime_image="img", cmd=["/app/srv"], user="65532:65530")
    text = render(_plan(tmp_path, recipe)).dockerfile
    assert "USER 65532:65530" in text and "COPY --chown=65532:65530 . ." in text


def test_single_stage_installs_as_root_then_runs_as_the_app_user(tmp_path):
    recipe = Recipe(runtime_image="python:3.12-slim", cmd=["python", "main.py"], install_files=["requirements.txt"],
                    install=["pip install -r requirements.txt"], create_user=True, user="app")
    lines = lines_of(render(_plan(tmp_path, recipe)).dockerfile)
    users = [line for line in lines if line.startswith("USER")]
    assert users == ["USER 10001", "USER 0", "USER 10001"]
    assert lines.index("USER 10001") < lines.index("WORKDIR /app") < lines.index("USER 0")
    assert "COPY --chown=10001:10001 requirements.txt ./" in lines
    assert lines[-3] == "USER 10001"


def test_runtime_setup_runs_as_root_before_the_user_switch(tmp_path):
    recipe = Recipe(runtime_image="img", cmd=["srv"], runtime_setup=["mkdir -p /etc/srv", "echo x > /etc/srv/c"])
    lines = lines_of(render(_plan(tmp_path, recipe)).dockerfile)
    assert lines.index("RUN mkdir -p /etc/srv \\") < lines.index("USER 10001")


# -- static servers and single-page apps ------------------------------------------------------------------

def vite_app(root: Path, deps: dict[str, str] | None = None, **files: object) -> Path:
    pkg = {"scripts": {"build": "vite build"}, "dependencies": deps or {}, "devDependencies": {"vite": "5"}}
    return write(root, {"package.json": pkg, "package-lock.json": "{}", **files})


def test_static_build_is_served_by_nginx_on_port_as_non_root(tmp_path):
    write(tmp_path, {"index.html": "<h1>hi</h1>", "style.css": ""})
    plan = make_plan(tmp_path)
    text = render(plan).dockerfile
    assert plan.recipe.runtime_image == "nginx:1.27-alpine"
    assert "listen @PORT@;" in text and 's/@PORT@/$PORT/g' in text
    assert "try_files \\$uri \\$uri.html \\$uri/ =404;" in text  # a plain site keeps its 404s
    assert "USER 10001" in text and "exec nginx" in plan.recipe.cmd[-1]
    assert "pid /tmp/nginx.pid;" in text


def test_vite_is_a_single_page_app_by_default(tmp_path):
    plan = make_plan(vite_app(tmp_path))
    assert "try_files \\$uri \\$uri.html \\$uri/ /index.html;" in render(plan).dockerfile
    assert any("SPA fallback on: vite builds a single-page app" in r for r in plan.reasons)


def test_client_router_dependency_turns_the_fallback_on(tmp_path):
    write(tmp_path, {"package.json": {"scripts": {"build": "svelte-kit build"},
                                      "dependencies": {"svelte-spa-router": "4"},
                                      "devDependencies": {"@sveltejs/kit": "2"}}, "package-lock.json": "{}"})
    plan = make_plan(tmp_path)
    assert "/index.html;" in render(plan).dockerfile
    assert any("client-side router svelte-spa-router" in r for r in plan.reasons)


def test_hosting_rewrite_files_turn_the_fallback_on(tmp_path):
    write(tmp_path, {"index.html": "<div id=root></div>", "_redirects": "/*    /index.html   200\n"})
    plan = make_plan(tmp_path)
    assert "/index.html;" in render(plan).dockerfile
    assert any("SPA fallback on: _redirects declares one" in r for r in plan.reasons)


def test_unkey_yaml_switches_the_fallback_either_way(tmp_path):
    vite_app(tmp_path, **{"unkey.yaml": "static:\n  spa: false\n"})
    plan = make_plan(tmp_path)
    assert "=404;" in render(plan).dockerfile
    assert any("SPA fallback off: static.spa in unkey.yaml" in r for r in plan.reasons)
    site = write(tmp_path / "site", {"index.html": "", "unkey.yaml": "static: {spa: true}\n"})
    assert "/index.html;" in render(make_plan(site)).dockerfile


def test_bad_spa_setting_is_one_clear_line(run_cli, tmp_path):
    write(tmp_path, {"index.html": "", "unkey.yaml": "static:\n  spa: sometimes\n"})
    result = run_cli("plan", str(tmp_path))
    assert result.returncode != 0
    assert "static.spa` must be true or false" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_sveltekit_static_adapter_in_spa_mode_gets_the_fallback(tmp_path):
    write(tmp_path, {"package.json": {"scripts": {"build": "vite build"},
                                      "devDependencies": {"@sveltejs/kit": "2", "@sveltejs/adapter-static": "3"}},
                     "package-lock.json": "{}",
                     "svelte.config.js": "export default { kit: { adapter: adapter({ fallback: '200.html' }) } };\n"})
    plan = make_plan(tmp_path)
    assert "/index.html;" in render(plan).dockerfile
    assert any("SPA fallback on: svelte.config.js declares one" in r for r in plan.reasons)
    write(tmp_path, {"svelte.config.js": "export default { kit: { adapter: adapter() } };\n"})
    assert "=404;" in render(make_plan(tmp_path)).dockerfile  # prerendered pages: real 404s


def test_an_image_user_without_a_home_gets_one(tmp_path):
    recipe = Recipe(runtime_image="denoland/deno:2", cmd=["deno", "run", "main.ts"], user="1993", home="/home/deno")
    lines = lines_of(render(_plan(tmp_path, recipe)).dockerfile)
    user = lines.index("USER 1993")
    assert lines[user + 1: user + 4] == ["WORKDIR /home/deno", "ENV HOME=/home/deno", "WORKDIR /app"]
