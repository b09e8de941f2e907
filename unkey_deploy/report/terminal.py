"""Live progress on a terminal: a rich spinner with the current status and elapsed time; finished
steps are printed above it as they complete."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from unkey_deploy.report import Reporter, color_enabled
from unkey_deploy.report.plain import _fmt_elapsed
from unkey_deploy.report.safe import MAX_LINE, text


class TerminalReporter(Reporter):
    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner

        self.stream = stream or sys.stderr
        self.verbose = verbose
        self.console = Console(file=self.stream, no_color=not color_enabled(self.stream), highlight=False)
        self._spinner = Spinner("dots", text="")
        self._live = Live(self._spinner, console=self.console, refresh_per_second=12, transient=True)
        self._active = False
        self._status = ""
        self._message = ""
        self._started = time.monotonic()
        self._logs: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}

    # the live display starts lazily so plain lines before it stay in order
    def _ensure_live(self) -> None:
        if not self._active:
            self._live.start()
            self._active = True

    def close(self) -> None:
        if self._active:
            self._live.stop()
            self._active = False

    def _print(self, line: str, style: str | None = None) -> None:
        self.console.print(text(line, MAX_LINE), style=style, markup=False, highlight=False)

    def _refresh(self, label: str) -> None:
        self._ensure_live()
        self._spinner.update(text=text(label, 300))

    def info(self, message: str) -> None:
        self._print(message)

    def warn(self, message: str) -> None:
        self._print(f"warning: {message}", style="yellow")

    def step_started(self, step_id: str, name: str) -> None:
        self._logs[step_id] = []
        self._names[step_id] = name
        self._refresh(name)

    def step_log(self, step_id: str, line: str) -> None:
        self._logs.setdefault(step_id, []).append(line)
        if self.verbose:
            self._print(f"    {line}", style="dim")

    def step_finished(self, step_id: str, *, ok: bool = True, cached: bool = False, detail: str = "") -> None:
        logs = self._logs.pop(step_id, [])
        name = self._names.pop(step_id, step_id)
        if ok:
            suffix = " (cached)" if cached else (f" ({detail})" if detail else "")
            self._print(f"  ✓ {name}{suffix}", style="green")
            return
        self._print(f"  ✗ {name}: {detail}", style="red")
        for line in logs[-20:]:
            self._print(f"    {line}", style="dim")

    def progress(self, task: str, done: int, total: int | None) -> None:
        pct = f" {done * 100 // total}%" if total else ""
        self._refresh(f"{task}{pct}")

    def status(self, status: str, message: str, elapsed: float) -> None:
        if self._message and message != self._message:
            self._print(f"  ✓ {self._message}", style="green")
        self._status, self._message = status, message or status.title()
        self._refresh(f"{status.title()}: {self._message}  [{_fmt_elapsed(elapsed)}]")

    def group(self, title: str) -> None:
        self._print(title, style="bold")
