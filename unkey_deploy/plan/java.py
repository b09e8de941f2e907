"""Java: Maven and Gradle builds; Spring Boot jars and Gradle `application` distributions on a JRE."""

from __future__ import annotations

import re

from unkey_deploy.plan._buildpacks import Framework, PackageManager
from unkey_deploy.plan._commands import exec_form
from unkey_deploy.plan._engine import Context
from unkey_deploy.plan._model import Plan, Recipe
from unkey_deploy.plan._source import Source

JAR = "/app/app.jar"
_MODULE = re.compile(r"<module>\s*([^<\s]+)\s*</module>")
_ROOT_PROJECT = re.compile(r"""rootProject\.name\s*=\s*["']([^"']+)["']""")
# `id 'application'`, `apply plugin: 'application'`, or Kotlin's bare `application` in plugins { }.
_APPLICATION_PLUGIN = re.compile(
    r"""id\s*\(?\s*["']application["']|plugin:\s*["']application["']|^\s*application\s*$""", re.MULTILINE
)


def plan(ctx: Context) -> Plan:
    src = ctx.src
    pm = package_manager(ctx, src)
    build_text = "\n".join(src.text(name) or "" for name in pm.lockfiles)
    framework = ctx.framework(build_text, "the build uses {hit}")
    version = ctx.version("java")
    runner = _runner(ctx, src, pm)
    install = runner + pm.install.removeprefix(pm.install.split()[0])
    build, artifacts, start = _build(ctx, src, pm, runner, framework, build_text)
    recipe = Recipe(
        build_image=ctx.image("jdk" if runner.startswith("./") else pm.name, java=version),
        runtime_image=ctx.image("runtime", java=version), workdir="/app",
        build_env={"GRADLE_USER_HOME": str(pm.cache)} if pm.name == "gradle" else {},
        install_files=_install_files(src, pm), install=[install], caches=[str(pm.cache)],
        build=[f"{build} && mkdir -p /out && cp {pm.extra['jar']} /out/app.jar" if artifacts[0][1] == JAR else build],
        artifacts=artifacts, runtime_env=dict(ctx.pack.data.get("runtime_env") or {}), create_user=True, user="app",
        cmd=exec_form(start),
        dockerignore=list(ctx.pack.dockerignore),
    )
    return ctx.plan(language="java", package_manager=pm.name, framework=framework.id if framework else None,
                    install_command=install, build_command=build, start_command=start, recipe=recipe)


def package_manager(ctx: Context, src: Source) -> PackageManager:
    found = ctx.pack.find_package_manager(src)
    if not found:
        raise AssertionError("detection guarantees a Maven or Gradle build file")
    pm, manifest = found
    ctx.reasons.append(f"build tool {pm.name}: {manifest} found")
    return pm



def _runner(ctx: Context, src: Source, pm: PackageManager) -> str:
    wrapper = pm.extra.get("wrapper")
    if wrapper and src.exists(wrapper.removeprefix("./")):
        ctx.reasons.append(f"{wrapper} found: it pins the {pm.name.title()} version and runs on a plain JDK image")
        return wrapper
    return pm.install.split()[0]


def _build(ctx: Context, src: Source, pm: PackageManager, runner: str, framework: Framework | None,
           build_text: str) -> tuple[str, list[tuple[str, str]], str]:
    """(build command, artifacts copied to the runtime stage, start command)."""
    base = runner + pm.extra["build"].removeprefix(pm.extra["build"].split()[0])
    jar = [("/out/app.jar", JAR)]
    if framework:
        task = "" if pm.name == "maven" else " bootJar"
        ctx.reasons.append("start: the Spring Boot jar, server.port from $PORT")
        return base + task, jar, str(framework.start)
    if pm.name == "gradle" and _APPLICATION_PLUGIN.search(build_text):
        name = _gradle_project_name(src)
        ctx.reasons.append(f"start: bin/{name} of the application plugin's distribution (installDist)")
        return f"{base} installDist", [(f"/app/build/install/{name}", "/app")], f"/app/bin/{name}"
    ctx.reasons.append("start: java -jar (the jar must be executable: shade, assembly or a Main-Class manifest)")
    return base + ("" if pm.name == "maven" else " jar"), jar, f"java -jar {JAR}"


def _gradle_project_name(src: Source) -> str:
    for name in ("settings.gradle.kts", "settings.gradle"):
        match = _ROOT_PROJECT.search(src.text(name) or "")
        if match:
            return match.group(1)
    return "app"  # Gradle names the root project after its directory, /app in the build stage


def _install_files(src: Source, pm: PackageManager) -> list[str]:
    files = [name for name in pm.extra["files"].split() if src.exists(name)]
    if pm.name == "maven":
        modules = _MODULE.findall(src.text("pom.xml") or "")
        files += [f"{module}/pom.xml" for module in modules if src.exists(f"{module}/pom.xml")]
    return files
