"""The hash-chained audit log: appends, tamper detection, concurrent writers, redaction."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from dcctl.audit import AuditEvent, AuditLog, record_hash
from dcctl.errors import DataError

pytestmark = pytest.mark.unit


def _event(n: int, **extra: object) -> AuditEvent:
    return AuditEvent(
        action="create",
        resource=f"network net-{n}",
        agency="soyte",
        cloud="sandbox",
        cloud_user="admin",
        after={"name": f"net-{n}", "cidr": f"10.{n}.0.0/24", **extra},
    )


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "audit" / "audit.jsonl")
    for n in range(5):
        audit.append(_event(n))
    return audit


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines(keepends=True)


def test_intact_chain_verifies(log: AuditLog) -> None:
    result = log.verify()
    assert result.ok, result.problems
    assert result.records == 5
    records = list(log.records())
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[1]["prev"] == records[0]["hash"]
    assert result.head == records[-1]["hash"]
    assert records[0]["operator"]


def test_edited_line_is_detected(log: AuditLog) -> None:
    lines = _lines(log)
    lines[2] = lines[2].replace("10.2.0.0/24", "10.99.0.0/24")
    log.path.write_text("".join(lines))
    result = log.verify()
    assert not result.ok
    assert [p.line for p in result.problems] == [3]
    assert "edited" in result.problems[0].reason


def test_removed_line_is_detected(log: AuditLog) -> None:
    lines = _lines(log)
    del lines[1]
    log.path.write_text("".join(lines))
    result = log.verify()
    assert not result.ok
    assert result.problems[0].line == 2
    assert any("link broken" in p.reason for p in result.problems)


def test_reordered_lines_are_detected(log: AuditLog) -> None:
    lines = _lines(log)
    lines[1], lines[3] = lines[3], lines[1]
    log.path.write_text("".join(lines))
    assert {p.line for p in log.verify().problems} >= {2, 4}


def test_rehashed_forgery_still_breaks_the_next_link(log: AuditLog) -> None:
    """Recomputing the edited line's own hash is not enough: the next line points at the old one."""
    lines = _lines(log)
    record = json.loads(lines[1])
    record["after"]["cidr"] = "0.0.0.0/0"
    record["hash"] = record_hash(record)
    lines[1] = json.dumps(record) + "\n"
    log.path.write_text("".join(lines))
    problems = log.verify().problems
    assert [p.line for p in problems] == [3]


def test_secrets_never_written(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.jsonl")
    audit.append(
        AuditEvent(
            action="create",
            resource="user soyte.admin",
            after={"name": "soyte.admin", "password": "Hunter2-Secret"},
            detail={"nested": [{"token": "gAAAA-token"}]},
        )
    )
    text = audit.path.read_text()
    assert "Hunter2-Secret" not in text
    assert "gAAAA-token" not in text
    assert audit.verify().ok


def test_damaged_tail_refuses_to_extend(log: AuditLog) -> None:
    with log.path.open("a") as handle:
        handle.write('{"seq": 6, "half a line\n')
    with pytest.raises(DataError, match="damaged"):
        log.append(_event(7))


def _writer(path: str, worker: int) -> None:
    audit = AuditLog(Path(path))
    for n in range(20):
        audit.append(_event(worker * 100 + n))


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(str(path), w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    result = AuditLog(path).verify()
    assert result.ok, result.problems
    assert result.records == 80
