"""PHP: version pins, Composer, Laravel and the built-in server, extension checks, the Dockerfile."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.errors import UsageError
from unkey_deploy.plan import make_plan


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".php-version": "8.1\n", "composer.json": {"require": {"php": "^8.3"}}}, "8.1"),
        ({"composer.json": {"require": {"php": "^8.3"}, "config": {"platform": {"php": "8.2.27"}}}}, "8.2.27"),
        ({"composer.json": {"require": {"php": ">=8.1"}}}, "8.3"),
        ({"composer.json": {"require": {"php": "~8.4.0"}}}, "8.4"),
        ({"composer.json": {"require": {"php": "^8.1 || ^8.2"}}}, "8.3"),
        ({"composer.json": {}, ".tool-versions": "php 8.2.12\n"}, "8.2.12"),
        ({"composer.json": {}}, "8.3"),
    ],
)
def test_php_version_pins(tmp_path, files, expected):
    write(tmp_path, {"index.php": "<?php echo 'hi';\n", **files})
    plan = make_plan(tmp_path)
    assert plan.versions == {"php": expected}
    assert plan.recipe.runtime_image == f"php:{expected}-cli"


def test_laravel_serves_with_artisan(tmp_path):
    write(tmp_path, {"composer.json": {"require": {"laravel/framework": "^11.0"}}, "composer.lock": "{}",
                     "artisan": "", "public/index.php": ""})
    plan = make_plan(tmp_path)
    assert (plan.package_manager, plan.framework) == ("composer", "laravel")
    assert plan.start_command == "php artisan serve --host=0.0.0.0 --port=$PORT"
    assert plan.recipe.cmd == ["sh", "-c", "exec php artisan serve --host=0.0.0.0 --port=$PORT"]
    assert plan.recipe.runtime_env["APP_ENV"] == "production"
    assert plan.recipe.install_files == ["composer.json", "composer.lock"]


def test_front_controller_in_public_is_the_document_root(tmp_path):
    plan = make_plan(write(tmp_path, {"composer.json": {}, "public/index.php": "", "index.php": ""}))
    assert plan.start_command == "php -S 0.0.0.0:$PORT -t public"


def test_plain_php_without_composer_is_one_stage(tmp_path):
    plan = make_plan(write(tmp_path, {"index.php": "<?php echo 'hi';\n"}))
    assert plan.package_manager is None and plan.install_command is None
    assert plan.recipe.build_image is None
    assert plan.start_command == "php -S 0.0.0.0:$PORT -t ."
    text = render(plan).dockerfile
    assert text.count("FROM ") == 1 and "ARG UNKEY_SECRETS_ID" not in text


def test_missing_extensions_are_named(tmp_path):
    write(tmp_path, {"composer.json": {"require": {"ext-intl": "*", "ext-mbstring": "*", "ext-gd": "*"}},
                     "index.php": ""})
    reasons = make_plan(tmp_path).reasons
    assert any("requires ext-gd, ext-intl, not in php:8.3-cli" in r for r in reasons)


def test_no_entry_point_is_a_usage_error(tmp_path):
    write(tmp_path, {"composer.json": {"require": {"monolog/monolog": "^3"}}})
    with pytest.raises(UsageError, match="add public/index.php or index.php"):
        make_plan(tmp_path)


def test_php_wins_over_package_json(tmp_path):
    write(tmp_path, {"composer.json": {}, "index.php": "", "package.json": {"scripts": {"build": "vite build"}}})
    plan = make_plan(tmp_path)
    assert plan.language == "php"
    assert plan.recipe.frontend is not None and plan.recipe.frontend.build == ["npm run build"]


def test_dockerfile_installs_vendor_in_composer_image(tmp_path):
    write(tmp_path, {"composer.json": {"require": {"slim/slim": "^4"}}, "composer.lock": "{}", "index.php": ""})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    assert "FROM composer:2 AS build" in build
    steps = ["COPY composer.json composer.lock ./", "composer install", "COPY . .", "composer dump-autoload"]
    assert [build.index(step) for step in steps] == sorted(build.index(step) for step in steps)
    assert "--mount=type=cache,target=/root/.cache/composer" in build
    assert runtime.startswith("php:8.3-cli\n")
    assert "composer" not in runtime.lower()
    assert "COPY --from=build --chown=10001:10001 /app /app" in runtime


LARAVEL = {"composer.json": {"require": {"php": "^8.2", "laravel/framework": "^11.0"}}, "composer.lock": "{}",
           "artisan": "", "public/index.php": ""}


def test_laravel_vite_front_end_builds_in_a_node_stage_and_ships_public_build(tmp_path):
    package = {"scripts": {"dev": "vite", "build": "vite build"},
               "devDependencies": {"laravel-vite-plugin": "^1.0", "vite": "^5.0"}}
    write(tmp_path, {**LARAVEL, "package.json": package, "package-lock.json": "{}"})
    plan = make_plan(tmp_path)
    frontend, build, runtime = render(plan).dockerfile.split("\n\nFROM ")
    assert "FROM node:22-slim AS frontend" in frontend
    assert frontend.index("COPY package.json package-lock.json ./") < frontend.index("npm ci")
    assert frontend.index("npm ci") < frontend.index("COPY . .") < frontend.index("npm run build")
    assert "vite build" not in build and "npm" not in build
    assert "COPY --from=frontend --chown=10001:10001 /app/public/build /app/public/build" in runtime
    assert "composer install --no-dev" in build and "dump-autoload --optimize --no-dev" in build


def test_laravel_mix_ships_all_of_public(tmp_path):
    package = {"scripts": {"development": "mix", "production": "mix --production"},
               "devDependencies": {"laravel-mix": "^6.0"}}
    write(tmp_path, {**LARAVEL, "package.json": package, "yarn.lock": ""})
    runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")[-1]
    assert "COPY --from=frontend --chown=10001:10001 /app/public /app/public" in runtime
    assert "yarn run production" in render(make_plan(tmp_path)).dockerfile


def test_package_json_without_a_build_script_builds_no_front_end(tmp_path):
    write(tmp_path, {**LARAVEL, "package.json": {"devDependencies": {"axios": "^1"}}})
    plan = make_plan(tmp_path)
    assert plan.recipe.frontend is None and "frontend" not in render(plan).dockerfile
