"""Run tasks in dependency order on a thread pool.

Independent work (users, quotas, networks of one agency) goes out concurrently; a task whose
dependency failed is skipped, not attempted, while unrelated branches still finish — so one
failure leaves as much converged as possible for the next run to build on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Task(Generic[K]):
    key: K
    run: Callable[[], None]
    depends_on: frozenset[K] = frozenset()


@dataclass
class DagResult(Generic[K]):
    done: list[K] = field(default_factory=list)
    failed: dict[K, BaseException] = field(default_factory=dict)
    skipped: list[K] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


def run_dag(
    tasks: Iterable[Task[K]],
    *,
    workers: int = 4,
    stop: threading.Event | None = None,
) -> DagResult[K]:
    """Run every task after its dependencies; dependencies outside ``tasks`` count as met."""
    pending = {task.key: task for task in tasks}
    known = set(pending)
    waiting_on = {key: set(task.depends_on) & known for key, task in pending.items()}
    result: DagResult[K] = DagResult()
    running: dict[Future[None], K] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="dcctl") as pool:
        while pending or running:
            if stop is None or not stop.is_set():
                for key in [k for k in pending if not waiting_on[k]]:
                    task = pending.pop(key)
                    running[pool.submit(task.run)] = key
            elif not running:
                result.skipped.extend(pending)
                break
            if not running:
                # Everything left waits on something that failed (or a cycle): skip it.
                result.skipped.extend(pending)
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                key = running.pop(future)
                error = future.exception()
                if error is None:
                    result.done.append(key)
                    for deps in waiting_on.values():
                        deps.discard(key)
                else:
                    result.failed[key] = error
                    _skip_dependents(key, pending, waiting_on, result)
    return result


def _skip_dependents(
    failed: K,
    pending: dict[K, Task[K]],
    waiting_on: dict[K, set[K]],
    result: DagResult[K],
) -> None:
    blocked = [failed]
    while blocked:
        current = blocked.pop()
        for key in [k for k in pending if current in waiting_on[k]]:
            pending.pop(key)
            result.skipped.append(key)
            blocked.append(key)
