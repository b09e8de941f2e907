"""Elixir: version pins, the release name, Phoenix and the generated Dockerfile."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

MIX = """defmodule Shop.MixProject do
  use Mix.Project

  def project do
    [app: :shop, version: "0.1.0", elixir: "{elixir}", deps: deps(), aliases: aliases()]
  end

  defp deps, do: [{deps}]
  defp aliases, do: [{aliases}]
end
"""




def mix(elixir: str = "~> 1.15", deps: str = '{:jason, "~> 1.4"}', aliases: str = "") -> str:
    return MIX.replace("{elixir}", elixir).replace("{deps}", deps).replace("{aliases}", aliases)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".tool-versions": "erlang 27.2\nelixir 1.16.3-otp-26\n"}, "1.16.3"),
        ({".tool-versions": "elixir 1.18.1\n", "mise.toml": '[tools]\nelixir = "1.15"\n'}, "1.18.1"),
        ({"mise.toml": '[tools]\nelixir = "1.15"\n'}, "1.15"),
        ({".elixir-version": "1.16.2\n"}, "1.16.2"),
        ({}, "1.17"),  # ~> 1.15 is satisfied by the default
    ],
)
def test_elixir_version_pins(tmp_path, files, expected):
    plan = make_plan(write(tmp_path, {"mix.exs": mix(), **files}))
    assert plan.versions == {"elixir": expected}
    assert plan.recipe.build_image == f"elixir:{expected}"


@pytest.mark.parametrize(
    ("requirement", "expected"), [("~> 1.18", "1.18"), (">= 1.14.0", "1.17"), ("~> 1.14.2", "1.14")]
)
def test_mix_requirement_ranges(tmp_path, requirement, expected):
    assert make_plan(write(tmp_path, {"mix.exs": mix(requirement)})).versions == {"elixir": expected}


def test_plain_mix_app_builds_a_release(tmp_path):
    plan = make_plan(write(tmp_path, {"mix.exs": mix(), "mix.lock": "%{}\n"}))
    assert (plan.package_manager, plan.framework) == ("mix", None)
    assert plan.build_command == "mix release"
    assert plan.start_command == "/app/bin/shop start"
    assert plan.recipe.cmd == ["/app/bin/shop", "start"]
    assert plan.recipe.artifacts == [("/app/_build/prod/rel/shop", "/app")]


def test_phoenix_sets_phx_server_and_deploys_assets(tmp_path):
    write(tmp_path, {"mix.exs": mix(deps='{:phoenix, "~> 1.7"}', aliases='"assets.deploy": ["phx.digest"]'),
                     "config/config.exs": "", "config/prod.exs": "", "config/runtime.exs": ""})
    plan = make_plan(tmp_path)
    assert plan.framework == "phoenix"
    assert plan.build_command == "mix assets.deploy && mix release"
    assert plan.recipe.runtime_env["PHX_SERVER"] == "true"
    assert plan.recipe.install_files == ["mix.exs", "config/config.exs", "config/prod.exs"]


def test_release_name_falls_back_to_the_directory(tmp_path):
    app = tmp_path / "my-api"
    write(app, {"mix.exs": "defmodule X.MixProject do\nend\n"})
    assert make_plan(app).start_command == "/app/bin/my_api start"


def test_elixir_wins_over_package_json(tmp_path):
    write(tmp_path, {"mix.exs": mix(), "package.json": "{}"})
    assert make_plan(tmp_path).language == "elixir"


def test_dockerfile_runs_the_release_on_debian_without_elixir(tmp_path):
    write(tmp_path, {"mix.exs": mix(), "mix.lock": "%{}\n"})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    steps = ["mix local.hex --force", "COPY mix.exs mix.lock ./", "mix deps.get --only prod", "COPY . .", "mix release"]
    assert [build.index(step) for step in steps] == sorted(build.index(step) for step in steps)
    assert "ENV MIX_ENV=prod" in build and "--mount=type=cache,target=/root/.hex/packages" in build
    assert runtime.startswith("debian:bookworm-slim\n")
    assert "openssl" in runtime and "mix" not in runtime.replace("# hadolint", "")
    assert "COPY --from=build --chown=10001:10001 /app/_build/prod/rel/shop /app" in runtime


def test_phoenix_without_an_assets_alias_digests_priv_static(tmp_path):
    write(tmp_path, {"mix.exs": mix(deps='{:phoenix, "~> 1.6"}'), "priv/static/robots.txt": ""})
    assert make_plan(tmp_path).build_command == "mix phx.digest && mix release"


def test_phoenix_assets_npm_packages_install_in_a_node_stage(tmp_path):
    write(tmp_path, {"mix.exs": mix(deps='{:phoenix, "~> 1.7"}', aliases='"assets.deploy": ["esbuild default"]'),
                     "assets/package.json": '{"dependencies": {"topbar": "^2.0"}}',
                     "assets/package-lock.json": "{}"})
    plan = make_plan(tmp_path)
    frontend, build, _ = render(plan).dockerfile.split("\n\nFROM ")
    assert "COPY assets/package.json assets/package-lock.json assets/" in frontend
    assert "cd assets && npm ci" in frontend
    copy = build.index("COPY --from=frontend /app/assets/node_modules assets/node_modules")
    assert copy < build.index("mix assets.deploy")


def test_assets_packages_from_deps_install_in_the_build_stage(tmp_path):
    package = {"dependencies": {"phoenix": "file:../deps/phoenix", "phoenix_html": "file:../deps/phoenix_html",
                                "topbar": "^2.0"}}
    write(tmp_path, {"mix.exs": mix(deps='{:phoenix, "~> 1.7"}', aliases='"assets.deploy": ["esbuild default"]'),
                     "assets/package.json": package, "assets/package-lock.json": "{}"})
    plan = make_plan(tmp_path)
    assert plan.recipe.frontend is None  # deps/ exists only after mix deps.get in the build stage
    build = render(plan).dockerfile.split("\n\nFROM ")[0]
    assert "apt-get install -y --no-install-recommends nodejs npm" in build
    assert build.index("mix deps.get") < build.index("npm ci --prefix assets") < build.index("mix assets.deploy")


def test_phoenix_before_1_6_runs_the_npm_deploy_script_then_the_digest(tmp_path):
    package = {"scripts": {"deploy": "webpack --mode production", "watch": "webpack --watch"},
               "dependencies": {"phoenix": "file:../deps/phoenix"}, "devDependencies": {"webpack": "^4.41"}}
    write(tmp_path, {"mix.exs": mix(deps='{:phoenix, "~> 1.5.7"}'), "assets/package.json": package,
                     "assets/package-lock.json": "{}"})
    plan = make_plan(tmp_path)
    assert plan.build_command == ("npm ci --prefix assets && npm run deploy --prefix assets && mix phx.digest "
                                  "&& mix release")
