"""The build context's size before a build: the warning above 100 MB with the largest paths and the
.dockerignore lines that would leave them out, and `--max-context` refusing (exit 2) before any build."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from unkey_deploy.errors import UsageError
from unkey_deploy.image.context_size import enforce, ignored, measure, parse_rules, parse_size
from unkey_deploy.report.plain import PlainReporter

MB = 1024 * 1024


def sparse(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    sparse(root / "data" / "dump.sql", 150 * MB)
    sparse(root / "models" / "weights.bin", 20 * MB)
    sparse(root / "logs" / "big.log", 500 * MB)
    (root / "app.py").parent.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text("print('hi')\n")
    (root / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (root / ".dockerignore").write_text("# logs stay home\nlogs\n")
    return root


class Request:
    def __init__(self, context: Path) -> None:
        self.context = context
        self.dockerfile_text = None
        self.dockerignore_text = None

    def dockerfile_path(self) -> Path:
        return self.context / "Dockerfile"


def test_warning_lists_the_largest_paths_not_ignored(context):
    out = io.StringIO()
    size = enforce(context, Request(context), 2 * 1024 * MB, PlainReporter(out))
    text = out.getvalue()
    assert size.total > 170 * MB and size.total < 171 * MB  # logs/ is ignored
    assert "Build context: 170.0 MB in" in text
    assert "warning: the build context is 170.0 MB (above 100.0 MB)" in text
    lines = [line for line in text.splitlines() if "(.dockerignore:" in line]
    assert "data/  150.0 MB  (.dockerignore: /data)" in lines[0]
    assert "models/  20.0 MB  (.dockerignore: /models)" in lines[1]
    assert not any("logs" in line for line in lines)


def test_small_context_is_reported_without_a_warning(tmp_path):
    (tmp_path / "main.go").write_text("package main\n")
    out = io.StringIO()
    enforce(tmp_path, Request(tmp_path), 2 * 1024 * MB, PlainReporter(out))
    assert "warning" not in out.getvalue() and "Build context:" in out.getvalue()


def test_above_the_limit_is_refused_with_the_list(context):
    with pytest.raises(UsageError) as caught:
        enforce(context, Request(context), 100 * MB, PlainReporter(io.StringIO()))
    assert "above --max-context 100.0 MB" in caught.value.message
    assert any("data/  150.0 MB" in line for line in caught.value.details)


def test_cli_refuses_before_building(run_cli, context):
    result = run_cli("deploy", str(context), "--project=acme", "--registry=127.0.0.1:9/acme/api",
                     "--max-context", "100MB", "--dry-run")
    assert result.returncode == 2, result.stderr
    assert "above --max-context 100.0 MB" in result.stderr
    assert "data/  150.0 MB  (.dockerignore: /data)" in result.stderr
    assert "Traceback" not in result.stderr


def test_unkey_build_refuses_too(run_cli, context):
    result = run_cli("build", str(context), "-t", "unkey-local-test/ctx:v1", "--max-context", "0.1GB")
    assert result.returncode == 2, result.stderr
    assert "above --max-context 102.4 MB" in result.stderr


def test_bad_max_context_is_a_usage_error(run_cli, context):
    result = run_cli("deploy", str(context), "--project=acme", "--max-context", "lots", "--dry-run")
    assert result.returncode == 2
    assert "--max-context 'lots' is not a size" in result.stderr


def test_sizes():
    assert parse_size("500MB") == 500 * MB
    assert parse_size("2GB") == 2048 * MB
    assert parse_size("1.5g") == int(1.5 * 1024 * MB)
    assert parse_size("4096") == 4096
    with pytest.raises(UsageError):
        parse_size("2 parsecs")


def test_dockerignore_rules():
    rules = parse_rules("node_modules\n**/*.log\n/build\n!build/keep.txt\ndocs/*.pdf\n")
    assert ignored("node_modules/x/y.js", rules)
    assert ignored("a/b/c.log", rules) and ignored("c.log", rules)
    assert ignored("build/out.bin", rules) and not ignored("build/keep.txt", rules)
    assert ignored("docs/a.pdf", rules) and not ignored("docs/sub/a.pdf", rules)
    assert not ignored("src/node_modules_helper.py", rules)


def test_negation_reincludes_inside_an_ignored_directory(tmp_path):
    sparse(tmp_path / "vendor" / "big.bin", 5 * MB)
    (tmp_path / "vendor" / "keep.txt").write_text("k")
    size = measure(tmp_path, "vendor\n!vendor/keep.txt\n")
    assert size.total == 1 and size.files == 1
