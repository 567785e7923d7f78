"""Supervise the sandbox's background processes by pid *and* start time.

A pid alone is not an identity: once a service dies its pid can be given to an unrelated process.
Each record therefore keeps the process start time (field 22 of ``/proc/<pid>/stat``, clock ticks
since boot); a record whose pid now has another start time is stale and is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dcctl.errors import DataError
from dcctl.sandbox import subproc

PROC = Path("/proc")
#: Environment variable every service process carries (for humans reading ``ps e``).
MARKER_ENV = "DCCTL_SANDBOX"


@dataclass(frozen=True)
class ProcStat:
    pid: int
    state: str
    pgid: int
    session: int
    start_time: int


def parse_stat(text: str) -> ProcStat:
    """Parse ``/proc/<pid>/stat``; the command name may contain spaces and parentheses."""
    head, _, rest = text.rpartition(")")
    pid = int(head.split("(", 1)[0])
    fields = rest.split()
    # fields[0] is field 3 (state); field N is fields[N - 3].
    return ProcStat(
        pid=pid,
        state=fields[0],
        pgid=int(fields[2]),
        session=int(fields[3]),
        start_time=int(fields[19]),
    )


def read_stat(pid: int, proc: Path = PROC) -> ProcStat | None:
    try:
        return parse_stat((proc / str(pid) / "stat").read_text(encoding="utf-8"))
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class ProcessRecord:
    """One process the sandbox started."""

    service: str
    pid: int
    start_time: int
    argv: tuple[str, ...] = ()

    def matches(self, stat: ProcStat | None) -> bool:
        """True if ``stat`` is this very process and it has not exited (zombies are dead)."""
        return (
            stat is not None
            and stat.pid == self.pid
            and stat.start_time == self.start_time
            and stat.state not in ("Z", "X")
        )

    def alive(self, proc: Path = PROC) -> bool:
        return self.matches(read_stat(self.pid, proc))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["argv"] = list(self.argv)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessRecord:
        return cls(
            service=str(data["service"]),
            pid=int(data["pid"]),
            start_time=int(data["start_time"]),
            argv=tuple(str(arg) for arg in data.get("argv", ())),
        )


class RecordStore:
    """``processes.json``: the records of one sandbox, rewritten atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, ProcessRecord]:
        if not self.path.is_file():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {
                item["service"]: ProcessRecord.from_json(item) for item in raw.get("processes", [])
            }
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(
                f"{self.path}: unreadable process records ({error})",
                hint="delete the file after checking no sandbox process is left (ps)",
            ) from error

    def save(self, records: Mapping[str, ProcessRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"processes": [record.to_json() for record in records.values()]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self.path)

    def put(self, record: ProcessRecord) -> None:
        records = self.load()
        records[record.service] = record
        self.save(records)

    def drop(self, service: str) -> None:
        records = self.load()
        if records.pop(service, None) is not None:
            self.save(records)


def start(
    service: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path,
    store: RecordStore,
    proc: Path = PROC,
) -> ProcessRecord:
    """Spawn ``argv`` in the background and record it before returning."""
    pid = subproc.spawn(argv, env=env, log_path=log_path, cwd=cwd)
    stat = None
    for _ in range(100):
        stat = read_stat(pid, proc)
        if stat is not None:
            break
        time.sleep(0.01)
    record = ProcessRecord(
        service=service,
        pid=pid,
        start_time=stat.start_time if stat else -1,
        argv=tuple(argv),
    )
    store.put(record)
    return record


def _signal_group(record: ProcessRecord, sig: signal.Signals, proc: Path) -> bool:
    """Signal the record's process group (its session: children too) if it is still ours."""
    stat = read_stat(record.pid, proc)
    if not record.matches(stat):
        return False
    try:
        if stat is not None and stat.pgid == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)
    except ProcessLookupError:
        return False
    return True


def stop(
    record: ProcessRecord,
    *,
    timeout: float = 10.0,
    proc: Path = PROC,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """SIGTERM, then SIGKILL after ``timeout``; returns ``stopped``, ``killed`` or ``stale``.

    A record that no longer matches a live process (pid gone or reused) is ``stale`` and nothing
    is signalled.
    """
    if not _signal_group(record, signal.SIGTERM, proc):
        subproc.reap(record.pid)
        return "stale"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        subproc.reap(record.pid)
        if not record.alive(proc):
            return "stopped"
        sleep(0.1)
    _signal_group(record, signal.SIGKILL, proc)
    for _ in range(50):
        subproc.reap(record.pid)
        if not record.alive(proc):
            break
        sleep(0.1)
    return "killed"


def stop_all(
    records: Sequence[ProcessRecord],
    *,
    timeout: float = 10.0,
    proc: Path = PROC,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[ProcessRecord, str]]:
    """Stop many processes at once: SIGTERM to all, wait together, SIGKILL the stragglers.

    Signalling all first keeps ``down`` as slow as the slowest service, not their sum.
    """
    outcome: dict[int, str] = {}
    for index, record in enumerate(records):
        if not _signal_group(record, signal.SIGTERM, proc):
            subproc.reap(record.pid)
            outcome[index] = "stale"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [i for i in range(len(records)) if i not in outcome]
        for index in left:
            subproc.reap(records[index].pid)
            if not records[index].alive(proc):
                outcome[index] = "stopped"
        if len(outcome) == len(records):
            break
        sleep(0.1)
    for index, record in enumerate(records):
        if index in outcome:
            continue
        _signal_group(record, signal.SIGKILL, proc)
        outcome[index] = "killed"
    for _ in range(50):
        pending = [r for i, r in enumerate(records) if outcome[i] == "killed" and r.alive(proc)]
        for record in pending:
            subproc.reap(record.pid)
        if not pending:
            break
        sleep(0.1)
    return [(record, outcome[index]) for index, record in enumerate(records)]


def all_stats(proc: Path = PROC) -> list[ProcStat]:
    stats: list[ProcStat] = []
    for entry in proc.iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name), proc)
            if stat is not None and stat.state not in ("Z", "X"):
                stats.append(stat)
    return stats


def session_members(
    record: ProcessRecord, proc: Path = PROC, stats: list[ProcStat] | None = None
) -> list[int]:
    """Every live process of the record's session: the service and the children it forked.

    Services start in a session of their own (sid = their pid), and their workers, forks and
    helpers inherit it. The session is ours while its leader matches the record, or once the
    leader is gone (no new process can then be its leader). A leader pid that now belongs to
    another process means the session id was reused: nothing in it is ours.
    """
    leader = read_stat(record.pid, proc)
    if leader is not None and not record.matches(leader):
        return []
    stats = all_stats(proc) if stats is None else stats
    return sorted(stat.pid for stat in stats if stat.session == record.pid)


def kill_orphans(records: Sequence[ProcessRecord], proc: Path = PROC) -> int:
    """SIGKILL what is left in the records' sessions after their leaders stopped.

    Call it only with records whose leader was verified and stopped moments ago.
    """
    stats = all_stats(proc)
    pids = [pid for record in records for pid in session_members(record, proc, stats)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        subproc.reap(pid)
    return len(pids)


def session_rss(
    record: ProcessRecord, proc: Path = PROC, stats: list[ProcStat] | None = None
) -> int:
    return sum(rss_bytes(pid, proc) for pid in session_members(record, proc, stats))


def renice(pid: int, niceness: int, proc: Path = PROC) -> None:
    """Set the niceness of ``pid``: of its scheduler autogroup and of each of its threads.

    Every service runs in a session of its own, and with autogroup scheduling (the Linux
    default) each session is a group that gets a fair share whatever its threads' nice values:
    the group's own nice (``/proc/<pid>/autogroup``) is what ranks it against the others.
    """
    with contextlib.suppress(OSError):  # no autogroup support, or not allowed
        (proc / str(pid) / "autogroup").write_text(f"{niceness}\n", encoding="ascii")
    try:
        tids = [int(entry.name) for entry in (proc / str(pid) / "task").iterdir()]
    except OSError:
        return
    for tid in tids:
        with contextlib.suppress(OSError):  # gone, or not allowed (not root): keep going
            os.setpriority(os.PRIO_PROCESS, tid, niceness)


def rss_bytes(pid: int, proc: Path = PROC) -> int:
    """Resident set size of one process (0 if it is gone)."""
    try:
        for line in (proc / str(pid) / "status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0
