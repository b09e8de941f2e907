"""The simulate runtime's timing options: --steps with fixed times per status."""

from __future__ import annotations

import threading
import time

import pytest

from unkey_deploy.errors import UsageError
from unkey_deploy.local.runtime import SimulateRuntime
from unkey_deploy.local.serve import parse_steps


def test_parse_steps_with_fixed_times():
    assert parse_steps("deploying,network=0.5") == (("deploying", "network"), {"network": 0.5})
    assert parse_steps("none") == ((), {})
    with pytest.raises(UsageError):
        parse_steps("network=soon")
    with pytest.raises(UsageError):
        parse_steps("teleporting")


def test_fixed_step_time_is_kept_and_the_rest_is_shared():
    runtime = SimulateRuntime(threading.Event(), ready_after=(1.0, 1.0), steps=("network",),
                              step_times={"network": 0.2}, fail_images="")
    seen: list[tuple[str, float]] = []
    started = time.monotonic()

    class D:
        id, image, project, app, environment = "d_1", "img", "p", "a", "e"

    runtime.deploy(D(), lambda status, message: seen.append((status, time.monotonic() - started)))  # type: ignore[arg-type]
    total = time.monotonic() - started
    assert [s for s, _ in seen] == ["network"]
    assert seen[0][1] == pytest.approx(0.8, abs=0.15)  # PENDING takes what NETWORK leaves of the second
    assert total == pytest.approx(1.0, abs=0.15)
