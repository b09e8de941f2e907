"""C/C++: CMake and Meson, the executable's name and the generated Dockerfile."""

from __future__ import annotations

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.errors import UsageError
from unkey_deploy.plan import make_plan


@pytest.mark.parametrize(
    ("files", "name"),
    [
        ({"CMakeLists.txt": "project(demo CXX)\nadd_executable(server main.cpp)\n"}, "server"),
        ({"CMakeLists.txt": "project(demo)\nadd_executable(${PROJECT_NAME} main.cpp)\n"}, "demo"),
        ({"CMakeLists.txt": "project(demo)\nadd_subdirectory(src)\n",
          "src/CMakeLists.txt": "ADD_EXECUTABLE(api main.cpp)\n"}, "api"),
    ],
)
def test_cmake_executable(tmp_path, files, name):
    plan = make_plan(write(tmp_path, files))
    assert (plan.language, plan.package_manager) == ("cpp", "cmake")
    assert plan.start_command == f"/app/{name}"
    assert plan.recipe.artifacts == [(f"/out/{name}", f"/app/{name}")]
    assert "-DCMAKE_RUNTIME_OUTPUT_DIRECTORY=/out" in plan.build_command


def test_meson_executable_is_copied_out_of_its_build_directory(tmp_path):
    write(tmp_path, {"meson.build": "project('x', 'cpp')\nsubdir('src')\n",
                     "src/meson.build": "executable('svc', 'main.cpp')\n"})
    plan = make_plan(tmp_path)
    assert plan.package_manager == "meson"
    assert plan.build_command == ("meson setup build --buildtype=release && meson compile -C build"
                                  " && install -D build/src/svc /out/svc")
    assert plan.recipe.packages == ["meson", "ninja-build"]


def test_gcc_version_from_tool_versions(tmp_path):
    write(tmp_path, {"CMakeLists.txt": "add_executable(a a.cpp)\n", ".tool-versions": "gcc 13\n"})
    plan = make_plan(tmp_path)
    assert plan.recipe.build_image == "gcc:13" and plan.versions == {}


def test_no_executable_is_a_usage_error(tmp_path):
    write(tmp_path, {"CMakeLists.txt": "project(lib)\nadd_library(lib lib.cpp)\n"})
    with pytest.raises(UsageError, match="no executable in CMakeLists.txt"):
        make_plan(tmp_path)


def test_dockerfile_compiles_with_a_static_cxx_runtime_and_ships_only_the_binary(tmp_path):
    write(tmp_path, {"CMakeLists.txt": "add_executable(srv main.cpp)\n"})
    build, runtime = render(make_plan(tmp_path)).dockerfile.split("\n\nFROM ")
    assert 'ENV LDFLAGS="-static-libstdc++ -static-libgcc"' in build
    assert build.index("apt-get install -y --no-install-recommends cmake") < build.index("COPY . .")
    assert runtime.startswith("debian:bookworm-slim\n")
    assert "cmake" not in runtime and "gcc" not in runtime
    assert runtime.rstrip().endswith('EXPOSE 8080\nCMD ["/app/srv"]') and "USER 10001" in runtime
