"""The `unkey` entry point: builds the command tree and turns every error into one line and an exit code.

Nothing else in the package calls sys.exit; Ctrl-C is handled here too.
"""

from __future__ import annotations

import os
import sys

import typer

try:  # typer >= 0.22 ships its own copy of click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer on top of click
    import click  # type: ignore[no-redef]

import contextlib

from unkey_deploy import __version__
from unkey_deploy.errors import ExitCode, UnkeyError

app = typer.Typer(
    name="unkey",
    help="Build and deploy applications to Unkey, from source or from a pre-built image.\n\n"
    "Examples:\n\n"
    "  unkey deploy ghcr.io/acme/api:v1.0.0 --project=acme --env=production\n\n"
    "  unkey deploy --build --registry=ghcr.io/acme/api --project=acme\n\n"
    "  unkey local serve   # a local control plane, no Unkey account needed",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"unkey {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


def _register() -> None:
    from unkey_deploy.cli import (
        api,
        apps,
        auth,
        build,
        deploy,
        deployments,
        domains,
        env,
        environments,
        init,
        local,
        logs,
        plan,
        projects,
    )

    for module in (init, deploy, build, plan, deployments, env, logs, projects, apps, environments, domains, local,
                   api, auth):
        module.register(app)


_register()


def error(message: str, details: list[str] | None = None) -> None:
    """Print an error as one line (plus indented detail lines) on stderr; what they hold is shown as data."""
    from unkey_deploy.report import style_error
    from unkey_deploy.report.safe import MAX_LINE, MAX_LINES, lines, text

    with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone: the exit status still counts
        print(style_error(text(message, MAX_LINE)), file=sys.stderr)
        for line in lines(details or [], MAX_LINES + 10, what="details"):
            print(f"  {line}", file=sys.stderr)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C (every `except KeyboardInterrupt` and `finally` runs)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_stopped_by: list[int] = []  # the signal that stopped the command, if one did
_installed: dict[int, object] = {}  # signal -> the handler it had before run()


def _on_stop_signal(signum: int, frame: object) -> None:
    import signal

    if _stopped_by:
        return  # a second signal while cleaning up: let the cleanup finish
    _stopped_by.append(signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


def _handle_stop_signals() -> None:
    """SIGTERM and SIGHUP behave like Ctrl-C; commands that handle them (`unkey local serve`) override this."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread, or no such signal
            if signal.getsignal(sig) is signal.SIG_DFL:  # an ignored SIGHUP (nohup) stays ignored
                _installed[sig] = signal.signal(sig, _on_stop_signal)


def _interrupted_code() -> int:
    """130 for Ctrl-C, 128 + the signal number for SIGTERM (143) and SIGHUP (129)."""
    return 128 + _stopped_by[0] if _stopped_by else int(ExitCode.INTERRUPTED)


def _report_ci_failure(exc: UnkeyError, argv: list[str] | None) -> None:
    """The `::error::` annotation (and a job summary) when running on GitHub Actions."""
    from unkey_deploy.report.ci import report_failure

    args = sys.argv[1:] if argv is None else argv
    report_failure(exc, " ".join(["unkey", *args[:1]]))


def run(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    code: int = ExitCode.OK
    _stopped_by.clear()
    _handle_stop_signals()
    try:
        # Non-standalone, typer returns the code of an Exit (Ctrl-C outside our handlers is Exit(130))
        returned = command.main(args=argv, prog_name="unkey", standalone_mode=False)
        if isinstance(returned, int) and not isinstance(returned, bool):
            code = returned
            if code == ExitCode.INTERRUPTED:
                error("interrupted")
                code = _interrupted_code()
    except UnkeyError as exc:
        error(exc.message, exc.details)
        _report_ci_failure(exc, argv)
        code = _interrupted_code() if exc.exit_code == ExitCode.INTERRUPTED else exc.exit_code
    except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:
        print(exc.ctx.get_help() if exc.ctx else "", file=sys.stderr)
        code = ExitCode.USAGE
    except click.exceptions.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        error(f"{exc.format_message()}{hint}")
        code = ExitCode.USAGE
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        error("interrupted")
        code = _interrupted_code()
    except click.exceptions.ClickException as exc:
        error(exc.format_message())
        code = exc.exit_code
    except BrokenPipeError:
        # stdout closed early (e.g. `unkey ... | head`): not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback only on request
        if os.environ.get("UNKEY_DEBUG"):
            import traceback

            traceback.print_exc()
        error(f"unexpected error: {type(exc).__name__}: {exc} (set UNKEY_DEBUG=1 for the traceback and report it)")
        code = ExitCode.FAILED
    finally:
        _restore_stop_signals()
    if argv is not None:  # called in-process (e.g. from Python code): leave the interpreter running
        raise SystemExit(int(code))
    # Console script: every file, temp dir and connection is closed by now. Skipping interpreter teardown
    # (hundreds of ms with git, httpx and rich loaded) makes the command end the moment its work is done.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(int(code))


def _restore_stop_signals() -> None:
    import signal

    for sig, previous in list(_installed.items()):
        with contextlib.suppress(ValueError, OSError, TypeError):
            signal.signal(sig, previous)  # type: ignore[arg-type]
        del _installed[sig]


if __name__ == "__main__":
    run()
