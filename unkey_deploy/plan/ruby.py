"""Ruby: Bundler installs on the full ruby image (native gems compile there); the app runs on -slim.

Rails apps precompile their assets at build time, after their front end (package.json) is built in a
Node.js stage; without a pinned Ruby, the version follows what the locked Rails supports.
"""

from __future__ import annotations

import re

from unkey_deploy.errors import UsageError
from unkey_deploy.plan._buildpacks import Framework
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._frontend import frontend_stage
from unkey_deploy.plan._model import FrontendStage, Plan, Recipe
from unkey_deploy.plan._source import Source
from unkey_deploy.plan._versions import pick, read_source, version_key

BUNDLE_PATH = "/usr/local/bundle"
_GEM = re.compile(r"""^\s*gem\s+["']([^"']+)["']""", re.MULTILINE)
_LOCKED = re.compile(r"^    ([A-Za-z0-9_.-]+) \(", re.MULTILINE)
_LOCKED_RAILS = re.compile(r"^    (?:rails|railties) \((\d+)\.(\d+)", re.MULTILINE)


def plan(ctx: Context) -> Plan:
    src = ctx.src
    pm = ctx.pack.package_manager("bundler")
    locked = src.exists("Gemfile.lock")
    ctx.reasons.append("dependencies: Gemfile.lock found" if locked else "dependencies: no Gemfile.lock (unlocked)")
    gems = dependencies(src)
    framework = ctx.framework(gems, "the {hit} gem")
    version = ruby_version(ctx, src, framework)
    bundle_env = {"BUNDLE_PATH": BUNDLE_PATH, "BUNDLE_WITHOUT": "development:test"}
    add_platform = _missing_platform(ctx, src) if locked else None
    if locked and not add_platform:
        bundle_env = {"BUNDLE_DEPLOYMENT": "1", **bundle_env}
    install = pm.install if src.exists("Gemfile") else None
    if install and add_platform:
        install = f"bundle lock --add-platform {add_platform} && {install}"
    frontend = _frontend(ctx, framework, src)
    build = _build(ctx, framework, gems, src, frontend)
    start = _start(ctx, framework, src)
    runtime_env = {**bundle_env, **(framework.env if framework else {})}
    recipe = Recipe(
        build_image=ctx.image("build", ruby=version), runtime_image=ctx.image("runtime", ruby=version),
        workdir="/app", build_env={**runtime_env, "BUNDLE_GLOBAL_GEM_CACHE": "1"},
        install_files=[f for f in ctx.pack.data.get("install_files") or () if src.exists(f)],
        install=[install] if install else [], caches=[str(pm.cache)], build=[build] if build else [],
        artifacts=[(BUNDLE_PATH, BUNDLE_PATH), ("/app", "/app")], runtime_env=runtime_env,
        runtime_packages=_runtime_packages(ctx, gems), create_user=True, user="app", cmd=exec_form(start),
        dockerignore=list(ctx.pack.dockerignore), frontend=frontend,
    )
    return ctx.plan(language="ruby", package_manager="bundler", framework=framework.id if framework else None,
                    install_command=install, build_command=build, start_command=start, recipe=recipe)


def _missing_platform(ctx: Context, src: Source) -> str | None:
    """The image's platform, when Gemfile.lock lists neither it nor `ruby` (a lockfile made on a Mac):
    the install then adds it to the lock first, outside Bundler's frozen deployment mode."""
    section = re.search(r"^PLATFORMS\n((?:  \S.*\n?)+)", src.text("Gemfile.lock") or "", re.MULTILINE)
    if not section:
        return None
    listed = {line.strip() for line in section.group(1).splitlines()}
    image = [str(p) for p in ctx.pack.data.get("image_platforms") or ("x86_64-linux",)]
    if listed & {"ruby", *image} or any(p.startswith(tuple(image)) for p in listed):
        return None
    ctx.reasons.append(f"Gemfile.lock lists only {', '.join(sorted(listed))}: {image[0]} is added to it before "
                       "the install (commit `bundle lock --add-platform x86_64-linux` to keep it frozen)")
    return image[0]


def dependencies(src: Source) -> set[str]:
    """Gems named in the Gemfile and resolved in Gemfile.lock."""
    return set(_GEM.findall(src.text("Gemfile") or "")) | set(_LOCKED.findall(src.text("Gemfile.lock") or ""))



def ruby_version(ctx: Context, src: Source, framework: Framework | None) -> str:
    """A pinned Ruby; else the default, or the newest Ruby the locked Rails supports when that is older."""
    rule = ctx.pack.versions["ruby"]
    locked = _LOCKED_RAILS.search(src.text("Gemfile.lock") or "")
    table: dict[str, str] = {str(k): str(v) for k, v in (ctx.pack.data.get("rails_ruby") or {}).items()}
    newest = table.get(f"{locked.group(1)}.{locked.group(2)}") if locked and framework else None
    if newest is None or any(read_source(src, source) for source in rule.sources):
        return ctx.version("ruby")
    rails = f"{locked.group(1)}.{locked.group(2)}" if locked else ""
    version = pick(f"<={newest}", rule) if version_key(rule.default) > version_key(newest) else rule.default
    version = version if version_key(version) <= version_key(newest) else newest
    ctx.versions["ruby"] = version
    ctx.reasons.append(f"ruby {version}: no Ruby pinned, the newest that Rails {rails} (Gemfile.lock) supports "
                       f"(pin it in Gemfile.lock or .ruby-version)")
    return version


def _frontend(ctx: Context, framework: Framework | None, src: Source) -> FrontendStage | None:
    spec = framework.data.get("frontend") if framework else None
    if not spec or not src.exists("package.json"):
        return None
    stage = frontend_stage(ctx, scripts=spec.get("scripts") or ["build"], outputs=spec.get("outputs") or [],
                           into="build")
    if stage is None:
        ctx.reasons.append("package.json has no build script: the front end is not built separately")
    return stage


def _build(ctx: Context, framework: Framework | None, gems: set[str], src: Source,
           frontend: FrontendStage | None) -> str | None:
    if not framework or framework.id != "rails":
        return None
    steps = {}
    if "bootsnap" in gems:
        steps["bootsnap precompile"] = "bundle exec bootsnap precompile app/ lib/"
    if framework.build and gems & set(framework.data.get("precompile_gems") or ()):
        command = framework.build
        if not src.exists("bin/rails"):
            command = command.replace("bin/rails", "bundle exec rails")
        skip = (framework.data.get("frontend") or {}).get("skip_env") or {} if frontend else {}
        prefix = "".join(f"{key}={value} " for key, value in skip.items())
        steps["assets:precompile"] = prefix + command
    if steps:
        ctx.reasons.append(f"build: {' and '.join(steps)} (Rails; a throwaway secret key for this step only)"
                           if "assets:precompile" in steps else f"build: {' and '.join(steps)} (Rails)")
    return " && ".join(steps.values()) or None


def _start(ctx: Context, framework: Framework | None, src: Source) -> str:
    if framework and framework.id == "rails":
        ctx.reasons.append("start: the Rails server on $PORT (set SECRET_KEY_BASE or RAILS_MASTER_KEY at run time)")
        start = str(framework.start)
        return start if src.exists("bin/rails") else start.replace("bin/rails", "bundle exec rails")
    if src.exists("config.ru"):
        ctx.reasons.append("start: rackup serving config.ru")
        return str(ctx.pack.data.get("rack_start") or "bundle exec rackup -o 0.0.0.0 -p $PORT")
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
    table: dict[str, list[str]] = ctx.pack.data.get("runtime_packages") or {}
    for gem, needs in table.items():
        if gem in gems and needs:
            ctx.reasons.append(f"runtime packages {', '.join(needs)}: the {gem} gem links against them")
            packages += [p for p in needs if p not in packages]
    return packages
