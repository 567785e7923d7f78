"""Waiting for asynchronous cloud work, on a fake clock."""

from __future__ import annotations

import pytest

from dcctl.errors import CloudError
from dcctl.progress import RecordingReporter
from dcctl.tenant.waiting import Waiting, wait_all

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_waits_until_every_item_is_done_and_reports_progress() -> None:
    clock = FakeClock()
    left = {"a": 3, "b": 10}

    def probe(item: str) -> str | None:
        left[item] -= 1
        return None if left[item] <= 0 else "creating"

    reporter = RecordingReporter()
    wait_all(
        {"a": "vol-a", "b": "vol-b"},
        probe,
        what="backups",
        reporter=reporter,
        waiting=Waiting(timeout_s=100, poll_s=2, report_every_s=10, clock=clock, sleep=clock.sleep),
    )
    assert left == {"a": 0, "b": 0}
    assert clock.now == 18  # 9 rounds of 2 s for b
    assert reporter.steps and reporter.steps[0][:2] == ("backups", "waiting")
    assert "vol-b creating" in reporter.steps[0][2]


def test_times_out_naming_what_is_left() -> None:
    clock = FakeClock()
    with pytest.raises(CloudError, match=r"vol-a \(creating\)"):
        wait_all(
            {"a": "vol-a"},
            lambda item: "creating",
            what="backups",
            reporter=RecordingReporter(),
            waiting=Waiting(timeout_s=10, poll_s=2, clock=clock, sleep=clock.sleep),
        )


def test_a_failure_of_the_probe_stops_the_wait() -> None:
    def probe(item: str) -> str | None:
        raise CloudError("backup failed")

    with pytest.raises(CloudError, match="backup failed"):
        wait_all({"a": "x"}, probe, what="w", reporter=RecordingReporter(), waiting=Waiting())


def test_lock_check_runs_every_round() -> None:
    clock = FakeClock()
    calls = []
    rounds = iter(["creating", None])
    wait_all(
        {"a": "x"},
        lambda item: next(rounds),
        what="w",
        reporter=RecordingReporter(),
        waiting=Waiting(clock=clock, sleep=clock.sleep),
        check=lambda: calls.append(1),
    )
    assert len(calls) == 2
