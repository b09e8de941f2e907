"""Plain, append-only progress: one line per status or step change, no animation, no control characters.

Used whenever the output is not a terminal (CI logs, pipes) and under --output json (on stderr).
"""

from __future__ import annotations

import sys
from typing import TextIO

from unkey_deploy.report import Reporter
from unkey_deploy.report.safe import MAX_LINE, text


def _fmt_elapsed(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class PlainReporter(Reporter):
    def __init__(self, stream: TextIO | None = None, *, verbose: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.verbose = verbose
        self._last_progress: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._logs: dict[str, list[str]] = {}

    def _line(self, line: str) -> None:
        """One line of output; whatever it holds (server messages, build logs) is shown as data."""
        self._emit(text(line, MAX_LINE))

    def _emit(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def info(self, message: str) -> None:
        self._line(message)

    def warn(self, message: str) -> None:
        self._line(f"warning: {message}")

    def step_started(self, step_id: str, name: str) -> None:
        self._logs[step_id] = []
        self._names[step_id] = name

    def step_log(self, step_id: str, line: str) -> None:
        self._logs.setdefault(step_id, []).append(line)
        if self.verbose:
            self._line(f"    {line}")

    def step_finished(self, step_id: str, *, ok: bool = True, cached: bool = False, detail: str = "") -> None:
        logs = self._logs.pop(step_id, [])
        name = self._names.pop(step_id, step_id)
        suffix = " (cached)" if cached else (f" ({detail})" if detail else "")
        self._line(f"  ✓ {name}{suffix}" if ok else f"  ✗ {name}: {detail}")
        if not ok and not self.verbose:
            for line in logs[-20:]:
                self._line(f"    {line}")

    def progress(self, task: str, done: int, total: int | None) -> None:
        # one line per 25% so logs stay short
        if not total:
            return
        quarter = min(4, done * 4 // total)
        if self._last_progress.get(task, -1) < quarter:
            self._last_progress[task] = quarter
            self._line(f"  {task}: {quarter * 25}%")

    def status(self, status: str, message: str, elapsed: float) -> None:
        self._line(f"  [{_fmt_elapsed(elapsed):>6}] {message or status.title()}")

    def group(self, title: str) -> None:
        self._line(title)

    def end_group(self) -> None:
        pass
