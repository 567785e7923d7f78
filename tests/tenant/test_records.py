"""Decommission records on disk, and which backups they keep out of the orphan scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcctl.audit import AuditEvent, AuditLog
from dcctl.errors import DataError
from dcctl.tenant.records import COMPLETED, DecommissionRecord, RecordStore, kept_backup_ids

pytestmark = pytest.mark.unit


def _record(code: str = "soyte") -> DecommissionRecord:
    return DecommissionRecord(
        site="quangngai",
        cloud="sandbox",
        code=code,
        name="Sở Y tế",
        project_id="p1",
        project_name=code,
        operator="op@host",
        cloud_user="admin@Default",
    )


def test_saved_record_reads_back_and_continues(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "decommissions")
    record = _record()
    record.final_backups.append({"id": "b1", "volume_id": "v1", "size_gb": 1})
    path = store.save(record)
    assert path.parent == tmp_path / "decommissions"
    assert path.name.startswith("quangngai-soyte-") and path.suffix == ".json"
    assert json.loads(path.read_text())["format"] == "dcctl-decommission/1"
    assert not list(path.parent.glob(".record-*"))  # no temporary file left

    reopened = store.open_record("quangngai", "soyte")
    assert reopened is not None and reopened.path == path
    assert reopened.final_backups == record.final_backups
    assert store.open_record("quangngai", "other") is None

    reopened.note_removed("server", "s1", "web")
    reopened.complete()
    store.save(reopened)
    assert store.open_record("quangngai", "soyte") is None  # completed: nothing to continue
    (done,) = list(store.records())
    assert done.status == COMPLETED and done.removed[0]["id"] == "s1"


def test_kept_backups_come_from_records_and_the_audit_log(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "decommissions")
    record = _record()
    record.final_backups.append({"id": "b-final"})
    record.kept_backups.append({"id": "b-own"})
    store.save(record)
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.append(
        AuditEvent(
            action="decommission",
            resource="project other",
            agency="other",
            detail={"final_backups": [{"id": "b-elsewhere"}], "kept_backups": []},
        )
    )
    audit.append(
        AuditEvent(action="backup", resource="volume v", detail={"id": "b-started", "final": True})
    )
    audit.append(AuditEvent(action="delete", resource="network n", detail={"id": "n1"}))
    assert kept_backup_ids(store, audit) == {"b-final", "b-own", "b-elsewhere", "b-started"}
    assert kept_backup_ids(RecordStore(tmp_path / "none")) == set()


def test_a_damaged_record_is_reported_with_its_path(tmp_path: Path) -> None:
    store = RecordStore(tmp_path)
    (tmp_path / "quangngai-x-1.json").write_text("{not json")
    with pytest.raises(DataError, match=r"quangngai-x-1\.json"):
        list(store.records())
