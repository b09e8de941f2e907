"""Reporters: how progress and results look (terminal, plain, JSON, GitHub Actions).

Stages never print; they hand events to a reporter.
"""

from __future__ import annotations

import os
import sys


def color_enabled(stream: object = None) -> bool:
    stream = stream or sys.stderr
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def style_error(message: str) -> str:
    prefix = "\x1b[31merror:\x1b[0m" if color_enabled(sys.stderr) else "error:"
    return f"{prefix} {message}"


def shown_status(status: str) -> str:
    """A deployment's status as the CLI prints it while following a deployment and in every deploy report
    (progress, `--output json`, GitHub outputs and job summary, dotenv): upper case, READY. The program keeps
    statuses in the public API's lower case; this is the one place they are turned into what is shown."""
    return status.upper()


class Reporter:
    """What stages call to report progress. The base class ignores everything (quiet, for tests).

    Implementations: report.plain (append-only lines), report.terminal (rich live display),
    report.github (GitHub Actions commands on top of plain). Stages never print.
    """

    def info(self, message: str) -> None:
        """A fact worth a line (e.g. "Deployment created: d_123")."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the command."""

    def step_started(self, step_id: str, name: str) -> None:
        """A build/push/deploy step began (e.g. a BuildKit step, a layer upload)."""

    def step_log(self, step_id: str, line: str) -> None:
        """A log line of a running step; shown in full only on failure or --verbose."""

    def step_finished(self, step_id: str, *, ok: bool = True, cached: bool = False, detail: str = "") -> None:
        """A step ended."""

    def progress(self, task: str, done: int, total: int | None) -> None:
        """Byte or item progress of a long task (layer pushes)."""

    def status(self, status: str, message: str, elapsed: float) -> None:
        """The deployment's status (as `shown_status` gives it) or current step changed (elapsed: seconds since
        creation)."""

    def group(self, title: str) -> None:
        """A collapsible section begins (GitHub Actions ::group::)."""

    def end_group(self) -> None:
        """The current collapsible section ends."""


def make_reporter(stream: object = None, *, verbose: bool = False) -> Reporter:
    """GitHub Actions commands on Actions, a live display on a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from unkey_deploy.report.github import GitHubReporter

        return GitHubReporter(stream, verbose=verbose)  # type: ignore[arg-type]
    if getattr(stream, "isatty", lambda: False)() and os.environ.get("TERM") != "dumb":
        from unkey_deploy.report.terminal import TerminalReporter

        return TerminalReporter(stream, verbose=verbose)  # type: ignore[arg-type]
    from unkey_deploy.report.plain import PlainReporter

    return PlainReporter(stream, verbose=verbose)  # type: ignore[arg-type]


def close_reporter(reporter: Reporter) -> None:
    close = getattr(reporter, "close", None)
    if close:
        close()
