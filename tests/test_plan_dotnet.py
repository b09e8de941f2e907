""".NET: project discovery, runtime and SDK versions, web vs console apps and the generated Dockerfile."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan


def csproj(target: str | None = "net8.0", sdk: str = "Microsoft.NET.Sdk.Web", extra: str = "") -> str:
    framework = f"<TargetFramework>{target}</TargetFramework>" if target else ""
    return f'<Project Sdk="{sdk}"><PropertyGroup>{framework}{extra}</PropertyGroup></Project>\n'


@pytest.mark.parametrize(
    ("files", "runtime", "sdk"),
    [
        ({"Api.csproj": csproj("net8.0")}, "8.0", "8.0"),
        ({"Api.csproj": csproj("net9.0"), "global.json": '{"sdk": {"version": "8.0.404"}}'}, "9.0", "9.0"),
        ({"Api.csproj": csproj("net8.0"), "global.json": '{"sdk": {"version": "9.0.100"}}'}, "8.0", "9.0"),
        ({"Api.csproj": csproj(None), "Directory.Build.props": csproj("net9.0", "x")}, "9.0", "9.0"),
        ({"Api.csproj": csproj(None), "global.json": '{"sdk": {"version": "9.0.101"}}'}, "9.0", "9.0"),
        ({"Api.csproj": csproj(None), ".tool-versions": "dotnet 6.0\n"}, "6.0", "6.0"),
        ({"Api.csproj": csproj(None)}, "8.0", "8.0"),
    ],
)
def test_runtime_follows_the_target_framework_and_sdk_global_json(tmp_path, files, runtime, sdk):
    plan = make_plan(write(tmp_path, files))
    assert plan.versions == {"dotnet": runtime}
    assert plan.recipe.runtime_image == f"mcr.microsoft.com/dotnet/aspnet:{runtime}"
    assert plan.recipe.build_image == f"mcr.microsoft.com/dotnet/sdk:{sdk}"


def test_web_app_listens_on_port(tmp_path):
    plan = make_plan(write(tmp_path, {"Hello.csproj": csproj()}))
    assert plan.language == "dotnet" and plan.package_manager == "dotnet"
    assert plan.install_command == "dotnet restore Hello.csproj"
    assert plan.build_command == "dotnet publish Hello.csproj -c Release -o /out --no-restore"
    assert plan.start_command == "ASPNETCORE_URLS=http://+:$PORT dotnet Hello.dll"
    assert plan.recipe.cmd == ["sh", "-c", "exec env ASPNETCORE_URLS=http://+:$PORT dotnet Hello.dll"]


def test_console_app_runs_on_the_plain_runtime(tmp_path):
    project = csproj(sdk="Microsoft.NET.Sdk", extra="<AssemblyName>w</AssemblyName>")
    plan = make_plan(write(tmp_path, {"Worker.fsproj": project}))
    assert plan.recipe.runtime_image == "mcr.microsoft.com/dotnet/runtime:8.0"
    assert plan.recipe.cmd == ["dotnet", "w.dll"]


def test_solution_picks_the_web_project_below_it(tmp_path):
    library = csproj(sdk="Microsoft.NET.Sdk")
    write(tmp_path, {"App.sln": "", "src/Lib/Lib.csproj": library, "src/Web/Web.csproj": csproj(),
                     "tests/Web.Tests/Web.Tests.csproj": library})
    plan = make_plan(tmp_path)
    assert plan.install_command == "dotnet restore src/Web/Web.csproj"
    assert plan.recipe.install_files == ["App.sln", "src/Lib/Lib.csproj", "src/Web/Web.csproj",
                                         "tests/Web.Tests/Web.Tests.csproj"]
    assert any("project src/Web/Web.csproj (web) (also: src/Lib/Lib.csproj" in r for r in plan.reasons)


def test_project_files_below_a_plain_directory_do_not_count(tmp_path):
    write(tmp_path, {"package.json": '{"scripts": {"start": "node a.js"}}', "tools/gen/Gen.csproj": csproj()})
    assert make_plan(tmp_path).language == "node"


def test_dockerfile_restores_before_the_source_and_ships_only_the_publish_output(tmp_path):
    write(tmp_path, {"Hello.csproj": csproj(), "packages.lock.json": "{}", "nuget.config": "<configuration/>"})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    steps = ["COPY nuget.config Hello.csproj packages.lock.json ./", "dotnet restore", "COPY . .", "dotnet publish"]
    assert [build.index(step) for step in steps] == sorted(build.index(step) for step in steps)
    assert "--mount=type=cache,target=/root/.nuget/packages" in build
    assert runtime.startswith("mcr.microsoft.com/dotnet/aspnet:8.0\n")
    assert "--from=build" in runtime and " /out /app" in runtime


@pytest.mark.parametrize("target", ["net8.0", "net9.0"])
def test_dotnet_8_and_later_run_as_the_images_app_user(tmp_path, target):
    write(tmp_path, {"Hello.csproj": csproj(target)})
    runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")[1]
    assert "groupadd" not in runtime and "useradd" not in runtime  # the image has `app` (uid 1654) already
    assert "\nUSER 1654\n" in runtime


def test_dotnet_before_8_creates_a_non_root_user(tmp_path):
    write(tmp_path, {"Hello.csproj": csproj("net6.0")})
    plan = make_plan(tmp_path)
    runtime = render(plan).dockerfile.split("\n\nFROM ")[1]
    assert plan.recipe.create_user and "useradd" in runtime
    assert "USER root" not in runtime and "\nUSER 0" not in runtime


@pytest.mark.parametrize("name", ["NuGet.Config", "nuget.config", "NuGet.config", "NUGET.CONFIG"])
def test_nuget_config_in_any_case_is_copied_before_the_restore(tmp_path, name):
    write(tmp_path, {"Hello.csproj": csproj(), name: "<configuration/>"})
    build = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")[0]
    assert build.index(f"COPY {name} Hello.csproj ./") < build.index("dotnet restore")


def test_a_project_that_runs_npm_while_publishing_gets_node_in_the_build_stage(tmp_path):
    # jasontaylordev/CleanArchitecture: src/Web/Web.csproj builds ClientApp with <Exec Command="npm install" />.
    spa = '<SpaRoot>ClientApp\\</SpaRoot></PropertyGroup><Target Name="x"><Exec Command="npm install" /></Target>'
    write(tmp_path, {"Web.csproj": csproj(extra=spa.replace("</PropertyGroup>", "", 0))})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    assert "apt-get install -y --no-install-recommends nodejs npm" in build
    assert build.index("nodejs npm") < build.index("dotnet publish")
    assert "nodejs" not in runtime


@pytest.mark.parametrize(
    ("name", "solution"),
    [
        ("Shop.sln", 'Project("{FAE04EC0}") = "Api", "src\\Services\\Ordering\\Api.csproj", "{1}"\nEndProject\n'),
        ("Shop.slnx", '<Solution>\n  <Folder Name="/src/">\n    <Project Path="src/Services/Ordering/Api.csproj" />\n'
                      "  </Folder>\n</Solution>\n"),
    ],
)
def test_projects_deeper_than_two_levels_are_found_through_the_solution(tmp_path, name, solution):
    write(tmp_path, {name: solution, "src/Services/Ordering/Api.csproj": csproj()})
    plan = make_plan(tmp_path)
    assert plan.install_command == "dotnet restore src/Services/Ordering/Api.csproj"
    build = render(plan).dockerfile.split("\n\nFROM ")[0]
    assert f"COPY {name} ./" in build and "COPY src/Services/Ordering/Api.csproj src/Services/Ordering/" in build
