from __future__ import annotations

import threading
import time

import pytest

from dcctl.reconcile.dag import Task, run_dag

pytestmark = pytest.mark.unit


def test_dependencies_run_first_and_independent_tasks_overlap() -> None:
    order: list[str] = []
    lock = threading.Lock()
    active, peak = 0, 0

    def work(name: str) -> Task[str]:
        def run() -> None:
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.05)
            with lock:
                active -= 1
                order.append(name)

        deps = {"subnet": {"network"}, "interface": {"subnet", "router"}}.get(name, set())
        return Task(name, run, frozenset(deps))

    result = run_dag(
        [work(n) for n in ("interface", "subnet", "network", "router", "user")], workers=4
    )
    assert result.ok
    assert order.index("network") < order.index("subnet") < order.index("interface")
    assert order.index("router") < order.index("interface")
    assert peak >= 2


def test_failure_skips_only_dependents() -> None:
    ran: list[str] = []

    def ok(name: str) -> Task[str]:
        return Task(name, lambda: ran.append(name))

    def boom() -> None:
        raise RuntimeError("503")

    tasks = [
        Task("network", boom),
        Task("subnet", lambda: ran.append("subnet"), frozenset({"network"})),
        Task("interface", lambda: ran.append("interface"), frozenset({"subnet"})),
        ok("user"),
        ok("quota"),
    ]
    result = run_dag(tasks, workers=2)
    assert set(result.failed) == {"network"}
    assert sorted(result.skipped) == ["interface", "subnet"]
    assert sorted(ran) == ["quota", "user"]


def test_dependency_outside_the_set_counts_as_met() -> None:
    ran: list[str] = []
    result = run_dag([Task("rule", lambda: ran.append("rule"), frozenset({"group"}))])
    assert result.ok and ran == ["rule"]


def test_cycle_is_skipped_not_hung() -> None:
    result = run_dag(
        [
            Task("a", lambda: None, frozenset({"b"})),
            Task("b", lambda: None, frozenset({"a"})),
        ]
    )
    assert sorted(result.skipped) == ["a", "b"]
