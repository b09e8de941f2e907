"""Ruby: version pins, Bundler, Rails / Sinatra / Rack start commands and the generated Dockerfile."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.errors import UsageError
from unkey_deploy.plan import make_plan

LOCK = "GEM\n  remote: https://rubygems.org/\n  specs:\n{specs}\nPLATFORMS\n  ruby\n{ruby}"




def lock(*gems: str, ruby: str = "") -> str:
    specs = "\n".join(f"    {gem} (1.0.0)" for gem in gems)
    return LOCK.format(specs=specs, ruby=f"\nRUBY VERSION\n   ruby {ruby}p0\n" if ruby else "")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # Bundler refuses any other Ruby than an exact Gemfile pin.
        ({".ruby-version": "3.2.4\n", "Gemfile": 'ruby "3.1.6"\n'}, "3.1.6"),
        ({".ruby-version": "3.2.4\n", "Gemfile.lock": lock("rack", ruby="3.3.8")}, "3.3.8"),
        ({".ruby-version": "ruby-3.4.1\n"}, "3.4.1"),
        ({"Gemfile": 'ruby "3.1.6"\n', "Gemfile.lock": lock("rack", ruby="3.2.1")}, "3.1.6"),
        ({"Gemfile": "ruby '~> 3.1'\n"}, "3.3"),
        ({"Gemfile": 'ruby ">= 3.4"\n'}, "3.4"),
        ({"Gemfile": 'ruby file: ".ruby-version"\n', "Gemfile.lock": lock("rack", ruby="3.2.1")}, "3.2.1"),
        ({".tool-versions": "ruby 3.1.4\n"}, "3.1.4"),
        ({"mise.toml": '[tools]\nruby = "3.2"\n'}, "3.2"),
        ({}, "3.3"),
    ],
)
def test_ruby_version_pins(tmp_path, files, expected):
    write(tmp_path, {"Gemfile": 'gem "rack"\n', "config.ru": "run App\n", **files})
    plan = make_plan(tmp_path)
    assert plan.versions == {"ruby": expected}
    assert (plan.recipe.build_image, plan.recipe.runtime_image) == (f"ruby:{expected}", f"ruby:{expected}-slim")


def test_rails(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "rails"\ngem "pg"\n', "Gemfile.lock": lock("rails", "pg", "bootsnap", "propshaft"),
                     "config.ru": "run Rails.application\n", "bin/rails": ""})
    plan = make_plan(tmp_path)
    assert (plan.package_manager, plan.framework) == ("bundler", "rails")
    assert plan.start_command == "bin/rails server -b 0.0.0.0 -p $PORT"
    assert plan.build_command == ("bundle exec bootsnap precompile app/ lib/ && "
                                  "SECRET_KEY_BASE_DUMMY=1 SECRET_KEY_BASE=assets-precompile-placeholder "
                                  "bin/rails assets:precompile")
    assert plan.recipe.runtime_env["RAILS_ENV"] == "production"
    assert plan.recipe.runtime_env["BUNDLE_DEPLOYMENT"] == "1"
    assert plan.recipe.runtime_packages == ["libpq5"]


def test_rails_without_asset_pipeline_has_no_build(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "rails"\n', "Gemfile.lock": lock("railties")})
    plan = make_plan(tmp_path)
    assert plan.framework == "rails" and plan.build_command is None


def test_sinatra_with_config_ru_uses_rackup(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "sinatra"\n', "config.ru": "run Sinatra::Application\n", "app.rb": ""})
    plan = make_plan(tmp_path)
    assert plan.framework == "sinatra"
    assert plan.start_command == "bundle exec rackup -o 0.0.0.0 -p $PORT"


def test_classic_sinatra_runs_its_file(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "sinatra"\n', "server.rb": "get('/') { 'hi' }\n"})
    plan = make_plan(tmp_path)
    assert plan.start_command == "bundle exec ruby server.rb -o 0.0.0.0 -p $PORT"
    assert plan.recipe.cmd == ["sh", "-c", "exec bundle exec ruby server.rb -o 0.0.0.0 -p $PORT"]


def test_unlocked_install_is_not_in_deployment_mode(tmp_path):
    plan = make_plan(write(tmp_path, {"Gemfile": 'gem "rack"\n', "config.ru": "run App\n"}))
    assert "BUNDLE_DEPLOYMENT" not in plan.recipe.build_env
    assert plan.recipe.install_files == ["Gemfile"]


def test_no_entry_point_is_a_usage_error(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "rack"\n'})
    with pytest.raises(UsageError, match="add a config.ru or app.rb"):
        make_plan(tmp_path)


def test_ruby_wins_over_package_json(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "rails"\n', "package.json": '{"dependencies": {"esbuild": "0.24"}}'})
    plan = make_plan(tmp_path)
    assert plan.language == "ruby"
    assert any("package.json also present" in r for r in plan.reasons)


def test_dockerfile_installs_gems_on_the_full_image_and_runs_on_slim(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "rack"\n', "Gemfile.lock": lock("rack"), "config.ru": "run App\n"})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    assert build.startswith("# Generated") and "FROM ruby:3.3 AS build" in build
    assert build.index("COPY Gemfile Gemfile.lock ./") < build.index("bundle install") < build.index("COPY . .")
    assert "--mount=type=cache,target=/root/.bundle/cache" in build and "BUNDLE_GLOBAL_GEM_CACHE=1" in build
    assert runtime.startswith("ruby:3.3-slim\n")
    assert "COPY --from=build --chown=10001:10001 /usr/local/bundle /usr/local/bundle" in runtime
    assert "BUNDLE_GLOBAL_GEM_CACHE" not in runtime
