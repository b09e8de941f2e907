"""BuildKit `--progress=plain` output → reporter events, with build variable values masked."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from unkey_deploy.report import Reporter

_STEP = re.compile(r"#(\d+) (.*)\Z", re.S)
_TIMED = re.compile(r"\d+\.\d+ (.*)\Z", re.S)
_DONE = re.compile(r"DONE (\d+(?:\.\d+)?s)\Z")
_CONTEXT = re.compile(r"transferring context: ([\d.]+)([kMG]?B)")
_UNITS = {"B": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3}
TAIL_LINES = 20


class Masker:
    """Replaces every build variable value (each line of it, 3 characters or more) with ***."""

    def __init__(self, values: Iterable[str]) -> None:
        pieces = {part.strip() for value in values for part in value.splitlines() if len(part.strip()) >= 3}
        ordered = sorted(pieces, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub("***", text) if self._pattern else text


@dataclass
class Step:
    name: str
    log: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    error: str | None = None


class PlainProgress:
    """Feed it output lines; it reports steps and remembers what a failure message needs."""

    def __init__(self, reporter: Reporter, mask: Masker) -> None:
        self.reporter = reporter
        self.mask = mask
        self.steps: dict[str, Step] = {}
        self.failed: Step | None = None
        self.other: deque[str] = deque(maxlen=TAIL_LINES)
        self.context_bytes: int | None = None

    def feed(self, raw: str) -> None:
        line = self.mask(raw.rstrip("\n"))
        match = _STEP.match(line)
        if not match:
            if line.strip() and line.strip() != "------":
                self.other.append(line)
            return
        step_id, text = f"#{match.group(1)}", match.group(2)
        step = self.steps.get(step_id)
        if step is None:
            self.steps[step_id] = Step(text)
            self.reporter.step_started(step_id, text)
        elif text == step.name or text.startswith("sha256:"):
            return
        elif text == "CACHED":
            self.reporter.step_finished(step_id, cached=True)
        elif done := _DONE.match(text):
            self.reporter.step_finished(step_id, detail=done.group(1))
        elif text.startswith("ERROR"):
            step.error = text.removeprefix("ERROR").lstrip(": ")
            self.failed = step
            self.reporter.step_finished(step_id, ok=False, detail=step.error)
        else:
            timed = _TIMED.match(text)
            log = timed.group(1) if timed else text
            step.log.append(log)
            self.reporter.step_log(step_id, log)
            context = _CONTEXT.search(text) if step.name.startswith("[internal] load build context") else None
            if context:
                self.context_bytes = int(float(context.group(1)) * _UNITS[context.group(2)])

    def failure(self) -> tuple[str, list[str]]:
        """(one-line summary, last log lines) of a failed build."""
        if self.failed is not None:
            log = list(self.failed.log)
            if self.failed.name.startswith("[internal] load metadata for "):
                log.append("the base image could not be pulled: map it to an image the engine has or can reach "
                           "with build.baseImages in unkey.yaml or UNKEY_BASE_IMAGES (e.g. a mirror)")
            return f"build step `{self.failed.name}` failed: {self.failed.error}", log
        last = next((line for line in reversed(self.other) if not line.startswith(" >")), None)
        return f"build failed: {last or 'the builder gave no reason'}", list(self.other)[:-1]
