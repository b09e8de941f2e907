"""Ruby: Bundler installs on the full ruby image (native gems compile there); the app runs on -slim."""

from __future__ import annotations

import re

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._buildpacks import Framework
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

BUNDLE_PATH = "/usr/local/bundle"
RACK_START = "bundle exec rackup -o 0.0.0.0 -p $PORT"
_GEM = re.compile(r"""^\s*gem\s+["']([^"']+)["']""", re.MULTILINE)
_LOCKED = re.compile(r"^    ([A-Za-z0-9_.-]+) \(", re.MULTILINE)
# Gems whose native extensions link against libraries the -slim runtime image lacks.
RUNTIME_PACKAGES: dict[str, list[str]] = {"pg": ["libpq5"], "mysql2": ["libmariadb3"]}


def plan(ctx: Context) -> Plan:
    src = ctx.src
    pm = ctx.pack.package_manager("bundler")
    locked = src.exists("Gemfile.lock")
    ctx.reasons.append("dependencies: Gemfile.lock found" if locked else "dependencies: no Gemfile.lock (unlocked)")
    gems = dependencies(src)
    framework = ctx.framework(gems, "the {hit} gem")
    version = ctx.version("ruby")
    bundle_env = {"BUNDLE_PATH": BUNDLE_PATH, "BUNDLE_WITHOUT": "development:test"}
    if locked:
        bundle_env = {"BUNDLE_DEPLOYMENT": "1", **bundle_env}
    install = pm.install if src.exists("Gemfile") else None
    build = _build(ctx, framework, gems, src)
    start = _start(ctx, framework, src)
    runtime_env = {**bundle_env, **(framework.env if framework else {})}
    recipe = Recipe(
        build_image=ctx.image("build", ruby=version), runtime_image=ctx.image("runtime", ruby=version),
        workdir="/app", build_env={**runtime_env, "BUNDLE_GLOBAL_GEM_CACHE": "1"},
        install_files=[f for f in ("Gemfile", "Gemfile.lock", ".ruby-version") if src.exists(f)],
        install=[install] if install else [], caches=[str(pm.cache)], build=[build] if build else [],
        artifacts=[(BUNDLE_PATH, BUNDLE_PATH), ("/app", "/app")], runtime_env=runtime_env,
        runtime_packages=_runtime_packages(ctx, gems), create_user=True, user="app", cmd=exec_form(start),
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="ruby", package_manager="bundler", framework=framework.id if framework else None,
                    install_command=install, build_command=build, start_command=start, recipe=recipe)


def dependencies(src: Source) -> set[str]:
    """Gems named in the Gemfile and resolved in Gemfile.lock."""
    return set(_GEM.findall(src.text("Gemfile") or "")) | set(_LOCKED.findall(src.text("Gemfile.lock") or ""))



def _build(ctx: Context, framework: Framework | None, gems: set[str], src: Source) -> str | None:
    if not framework or framework.id != "rails":
        return None
    steps = {}
    if "bootsnap" in gems:
        steps["bootsnap precompile"] = "bundle exec bootsnap precompile app/ lib/"
    if gems & {"sprockets-rails", "propshaft"}:
        steps["assets:precompile"] = "SECRET_KEY_BASE_DUMMY=1 bin/rails assets:precompile"
    if steps:
        ctx.reasons.append(f"build: {' and '.join(steps)} (Rails)")
    return " && ".join(steps.values()) or None


def _start(ctx: Context, framework: Framework | None, src: Source) -> str:
    if framework and framework.id == "rails":
        ctx.reasons.append("start: the Rails server on $PORT (set SECRET_KEY_BASE or RAILS_MASTER_KEY at run time)")
        return str(framework.start)
    if src.exists("config.ru"):
        ctx.reasons.append("start: rackup serving config.ru")
        return RACK_START
    entry = src.first(ctx.pack.entry_files)
    if entry and framework and framework.start:
        ctx.reasons.append(f"start: {entry} (Sinatra's built-in server on $PORT)")
        return framework.start.format(entry=entry)
    if entry:
        ctx.reasons.append(f"start: {entry} found")
        return f"bundle exec ruby {entry}"
    raise UsageError(
        "could not find how to start this Ruby app: add a config.ru or app.rb, a Procfile with a web: line, "
        "or a Dockerfile"
    )


def _runtime_packages(ctx: Context, gems: set[str]) -> list[str]:
    packages: list[str] = []
    for gem, needs in RUNTIME_PACKAGES.items():
        if gem in gems:
            ctx.reasons.append(f"runtime packages {', '.join(needs)}: the {gem} gem links against them")
            packages += needs
    return packages
