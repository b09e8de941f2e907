"""Deployment → outcome: watch a deployment until it is ready, fails, or time runs out.

Polling is paced to about one getDeployment call per second, with the first call ~250 ms after creation,
and tightens to every ~150 ms once the deployment reaches its last step before READY (NETWORK, then
FINALIZING), so READY is noticed within a fraction of a second without flooding the API.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from unkey_deploy.api.deployments import Deployment, DeploymentsAPI
from unkey_deploy.errors import DeadlineExceeded, DeployTimeout, TransientError
from unkey_deploy.report import Reporter, shown_status
from unkey_deploy.report.safe import MAX_LINES, text

IMMINENT = frozenset({"network", "finalizing"})
MAX_STEPS = MAX_LINES  # step lines shown per deployment; a server sending more gets a note instead


@dataclass(frozen=True)
class PollSchedule:
    first: float = 0.25
    steady: float = 1.0
    imminent: float = 0.12
    imminent_window: float = 3.0  # after this long in NETWORK, go back to a gentler pace
    after_window: float = 0.5

    def next_delay(self, status: str, seconds_in_status: float) -> float:
        if status in IMMINENT:
            return self.imminent if seconds_in_status < self.imminent_window else self.after_window
        return self.steady


@dataclass(frozen=True)
class Outcome:
    deployment_id: str
    state: Deployment
    duration_ms: int
    polls: int = field(default=0, compare=False)

    @property
    def ready(self) -> bool:
        return self.state.status == "ready"


def watch(
    api: DeploymentsAPI,
    deployment_id: str,
    reporter: Reporter,
    *,
    timeout: float,
    started: float | None = None,
    schedule: PollSchedule | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Poll until a terminal status. Transient API failures are warnings, retried until `timeout`."""
    schedule = schedule or PollSchedule()
    started = clock() if started is None else started
    deadline = started + timeout
    last_status, status_since, seen_steps, shown_steps, polls = "", started, 0, 0, 0
    delay = schedule.first

    def timed_out() -> DeployTimeout:
        return DeployTimeout(
            f"deployment {text(deployment_id, 200)} is not ready after waiting {timeout:g}s (last status: "
            f"{text(shown_status(last_status) if last_status else 'unknown', 200)}); it keeps going: check it with "
            f"`unkey deployments get {text(deployment_id, 200)}` or raise --timeout"
        )

    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            raise timed_out()
        sleep(min(delay, remaining))
        polls += 1
        try:
            state = api.get(deployment_id)
        except DeadlineExceeded:
            raise timed_out() from None
        except TransientError as exc:
            backoff = exc.retry_after if exc.retry_after is not None else min(8.0, max(1.0, delay * 2))
            reporter.warn(f"{exc.message}; retrying in {backoff:.1f}s")
            delay = backoff
            continue
        now = clock()
        new_steps = state.steps[seen_steps:]
        for step in new_steps[: max(0, MAX_STEPS - shown_steps)]:
            reporter.status(shown_status(state.status), step.error_message or step.message, now - started)
        if shown_steps <= MAX_STEPS < shown_steps + len(new_steps):
            reporter.warn(f"the API reported {shown_steps + len(new_steps):,} steps; only the first {MAX_STEPS} "
                          "are shown (see `unkey deployments get`)")
        shown_steps += len(new_steps)
        if state.status != last_status:
            if not new_steps:
                reporter.status(shown_status(state.status), "", now - started)
            last_status, status_since = state.status, now
        seen_steps = len(state.steps)
        if state.terminal:
            return Outcome(deployment_id, state, int((now - started) * 1000), polls)
        delay = schedule.next_delay(state.status, now - status_since)

