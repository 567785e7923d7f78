"""The sandbox lifecycle against the real ``dcctl-test`` sandbox: idempotence and a clean stop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dcctl.sandbox import processes
from dcctl.sandbox.handle import SandboxHandle
from dcctl.sandbox.lifecycle import Sandbox

pytestmark = pytest.mark.integration


def _pids(box: Sandbox) -> dict[str, tuple[int, int]]:
    return {name: (rec.pid, rec.start_time) for name, rec in box.store.load().items()}


def _processes_mentioning(path: Path) -> list[int]:
    """Live pids whose command line names the sandbox's state dir (configs live there)."""
    needle = str(path).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        stat = processes.read_stat(int(entry.name))
        if needle in cmdline and stat is not None and stat.state != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    stat = processes.read_stat(pid)
    return stat is not None and stat.state not in ("Z", "X")


def test_second_up_is_a_no_op(sandbox: SandboxHandle) -> None:
    box = Sandbox(sandbox.name)
    before = _pids(box)
    result = subprocess.run(
        [sys.executable, "-m", "dcctl", "sandbox", "up", "--name", sandbox.name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert _pids(box) == before


def test_status_reports_every_service_up(sandbox: SandboxHandle) -> None:
    status = Sandbox(sandbox.name).status()
    assert status.running
    assert all(item.pid for item in status.services)
    assert status.rss_bytes > 0


def test_down_stops_everything_but_a_stale_record_and_up_restarts(
    sandbox: SandboxHandle,
) -> None:
    box = Sandbox(sandbox.name)
    # A foreign process, and a record that names its pid with another start time: the shape of
    # a record whose service died and whose pid the kernel gave to somebody else.
    stranger = subprocess.Popen(["sleep", "300"])
    try:
        stat = processes.read_stat(stranger.pid)
        assert stat is not None
        box.store.put(
            processes.ProcessRecord("stale-probe", stranger.pid, stat.start_time + 1, ("sleep",))
        )
        sessions = [rec for rec in box.store.load().values() if rec.service != "stale-probe"]
        members = {pid for rec in sessions for pid in processes.session_members(rec)}
        assert len(members) > len(sessions)  # workers and forks beyond the recorded leaders

        result = box.down()

        outcomes = {item.service: item.outcome for item in result.outcomes}
        assert outcomes.pop("stale-probe") == "stale"
        assert set(outcomes.values()) <= {"stopped", "killed"}
        assert stranger.poll() is None, "a stale record must never kill the process now at its pid"
        assert [pid for pid in members if _alive(pid)] == []
        assert _processes_mentioning(sandbox.state_dir) == []
        assert box.store.load() == {}
    finally:
        stranger.kill()
        stranger.wait()
        restarted = box.up()  # later tests still need the sandbox
    assert not restarted.already_running
    assert not restarted.migrated
