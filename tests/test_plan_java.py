"""Java: JDK version pins, Maven or Gradle, wrappers, Spring Boot and application start commands."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

POM = "<project><artifactId>demo</artifactId>{props}<dependencies>{deps}</dependencies></project>\n"
BOOT = "<dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId>" \
       "</dependency>"




def pom(props: str = "", deps: str = BOOT) -> str:
    return POM.format(props=f"<properties>{props}</properties>" if props else "", deps=deps)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pom.xml": pom("<java.version>17</java.version>")}, "17"),
        ({"pom.xml": pom("<maven.compiler.release>11</maven.compiler.release><java.version>17</java.version>")}, "11"),
        ({"pom.xml": pom("<maven.compiler.source>1.8</maven.compiler.source>")}, "8"),
        ({"pom.xml": pom("<java.version>17</java.version>"), ".java-version": "21.0.5\n"}, "21"),
        ({"pom.xml": pom("<java.version>17</java.version>"), ".sdkmanrc": "java=11.0.25-tem\n"}, "11"),
        ({"pom.xml": pom(), ".tool-versions": "maven 3.9.9\njava temurin-25.0.1+8\n"}, "25"),
        ({"pom.xml": pom(), "mise.toml": '[tools]\njava = "corretto-17"\n'}, "17"),
        ({"build.gradle.kts": "java { toolchain { languageVersion = JavaLanguageVersion.of(17) } }\n"}, "17"),
        ({"build.gradle": "java {\n  sourceCompatibility = JavaVersion.VERSION_1_8\n}\n"}, "8"),
        ({"build.gradle": "sourceCompatibility = '11'\n"}, "11"),
        ({"pom.xml": pom()}, "21"),
    ],
)
def test_java_version_pins(tmp_path, files, expected):
    plan = make_plan(write(tmp_path, files))
    assert plan.versions == {"java": expected}
    assert plan.recipe.runtime_image == f"eclipse-temurin:{expected}-jre"


def test_maven_spring_boot(tmp_path):
    plan = make_plan(write(tmp_path, {"pom.xml": pom()}))
    assert (plan.package_manager, plan.framework) == ("maven", "spring-boot")
    assert plan.install_command == "mvn -B -q dependency:go-offline"
    assert plan.build_command == "mvn -B -DskipTests package"
    assert plan.start_command == "java -Dserver.port=$PORT -jar /app/app.jar"
    assert plan.recipe.build_image == "maven:3.9-eclipse-temurin-21"
    assert plan.recipe.cmd == ["sh", "-c", "exec java -Dserver.port=$PORT -jar /app/app.jar"]
    assert plan.recipe.runtime_env == {"JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=75"}


def test_maven_comes_before_gradle(tmp_path):
    plan = make_plan(write(tmp_path, {"pom.xml": pom(), "build.gradle": "plugins { id 'java' }\n"}))
    assert plan.package_manager == "maven"


def test_maven_modules_are_copied_before_the_dependencies(tmp_path):
    modules = "<modules><module>web</module></modules><dependencies>"
    write(tmp_path, {"pom.xml": pom().replace("<dependencies>", modules), "web/pom.xml": pom()})
    assert make_plan(tmp_path).recipe.install_files == ["pom.xml", "web/pom.xml"]


def test_gradle_wrapper_runs_on_a_plain_jdk(tmp_path):
    write(tmp_path, {"build.gradle.kts": 'plugins { id("org.springframework.boot") version "3.4.1" }\n',
                     "gradlew": "#!/bin/sh\n", "gradle/wrapper/gradle-wrapper.properties": "",
                     "gradle/wrapper/gradle-wrapper.jar": ""})
    plan = make_plan(tmp_path)
    assert plan.install_command == "./gradlew --no-daemon dependencies"
    assert plan.build_command == "./gradlew --no-daemon bootJar"
    assert plan.recipe.build_image == "eclipse-temurin:21-jdk"
    assert plan.recipe.install_files == ["gradlew", "gradle/wrapper/gradle-wrapper.jar",
                                         "gradle/wrapper/gradle-wrapper.properties", "build.gradle.kts"]


def test_gradle_without_wrapper_uses_the_gradle_image(tmp_path):
    plan = make_plan(write(tmp_path, {"build.gradle": "plugins { id 'java' }\n"}))
    assert plan.recipe.build_image == "gradle:8-jdk21"
    assert plan.build_command == "gradle --no-daemon jar"
    assert plan.start_command == "java -jar /app/app.jar"


@pytest.mark.parametrize("plugins", ["plugins {\n    application\n}\n", "plugins { id 'application' }\n",
                                     "apply plugin: 'application'\n"])
def test_gradle_application_plugin_runs_its_start_script(tmp_path, plugins):
    write(tmp_path, {"build.gradle.kts": plugins, "settings.gradle.kts": 'rootProject.name = "svc"\n'})
    plan = make_plan(tmp_path)
    assert plan.build_command == "gradle --no-daemon installDist"
    assert plan.start_command == "/app/bin/svc"
    assert plan.recipe.artifacts == [("/app/build/install/svc", "/app")]


def test_dockerfile_copies_only_the_jar_onto_a_jre(tmp_path):
    text = render(make_plan(write(tmp_path, {"pom.xml": pom()}))).dockerfile
    build, runtime = text.split("\n\nFROM ")
    assert build.index("COPY pom.xml ./") < build.index("dependency:go-offline") < build.index("COPY . .")
    assert "--mount=type=cache,target=/root/.m2" in build
    assert "mvn -B -DskipTests package && mkdir -p /out && cp target/*.jar /out/app.jar" in build
    assert runtime.startswith("eclipse-temurin:21-jre\n")
    assert "COPY --from=build --chown=10001:10001 /out/app.jar /app/app.jar" in runtime
    assert "mvn" not in runtime
