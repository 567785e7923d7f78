"""Wait for asynchronous cloud work (a backup to finish, a server to be gone) with progress."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dcctl.errors import CloudError
from dcctl.progress import Reporter


@dataclass(frozen=True)
class Waiting:
    timeout_s: float = 1800.0
    poll_s: float = 2.0
    report_every_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def wait_all(
    items: dict[str, str],
    probe: Callable[[str], str | None],
    *,
    what: str,
    reporter: Reporter,
    waiting: Waiting,
    check: Callable[[], None] = lambda: None,
) -> None:
    """Poll until ``probe(id)`` returns None (done) for every id of ``items`` (id → label).

    ``probe`` returns the current status while the item is not done yet and raises when it
    can never be (e.g. a backup in ``error``). Progress goes to ``reporter`` every
    ``report_every_s`` seconds; ``check`` runs on each round (the lock's lease check).
    """
    pending = dict(items)
    started = waiting.clock()
    last_report = started
    while pending:
        check()
        statuses = {item: probe(item) for item in list(pending)}
        for item, status in statuses.items():
            if status is None:
                pending.pop(item)
        if not pending:
            return
        now = waiting.clock()
        elapsed = now - started
        if elapsed >= waiting.timeout_s:
            left = ", ".join(f"{pending[i]} ({statuses[i]})" for i in sorted(pending))
            raise CloudError(
                f"{what}: still not done after {elapsed:.0f} s: {left}",
                hint="look at the cloud's service logs, then re-run the same command",
            )
        if now - last_report >= waiting.report_every_s:
            left = ", ".join(f"{pending[i]} {statuses[i]}" for i in sorted(pending)[:4])
            more = f" and {len(pending) - 4} more" if len(pending) > 4 else ""
            reporter.step(what, "waiting", f"{elapsed:.0f} s: {left}{more}")
            last_report = now
        waiting.sleep(waiting.poll_s)
