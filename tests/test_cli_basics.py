from __future__ import annotations


def test_version(run_cli):
    from unkey_deploy import __version__

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"unkey {__version__}"


def test_help_lists_examples(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    assert "unkey deploy" in result.stdout


def test_unknown_option_is_one_line_usage_error(run_cli):
    result = run_cli("--no-such-flag")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "Traceback" not in result.stderr
