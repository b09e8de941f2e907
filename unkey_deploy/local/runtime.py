"""Runtimes carry a deployment from PENDING to READY: `simulate` pretends, `docker` runs the image.

A runtime reports each transition through `advance(status, message)` and returns where the deployment
answers, or raises `RuntimeFailure` naming the step that failed and why.
"""

from __future__ import annotations

import fnmatch
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from unkey_deploy.local.store import Deployment

Advance = Callable[[str, str], None]
INTERMEDIATE_STEPS = ("deploying", "network")


class RuntimeFailure(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.message = message


class Cancelled(Exception):
    """The control plane is shutting down while a deployment was in progress."""


@dataclass
class Placement:
    hostnames: list[str]
    port: int | None = None
    container_id: str | None = None


class Runtime(Protocol):
    name: str

    def describe(self) -> str:
        """One line for the startup banner saying what this runtime does."""
        ...

    def deploy(self, deployment: Deployment, advance: Advance) -> Placement: ...

    def stop(self, deployment: Deployment) -> None: ...

    def start(self, deployment: Deployment) -> None: ...


@dataclass
class SimulateRuntime:
    """The state machine without running anything: for demos, tests and latency benchmarks.

    The deployment spends `ready_after` seconds (a fixed value or a random one in a range) before
    READY, shared equally between PENDING and each status in `steps`, except the statuses given a fixed
    time in `step_times` (e.g. a short NETWORK, as on Unkey); images matching `fail_images` fail while
    deploying.
    """

    stopping: threading.Event
    step_delay: float = 0.3
    ready_after: tuple[float, float] | None = None
    steps: tuple[str, ...] = INTERMEDIATE_STEPS
    fail_images: str = "*fail*"
    step_times: Mapping[str, float] = field(default_factory=dict)
    name: str = field(default="simulate", init=False)
    variables: Callable[[Deployment], dict[str, str]] | None = None  # set by `unkey local serve`
    logs: Any = None  # a log_capture.LogSink: the simulated container's output goes there

    def describe(self) -> str:
        return "runtime simulate: NOTHING RUNS, deployments only walk through their statuses"

    def deploy(self, deployment: Deployment, advance: Advance) -> Placement:
        fixed = {s: self.step_times[s] for s in self.steps if s in self.step_times}
        if self.ready_after:
            shared = len(self.steps) + 1 - len(fixed)
            delay = max(random.uniform(*self.ready_after) - sum(fixed.values()), 0.0) / shared
        else:
            delay = self.step_delay
        self._wait(delay)
        failing = bool(self.fail_images) and fnmatch.fnmatchcase(deployment.image, self.fail_images)
        for status in self.steps:
            advance(status, _STEP_MESSAGES.get(status, status))
            if failing and status == "deploying":
                break
            self._wait(fixed.get(status, delay))
        names = sorted(self.variables(deployment)) if self.variables else []
        self._output(deployment, "stdout", f"simulated container of {deployment.image} started with "
                     f"{len(names)} runtime variables{': ' + ', '.join(names) if names else ''}")
        if failing:
            self._output(deployment, "stderr", f"simulated crash: image {deployment.image} matches --fail-images")
            raise RuntimeFailure(
                "deploying",
                f"simulated failure: image {deployment.image} matches --fail-images {self.fail_images!r}",
            )
        return Placement([simulated_hostname(deployment)])

    def stop(self, deployment: Deployment) -> None:
        pass

    def start(self, deployment: Deployment) -> None:
        pass

    def _output(self, deployment: Deployment, stream: str, line: str) -> None:
        if self.logs is not None:
            from unkey_deploy.local.store import now_ms

            self.logs.write(deployment, [(now_ms(), stream, line)])

    def _wait(self, seconds: float) -> None:
        if self.stopping.wait(max(seconds, 0.0)):
            raise Cancelled()


_STEP_MESSAGES = {
    "deploying": "Deploying image (simulated)",
    "network": "Assigning domains (simulated)",
}


def simulated_hostname(deployment: Deployment) -> str:
    label = f"{deployment.project}-{deployment.app}-{deployment.environment}-{deployment.id[2:10]}"
    return re.sub(r"[^a-z0-9-]", "-", label.lower()) + ".localhost"


def parse_seconds_range(value: str) -> tuple[float, float]:
    """`5` → (5, 5); `2-20` → (2, 20). Raises ValueError with the reason."""
    low, _, high = value.partition("-")
    lo = float(low)
    hi = float(high) if high else lo
    if lo < 0 or hi < lo:
        raise ValueError(f"{value!r} is not SECONDS or MIN-MAX with 0 <= MIN <= MAX")
    return lo, hi
