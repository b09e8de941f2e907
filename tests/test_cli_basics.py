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


def test_ctrl_c_anywhere_exits_130(cli_env, tmp_path):
    """A command without its own Ctrl-C handling still ends with 130 and one line, no traceback."""
    import signal
    import subprocess
    import time

    from tests.conftest import unkey_bin

    proc = subprocess.Popen([*unkey_bin(), "auth", "login"], env=cli_env, cwd=tmp_path, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)  # blocked reading the key from stdin
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
