"""Gleam: version pins, the Erlang shipment and the JavaScript target."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".tool-versions": "gleam 1.5.1\n", "gleam.toml": 'name = "app"\ngleam = ">= 1.7.0"\n'}, "1.5.1"),
        ({"mise.toml": '[tools]\ngleam = "1.4.1"\n'}, "1.4.1"),
        ({"gleam.toml": 'name = "app"\ngleam = ">= 1.7.0"\n'}, "1.7.0"),
        ({"gleam.toml": 'name = "app"\ngleam = ">= 1.0.0 and < 2.0.0"\n'}, "1.6.3"),
        ({}, "1.6.3"),
    ],
)
def test_gleam_version_pins(tmp_path, files, expected):
    plan = make_plan(write(tmp_path, {"gleam.toml": 'name = "app"\n', **files}))
    assert plan.versions == {"gleam": expected}
    assert plan.recipe.build_image == f"ghcr.io/gleam-lang/gleam:v{expected}-erlang"


def test_erlang_target_ships_the_erlang_shipment(tmp_path):
    write(tmp_path, {"gleam.toml": 'name = "web"\n', "manifest.toml": "packages = []\n",
                     ".tool-versions": "erlang 26.2\n"})
    plan = make_plan(tmp_path)
    assert (plan.language, plan.package_manager, plan.framework) == ("gleam", "gleam", None)
    assert plan.build_command == "gleam export erlang-shipment"
    assert plan.recipe.runtime_image == "erlang:26-slim"
    assert plan.recipe.cmd == ["/app/entrypoint.sh", "run"]
    assert plan.recipe.artifacts == [("/app/build/erlang-shipment", "/app")]


def test_javascript_target_runs_main_on_node(tmp_path):
    plan = make_plan(write(tmp_path, {"gleam.toml": 'name = "web"\ntarget = "javascript"\n'}))
    assert plan.build_command == "gleam build --target javascript"
    assert plan.recipe.build_image == "ghcr.io/gleam-lang/gleam:v1.6.3-node"
    assert plan.recipe.runtime_image == "node:22-slim"
    assert plan.recipe.cmd == ["node", "--input-type=module", "-e",
                               "import { main } from '/app/build/dev/javascript/web/web.mjs'; main()"]


def test_dockerfile_downloads_dependencies_first(tmp_path):
    write(tmp_path, {"gleam.toml": 'name = "web"\n', "manifest.toml": "packages = []\n"})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    steps = ["COPY gleam.toml manifest.toml ./", "gleam deps download", "COPY . .", "gleam export erlang-shipment"]
    assert [build.index(step) for step in steps] == sorted(build.index(step) for step in steps)
    assert "--mount=type=cache,target=/root/.cache/gleam" in build
    assert runtime.startswith("erlang:27-slim\n") and "gleam" not in runtime
