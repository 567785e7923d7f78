"""Pid records: /proc parsing, identity by pid AND start time, and stopping real processes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dcctl.sandbox import processes
from dcctl.sandbox.processes import ProcessRecord, RecordStore

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"


def fake_proc(tmp_path: Path, pid: int, stat_file: str) -> Path:
    root = tmp_path / "proc"
    (root / str(pid)).mkdir(parents=True)
    shutil.copy(DATA / stat_file, root / str(pid) / "stat")
    return root


def test_parse_stat_reads_state_group_session_and_start_time() -> None:
    stat = processes.parse_stat((DATA / "stat_plain.txt").read_text())
    assert (stat.pid, stat.state, stat.pgid, stat.session, stat.start_time) == (
        12345,
        "S",
        12345,
        12345,
        987654,
    )


def test_parse_stat_survives_spaces_and_parentheses_in_the_command_name() -> None:
    stat = processes.parse_stat((DATA / "stat_parens.txt").read_text())
    assert (stat.pid, stat.state, stat.pgid, stat.session, stat.start_time) == (
        4242,
        "S",
        4000,
        4000,
        555,
    )


def test_record_matches_only_the_same_pid_and_start_time(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 12345, "stat_plain.txt")
    assert ProcessRecord("keystone", 12345, 987654).alive(proc)
    # Same pid, another start time: the pid was reused by another process.
    assert not ProcessRecord("keystone", 12345, 987653).alive(proc)
    # No such pid at all.
    assert not ProcessRecord("keystone", 54321, 987654).alive(proc)


def test_a_zombie_is_not_alive(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, 777, "stat_zombie.txt")
    assert not ProcessRecord("glance", 777, 4242).alive(proc)


def test_record_store_round_trip(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "processes.json")
    assert store.load() == {}
    first = ProcessRecord("keystone", 10, 100, ("python", "-m", "x"))
    store.put(first)
    store.put(ProcessRecord("glance", 11, 101))
    assert store.load()["keystone"] == first
    store.drop("glance")
    assert set(store.load()) == {"keystone"}


def test_stop_kills_our_process_but_never_a_reused_pid() -> None:
    ours = subprocess.Popen(["sleep", "60"], start_new_session=True)
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        ours_stat = processes.read_stat(ours.pid)
        stranger_stat = processes.read_stat(stranger.pid)
        assert ours_stat is not None
        assert stranger_stat is not None
        stale = ProcessRecord("stale", stranger.pid, stranger_stat.start_time + 7)
        live = ProcessRecord("ours", ours.pid, ours_stat.start_time)

        outcomes = {rec.service: outcome for rec, outcome in processes.stop_all([stale, live])}

        assert outcomes == {"stale": "stale", "ours": "stopped"}
        assert stranger.poll() is None
        assert ours.wait(timeout=5) is not None
    finally:
        for proc in (ours, stranger):
            proc.kill()
            proc.wait()


def test_stop_escalates_to_sigkill_when_sigterm_is_ignored() -> None:
    stubborn = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
        start_new_session=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stubborn.stdout is not None
        assert stubborn.stdout.readline() == "ready\n"  # the trap is in place
        stat = processes.read_stat(stubborn.pid)
        assert stat is not None
        record = ProcessRecord("stubborn", stubborn.pid, stat.start_time)
        assert processes.stop(record, timeout=0.5) == "killed"
        assert stubborn.wait(timeout=5) is not None
    finally:
        stubborn.kill()
        stubborn.wait()


def test_session_members_include_forked_children() -> None:
    parent = subprocess.Popen(["sh", "-c", "sleep 60 & wait"], start_new_session=True)
    try:
        stat = processes.read_stat(parent.pid)
        assert stat is not None
        record = ProcessRecord("parent", parent.pid, stat.start_time)
        for _ in range(50):
            members = processes.session_members(record)
            if len(members) >= 2:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert parent.pid in members
        assert len(members) == 2
        # A record naming the same pid with another start time owns no session.
        assert processes.session_members(ProcessRecord("x", parent.pid, stat.start_time + 1)) == []
    finally:
        processes.stop_all([ProcessRecord("parent", parent.pid, stat.start_time)], timeout=2)
        parent.wait()
