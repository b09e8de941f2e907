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
    assert any("package.json also present" in r for r in plan.reasons)  # no Rails front end is built from it


def test_dockerfile_installs_gems_on_the_full_image_and_runs_on_slim(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "rack"\n', "Gemfile.lock": lock("rack"), "config.ru": "run App\n"})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    assert build.startswith("# Generated") and "FROM ruby:3.3 AS build" in build
    assert build.index("COPY Gemfile Gemfile.lock ./") < build.index("bundle install") < build.index("COPY . .")
    assert "--mount=type=cache,target=/root/.bundle/cache" in build and "BUNDLE_GLOBAL_GEM_CACHE=1" in build
    assert runtime.startswith("ruby:3.3-slim\n")
    assert "COPY --from=build --chown=10001:10001 /usr/local/bundle /usr/local/bundle" in runtime
    assert "BUNDLE_GLOBAL_GEM_CACHE" not in runtime


RAILS_LOCK = lock("rails", "railties", "sprockets-rails", "jsbundling-rails", "cssbundling-rails", "pg")


def rails_files(**extra: object) -> dict:
    return {"Gemfile": 'gem "rails"\n', "Gemfile.lock": RAILS_LOCK, "config.ru": "run Rails.application\n",
            "bin/rails": "", **extra}


def test_rails_front_end_builds_in_a_node_stage_before_precompile(tmp_path):
    package = {"scripts": {"build": "esbuild app/javascript/*.* --outdir=app/assets/builds",
                           "build:css": "sass ./app/assets/stylesheets/application.scss:./app/assets/builds/a.css",
                           "build:dev": "esbuild --watch"},
               "dependencies": {"esbuild": "^0.24"}}
    write(tmp_path, rails_files(**{"package.json": package, "yarn.lock": ""}))
    plan = make_plan(tmp_path)
    text = render(plan).dockerfile
    frontend, build, runtime = text.split("\n\nFROM ")
    assert "FROM node:22-slim AS frontend" in frontend
    assert frontend.index("yarn install --frozen-lockfile") < frontend.index("yarn run build && yarn run build:css")
    assert "build:dev" not in frontend
    copy = build.index("COPY --from=frontend /app/app/assets/builds app/assets/builds")
    assert build.index("COPY . .") < copy < build.index("assets:precompile")
    assert "SKIP_JS_BUILD=1 SKIP_CSS_BUILD=1" in build  # the gems must not look for Node.js again
    assert "frontend" not in runtime and "node" not in runtime


def test_precompile_secret_is_a_throwaway_on_that_step_only(tmp_path):
    write(tmp_path, rails_files())
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    assert "SECRET_KEY_BASE_DUMMY=1 SECRET_KEY_BASE=assets-precompile-placeholder bin/rails assets:precompile" in build
    assert "SECRET_KEY_BASE" not in runtime


def test_rails_without_bin_rails_uses_bundle_exec(tmp_path):
    files = rails_files()
    del files["bin/rails"]
    plan = make_plan(write(tmp_path, files))
    assert plan.start_command.startswith("bundle exec rails server")
    assert plan.build_command.endswith("bundle exec rails assets:precompile")


def test_bundle_config_is_copied_before_bundle_install(tmp_path):
    write(tmp_path, {"Gemfile": 'gem "rack"\n', "Gemfile.lock": lock("rack"), "config.ru": "run App\n",
                     ".bundle/config": '---\nBUNDLE_BUILD__SASSC: "--disable-march-tune-native"\n'})
    rendered = render(make_plan(tmp_path))
    build = rendered.dockerfile.split("\n\nFROM ")[0]
    assert build.index("COPY .bundle/config .bundle/") < build.index("bundle install")
    ignore = rendered.dockerignore.splitlines()
    assert ".bundle" not in ignore and ".bundle/*" in ignore and "!.bundle/config" in ignore


@pytest.mark.parametrize(("rails", "expected"), [("6.1.7", "3.0"), ("7.0.8", "3.2"), ("7.2.2", "3.3"),
                                                 ("8.0.1", "3.3")])
def test_without_a_pin_ruby_follows_the_locked_rails(tmp_path, rails, expected):
    lock_text = RAILS_LOCK.replace("    rails (1.0.0)", f"    rails ({rails})")
    write(tmp_path, rails_files(**{"Gemfile.lock": lock_text}))
    plan = make_plan(tmp_path)
    assert plan.versions["ruby"] == expected
    assert plan.recipe.build_image == f"ruby:{expected}"


def test_build_packages_stay_in_the_build_stage(tmp_path):
    write(tmp_path, rails_files())
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    assert "FROM ruby:3.3 AS build" in build  # the full image: compilers, libpq-dev, libyaml-dev
    assert runtime.startswith("ruby:3.3-slim\n") and "libpq5" in runtime
    assert not any(dev in runtime for dev in ("build-essential", "libpq-dev", "libyaml-dev"))


def test_a_lockfile_made_on_a_mac_gets_the_linux_platform_before_the_install(tmp_path):
    mac_lock = lock("rack").replace("PLATFORMS\n  ruby", "PLATFORMS\n  arm64-darwin-23")
    write(tmp_path, {"Gemfile": 'gem "rack"\n', "Gemfile.lock": mac_lock, "config.ru": "run App\n"})
    plan = make_plan(tmp_path)
    assert plan.install_command == "bundle lock --add-platform x86_64-linux && bundle install"
    assert "BUNDLE_DEPLOYMENT" not in plan.recipe.build_env  # frozen mode refuses to change the lock


@pytest.mark.parametrize("platforms", ["ruby", "x86_64-linux", "arm64-darwin-23\n  x86_64-linux-gnu"])
def test_a_lockfile_with_a_usable_platform_installs_frozen(tmp_path, platforms):
    text = lock("rack").replace("PLATFORMS\n  ruby", f"PLATFORMS\n  {platforms}")
    write(tmp_path, {"Gemfile": 'gem "rack"\n', "Gemfile.lock": text, "config.ru": "run App\n"})
    plan = make_plan(tmp_path)
    assert plan.install_command == "bundle install" and plan.recipe.build_env["BUNDLE_DEPLOYMENT"] == "1"
