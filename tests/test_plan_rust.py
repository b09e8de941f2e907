"""Rust: toolchain pinning, binary choice, workspaces and the generated Dockerfile."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write
from unkey_deploy.dockerfile import render
from unkey_deploy.errors import UsageError
from unkey_deploy.plan import make_plan

MAIN = "fn main() {}\n"




def crate(name: str = "web", extra: str = "") -> str:
    return f'[package]\nname = "{name}"\nversion = "0.1.0"\n{extra}'


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"rust-toolchain.toml": '[toolchain]\nchannel = "1.81.0"\n', "rust-toolchain": "1.80"}, "1.81.0"),
        ({"rust-toolchain": "1.80\n"}, "1.80"),
        ({"rust-toolchain.toml": '[toolchain]\nchannel = "stable"\n'}, "1.83"),
        ({".tool-versions": "rust 1.84.1\n"}, "1.84.1"),
        ({"mise.toml": '[tools]\nrust = "1.82"\n'}, "1.82"),
        ({}, "1.83"),
    ],
)
def test_toolchain_pins(tmp_path, files, expected):
    write(tmp_path, {"Cargo.toml": crate(extra='rust-version = "1.70"\n'), "src/main.rs": MAIN, **files})
    plan = make_plan(tmp_path)
    assert plan.versions == {"rust": expected}
    assert plan.recipe.build_image == f"rust:{expected}-bookworm"


@pytest.mark.parametrize(("minimum", "expected"), [("1.70", "1.83"), ("1.84", "1.85"), ("1.86", "1.86")])
def test_rust_version_is_a_minimum(tmp_path, minimum, expected):
    write(tmp_path, {"Cargo.toml": crate(extra=f'rust-version = "{minimum}"\n'), "src/main.rs": MAIN})
    plan = make_plan(tmp_path)
    assert plan.versions == {"rust": expected}
    assert any(f"satisfies rust-version {minimum} (a minimum)" in r for r in plan.reasons)


def test_binary_is_the_package_name(tmp_path):
    write(tmp_path, {"Cargo.toml": crate("my-api"), "src/main.rs": MAIN, "src/bin/migrate.rs": MAIN})
    plan = make_plan(tmp_path)
    assert plan.start_command == "/app/my-api"
    assert plan.build_command == "cargo build --release --bin my-api"
    assert plan.recipe.cmd == ["/app/my-api"]
    assert any("also: migrate" in r for r in plan.reasons)


def test_default_run_wins_over_the_package_name(tmp_path):
    write(tmp_path, {"Cargo.toml": crate("tools", 'default-run = "server"\n'), "src/main.rs": MAIN,
                     "src/bin/server.rs": MAIN})
    assert make_plan(tmp_path).start_command == "/app/server"


def test_explicit_bin_replaces_the_inferred_main(tmp_path):
    write(tmp_path, {"Cargo.toml": crate("svc", '\n[[bin]]\nname = "svc-http"\npath = "src/main.rs"\n'),
                     "src/main.rs": MAIN})
    plan = make_plan(tmp_path)
    assert plan.start_command == "/app/svc-http"
    assert not any("also:" in r for r in plan.reasons)


def test_library_only_crate_is_a_usage_error(tmp_path):
    write(tmp_path, {"Cargo.toml": crate(), "src/lib.rs": ""})
    with pytest.raises(UsageError, match="no binary target in Cargo.toml"):
        make_plan(tmp_path)


def workspace(root: Path) -> Path:
    return write(root, {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*", "tools/cli"]\nexclude = ["crates/old"]\n',
        "Cargo.lock": "version = 3\n",
        "crates/lib/Cargo.toml": crate("lib"), "crates/lib/src/lib.rs": "",
        "crates/api/Cargo.toml": crate("api"), "crates/api/src/main.rs": MAIN,
        "crates/old/Cargo.toml": crate("old"), "crates/old/src/main.rs": MAIN,
        "tools/cli/Cargo.toml": crate("cli"), "tools/cli/src/main.rs": MAIN,
    })


def test_workspace_member_chosen_by_root_dir(tmp_path):
    plan = make_plan(workspace(tmp_path), root_dir="tools/cli")
    assert plan.context_dir == tmp_path and plan.to_json()["appDir"] == "tools/cli"
    assert plan.build_command == "cargo build --release --locked -p cli --bin cli"
    files = plan.recipe.install_files
    assert files == ["Cargo.toml", "Cargo.lock", "crates/api/Cargo.toml", "crates/lib/Cargo.toml",
                     "tools/cli/Cargo.toml"]


def test_virtual_workspace_builds_the_first_member_with_a_binary(tmp_path):
    plan = make_plan(workspace(tmp_path))
    assert plan.start_command == "/app/api"
    assert any("building member crates/api" in r and "also: tools/cli" in r for r in plan.reasons)


def test_workspace_without_a_binary_is_a_usage_error(tmp_path):
    write(tmp_path, {"Cargo.toml": '[workspace]\nmembers = ["lib"]\n', "lib/Cargo.toml": crate("lib"),
                     "lib/src/lib.rs": ""})
    with pytest.raises(UsageError, match="no member with a binary"):
        make_plan(tmp_path)


def test_openssl_needs_libssl_at_run_time(tmp_path):
    write(tmp_path, {"Cargo.toml": crate(), "src/main.rs": MAIN,
                     "Cargo.lock": 'version = 3\n\n[[package]]\nname = "openssl-sys"\nversion = "0.9.104"\n'})
    plan = make_plan(tmp_path)
    assert plan.recipe.runtime_packages == ["ca-certificates", "libssl3"]
    runtime = render(plan).dockerfile.split("\n\nFROM ")[1]
    assert ("# hadolint ignore=DL3008\nRUN apt-get update \\\n"
            "    && apt-get install -y --no-install-recommends ca-certificates libssl3 \\\n"
            "    && rm -rf /var/lib/apt/lists/*") in runtime
    assert runtime.index("apt-get") < runtime.index("useradd")


def test_dockerfile_fetches_with_stub_targets_before_the_source(tmp_path):
    write(tmp_path, {"Cargo.toml": crate(), "Cargo.lock": "version = 3\n", "src/main.rs": MAIN})
    text = render(make_plan(tmp_path)).dockerfile
    build, runtime = text.split("\n\nFROM ")
    manifests = build.index("COPY Cargo.toml Cargo.lock ./")
    fetch = build.index("mkdir -p src && touch src/lib.rs && cargo fetch --locked && rm -rf src")
    assert manifests < fetch < build.index("COPY . .") < build.index("cargo build --release --locked --bin web")
    assert "--mount=type=cache,target=/usr/local/cargo/registry" in build
    assert "--mount=type=cache,target=/app/target" in build
    assert runtime.startswith("debian:bookworm-slim\n")
    assert "cargo" not in runtime and "apt-get" not in runtime
    assert "COPY --from=build --chown=10001:10001 /out/web /app/web" in runtime
    assert runtime.rstrip().endswith('EXPOSE 8080\nCMD ["/app/web"]') and "USER 10001" in runtime
