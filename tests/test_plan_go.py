"""Go: the go directive as a minimum, the toolchain pin, cgo builds on glibc and GOPATH-era apps."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, write
from unkey_deploy.dockerfile import render
from unkey_deploy.plan import make_plan

MAIN = 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8080", nil) }\n'


def split(plan):
    build, runtime = render(plan).dockerfile.split("\n\nFROM ")
    return build, "FROM " + runtime


@pytest.mark.parametrize(
    ("directive", "expected"),
    [("1.13", "1.23"), ("1.15", "1.23"), ("1.21", "1.23"), ("1.23.4", "1.23"), ("1.24", "1.24"), ("1.26", "1.26")],
)
def test_the_go_directive_is_a_minimum_not_an_image_tag(tmp_path, directive, expected):
    write(tmp_path, {"go.mod": f"module example.com/app\n\ngo {directive}\n", "main.go": MAIN})
    plan = make_plan(tmp_path)
    assert plan.versions == {"go": expected}
    assert plan.recipe.build_image == f"golang:{expected}-bookworm"
    assert any(f"`go {directive}` directive" in r and "minimum" in r for r in plan.reasons)


def test_the_toolchain_directive_is_used_as_written(tmp_path):
    write(tmp_path, {"go.mod": "module x\n\ngo 1.21\n\ntoolchain go1.22.5\n", "main.go": MAIN})
    assert make_plan(tmp_path).recipe.build_image == "golang:1.22.5-bookworm"


def test_without_cgo_the_binary_is_static_on_distroless(tmp_path):
    write(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "main.go": MAIN})
    build, runtime = split(make_plan(tmp_path))
    assert "CGO_ENABLED=0" in build
    assert runtime.startswith("FROM gcr.io/distroless/static-debian12:nonroot\n") and "USER 65532" in runtime


@pytest.mark.parametrize(
    "files",
    [
        # required directly, or (gorm's sqlite dialect) only as an indirect requirement
        {"go.mod": "module x\n\ngo 1.21\n\nrequire github.com/mattn/go-sqlite3 v1.14.22\n"},
        {"go.mod": "module x\n\ngo 1.15\n\nrequire (\n\tgithub.com/jinzhu/gorm v1.9.16\n"
                   "\tgithub.com/mattn/go-sqlite3 v1.14.15 // indirect\n)\n"},
        {"go.mod": "module x\n\ngo 1.21\n", "c.go": 'package main\n\n// #include <stdio.h>\nimport "C"\n'},
    ],
)
def test_cgo_builds_with_cgo_enabled_and_runs_on_a_libc_image(tmp_path, files):
    write(tmp_path, {"main.go": MAIN, **files})
    plan = make_plan(tmp_path)
    build, runtime = split(plan)
    assert "CGO_ENABLED=1" in build
    assert runtime.startswith("FROM debian:bookworm-slim\n")  # glibc, the golang image's Debian release
    assert "ca-certificates" in runtime and "useradd" in runtime and "USER 0" not in runtime
    assert any(r.startswith("cgo: ") for r in plan.reasons)


def test_a_cgo_package_with_system_libraries_installs_them_in_the_right_stage(tmp_path):
    write(tmp_path, {"go.mod": "module x\n\ngo 1.22\n\nrequire github.com/h2non/bimg v1.1.9\n", "main.go": MAIN})
    build, runtime = split(make_plan(tmp_path))
    assert "libvips-dev" in build and "libvips-dev" not in runtime
    assert "libvips42" in runtime and "libvips42" not in build


def test_gopath_app_builds_at_its_import_path_with_modules_off(tmp_path):
    write(tmp_path, {"Godeps/Godeps.json": '{"ImportPath": "github.com/acme/web", "Deps": []}',
                     "cmd/web/main.go": MAIN})
    plan = make_plan(tmp_path)
    build, _ = split(plan)
    assert plan.language == "go"
    assert "WORKDIR /go/src/github.com/acme/web" in build and "GO111MODULE=off" in build
    assert plan.install_command is None  # the standard library only: nothing to fetch
    assert plan.build_command.endswith("-o /out/web ./cmd/web")


def test_gopath_import_path_from_imports_of_its_own_packages(tmp_path):
    main = 'package main\n\nimport (\n\t"github.com/me/shop/models"\n\t"github.com/gorilla/mux"\n)\n'
    write(tmp_path, {"main.go": main, "models/m.go": "package models\n"})
    plan = make_plan(tmp_path)
    assert "WORKDIR /go/src/github.com/me/shop" in render(plan).dockerfile
    assert plan.install_command == "go get -d ./..."
    assert plan.versions == {"go": "1.21"}  # the last Go whose `go get` works without modules


def test_a_procfile_naming_the_binary_finds_it(tmp_path):
    write(tmp_path, {"go.mod": "module example.com/hello\n\ngo 1.21\n", "main.go": MAIN,
                     "Procfile": "web: bin/hello\n"})
    plan = make_plan(tmp_path)
    runtime = split(plan)[1]
    assert plan.start_command == "bin/hello"
    assert "/out/hello /app/bin/hello" in runtime and "PATH=/app:" in runtime


def test_examples_with_an_e2e_file_build_without_module_downloads():
    # The Docker harness builds these with the stand-in Go image, which has no module proxy.
    for example in sorted((REPO / "examples").glob("go-*/.unkey-e2e.yaml")):
        plan = make_plan(example.parent)
        assert plan.install_command in (None, "go mod download"), example.parent.name
        go_mod = example.parent / "go.mod"
        vendored = (example.parent / "vendor/modules.txt").is_file()  # requires met by vendor/
        assert vendored or not go_mod.exists() or "require" not in go_mod.read_text(), example.parent.name


def test_among_several_commands_the_server_is_built(tmp_path):
    # benbjohnson/wtf: cmd/wtf is a CLI named after the module; cmd/wtfd is the server.
    cli = 'package main\n\nimport "github.com/acme/wtf/http"\n\nfunc main() { http.NewClient("") }\n'
    daemon = 'package main\n\nimport "github.com/acme/wtf/http"\n\nfunc main() { s := http.NewServer(); s.Open() }\n'
    write(tmp_path, {"go.mod": "module github.com/acme/wtf\n\ngo 1.21\n", "cmd/wtf/main.go": cli,
                     "cmd/wtfd/main.go": daemon})
    plan = make_plan(tmp_path)
    assert plan.build_command.endswith("-o /out/wtfd ./cmd/wtfd")
    assert any("cmd/wtfd (it looks like the server) (also: wtf" in r for r in plan.reasons)


def test_files_the_program_opens_by_relative_path_are_copied_beside_the_binary(tmp_path):
    main = (
        'package main\n\nimport (\n\t"html/template"\n\t"net/http"\n\t"example.com/app/internal/web"\n)\n\n'
        'var page = template.Must(template.ParseFiles("view/main.html"))\n'
        'var parts = template.Must(template.ParseGlob("internal/web/templates/*.html"))\n\n'
        'func main() {\n\tweb.Hello()\n\thttp.Handle("/static/", http.FileServer(http.Dir("./public")))\n'
        '\thttp.ListenAndServe(":"+"8080", nil)\n}\n'
    )
    write(tmp_path, {
        "go.mod": "module example.com/app\n\ngo 1.21\n", "main.go": main, "README.md": "see view/main.html\n",
        "view/main.html": "<h1>{{.}}</h1>\n", "public/app.css": "h1 {}\n",
        "internal/web/web.go": "package web\n\nfunc Hello() {}\n", "internal/web/templates/a.html": "a\n",
        "unused/notes.txt": "not read by the program\n",
    })
    _, runtime = split(make_plan(tmp_path))
    copies = [line.split()[-2:] for line in runtime.splitlines() if line.startswith("COPY --from=build")]
    assert ["/src/view", "/app/view"] in copies
    assert ["/src/public", "/app/public"] in copies
    assert ["/src/internal/web/templates", "/app/internal/web/templates"] in copies
    assert not any("unused" in src or "internal/web/web.go" in src for src, _ in copies)
    assert len(copies) == 4  # the binary and the three folders the program reads


def test_embedded_files_and_import_paths_copy_nothing(tmp_path):
    main = (
        'package main\n\nimport (\n\t"embed"\n\t"net/http"\n\t"example.com/app/api"\n)\n\n'
        '//go:embed static\nvar static embed.FS\n\n'
        'func main() {\n\tapi.Hello()\n\thttp.Handle("/", http.FileServer(http.FS(static)))\n'
        '\thttp.ListenAndServe(":8080", nil)\n}\n'
    )
    write(tmp_path, {
        "go.mod": "module example.com/app\n\ngo 1.21\n", "main.go": main, "static/index.html": "hi\n",
        "api/api.go": "package api\n\nfunc Hello() {}\n",
    })
    _, runtime = split(make_plan(tmp_path))
    assert [line for line in runtime.splitlines() if line.startswith("COPY")] == [
        "COPY --from=build --chown=65532:65532 /out/app /app/app"
    ]


def test_a_vendored_module_builds_from_vendor_without_downloading(tmp_path):
    write(tmp_path, {
        "go.mod": "module example.com/app\n\ngo 1.15\n\nrequire example.com/dep v1.0.0\n", "main.go": MAIN,
        "vendor/modules.txt": "# example.com/dep v1.0.0\n## explicit\nexample.com/dep\n",
        "vendor/example.com/dep/dep.go": "package dep\n",
    })
    plan = make_plan(tmp_path)
    build, _ = split(plan)
    assert plan.install_command is None and "go mod download" not in build
    assert "go build -mod=vendor " in build
    assert "dependencies: vendor/ (go build -mod=vendor; nothing is downloaded)" in plan.reasons
