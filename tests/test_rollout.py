"""The polling loop with a fake clock: pace, imminent-READY speed-up, transient failures, timeout."""

from __future__ import annotations

import pytest

from unkey_deploy.api.deployments import Deployment
from unkey_deploy.errors import DeployTimeout, TransientError
from unkey_deploy.report import Reporter
from unkey_deploy.rollout import PollSchedule, watch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedAPI:
    """Answers by the fake clock: a list of (from_time, status) and optional failures at given polls."""

    def __init__(self, clock: Clock, timeline: list[tuple[float, str]], fail_polls: set[int] = frozenset()):
        self.clock, self.timeline, self.fail_polls, self.polls = clock, timeline, fail_polls, 0

    def get(self, deployment_id: str) -> Deployment:
        self.polls += 1
        if self.polls in self.fail_polls:
            raise TransientError("server error 503: unavailable", retry_after=None)
        status = [s for t, s in self.timeline if t <= self.clock.now][-1]
        return Deployment(id=deployment_id, status=status.lower())


class Recorder(Reporter):
    def __init__(self) -> None:
        self.statuses: list[str] = []
        self.warnings: list[str] = []

    def status(self, status: str, message: str, elapsed: float) -> None:
        self.statuses.append(status)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def run(timeline, *, timeout=600.0, fail_polls=frozenset()):
    clock = Clock()
    api = ScriptedAPI(clock, timeline, fail_polls)
    reporter = Recorder()
    outcome = watch(api, "d_1", reporter, timeout=timeout, clock=clock.time, sleep=clock.sleep)  # type: ignore[arg-type]
    return outcome, clock, api, reporter


def test_first_poll_is_quick_then_about_one_per_second():
    outcome, clock, api, reporter = run([(0, "PENDING"), (10.0, "READY")])
    assert clock.sleeps[0] == pytest.approx(0.25)
    assert outcome.ready
    assert api.polls / clock.now <= 1.1
    assert clock.now - 10.0 < 1.0  # noticed within one interval
    assert reporter.statuses == ["PENDING", "READY"]


def test_network_phase_polls_fast_so_ready_is_noticed_quickly():
    outcome, clock, _, reporter = run([(0, "PENDING"), (5.0, "NETWORK"), (5.5, "READY")])
    assert outcome.ready
    assert clock.now - 5.5 <= PollSchedule().imminent + 1e-9
    assert reporter.statuses == ["PENDING", "NETWORK", "READY"]


def test_long_network_phase_backs_off():
    schedule = PollSchedule()
    assert schedule.next_delay("network", 0.5) == schedule.imminent
    assert schedule.next_delay("network", schedule.imminent_window + 1) > schedule.imminent
    assert schedule.next_delay("deploying", 0.5) == schedule.steady


def test_transient_failures_are_warnings_not_failures():
    outcome, _, _, reporter = run([(0, "PENDING"), (3.0, "READY")], fail_polls={2, 3})
    assert outcome.ready
    assert len(reporter.warnings) == 2


def test_timeout_raises_with_how_to_check_later():
    with pytest.raises(DeployTimeout) as info:
        run([(0, "DEPLOYING")], timeout=5)
    assert "d_1" in info.value.message and "5s" in info.value.message


def test_failed_is_terminal():
    outcome, *_ = run([(0, "PENDING"), (2.0, "FAILED")])
    assert not outcome.ready and outcome.state.status == "failed"
