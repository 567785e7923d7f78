"""Decommission records: what a ``tenant delete --purge`` kept (the final backups) and removed.

One JSON file per decommission under ``<state dir>/decommissions/<site>-<code>-<UTC time>.json``,
written atomically (temporary file, fsync, rename). The record is first written as soon as the
final backups exist (status ``in-progress``), so the backups are on file even if dcctl dies
before the end; a re-run of the same delete continues that record and marks it ``completed``.
The orphan scan never reports a backup that a record keeps.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dcctl.audit import AuditLog
from dcctl.errors import DataError
from dcctl.paths import state_dir

FORMAT = "dcctl-decommission/1"
IN_PROGRESS = "in-progress"
COMPLETED = "completed"


def records_dir() -> Path:
    return state_dir() / "decommissions"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class DecommissionRecord:
    site: str
    cloud: str
    code: str
    name: str
    project_id: str | None
    project_name: str | None
    operator: str
    cloud_user: str
    started_at: str = field(default_factory=_now)
    finished_at: str | None = None
    status: str = IN_PROGRESS
    final_backups: list[dict[str, Any]] = field(default_factory=list)
    kept_backups: list[dict[str, Any]] = field(default_factory=list)  # the agency's own
    removed: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None

    @property
    def backup_ids(self) -> set[str]:
        return {str(b["id"]) for b in [*self.final_backups, *self.kept_backups] if b.get("id")}

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "site": self.site,
            "cloud": self.cloud,
            "agency": {"code": self.code, "name": self.name},
            "project": {"id": self.project_id, "name": self.project_name},
            "operator": self.operator,
            "cloud_user": self.cloud_user,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "final_backups": self.final_backups,
            "kept_backups": self.kept_backups,
            "removed": self.removed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path | None = None) -> DecommissionRecord:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a decommission record (format {FORMAT} expected)")
        return cls(
            site=str(data["site"]),
            cloud=str(data["cloud"]),
            code=str(data["agency"]["code"]),
            name=str(data["agency"].get("name", "")),
            project_id=data["project"].get("id"),
            project_name=data["project"].get("name"),
            operator=str(data.get("operator", "")),
            cloud_user=str(data.get("cloud_user", "")),
            started_at=str(data.get("started_at", "")),
            finished_at=data.get("finished_at"),
            status=str(data.get("status", IN_PROGRESS)),
            final_backups=list(data.get("final_backups", [])),
            kept_backups=list(data.get("kept_backups", [])),
            removed=list(data.get("removed", [])),
            path=path,
        )

    def note_removed(self, kind: str, resource_id: str, name: str) -> None:
        self.removed.append({"kind": kind, "id": resource_id, "name": name, "at": _now()})

    def complete(self) -> None:
        self.status = COMPLETED
        self.finished_at = _now()


class RecordStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or records_dir()

    def new_path(self, site: str, code: str) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return self.directory / f"{site}-{code}-{stamp}.json"

    def save(self, record: DecommissionRecord) -> Path:
        if record.path is None:
            record.path = self.new_path(record.site, record.code)
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(record.as_dict(), indent=1, ensure_ascii=False) + "\n"
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".record-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temporary).replace(record.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return record.path

    def records(self) -> Iterator[DecommissionRecord]:
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                yield DecommissionRecord.from_dict(data, path)
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise DataError(
                    f"{path}: not a readable decommission record ({error})",
                    hint="restore it from a backup or move it out of the directory",
                ) from error

    def open_record(self, site: str, code: str) -> DecommissionRecord | None:
        """The unfinished record of an interrupted delete of this agency, if any."""
        found = [
            record
            for record in self.records()
            if record.site == site and record.code == code and record.status != COMPLETED
        ]
        return found[-1] if found else None


def kept_backup_ids(store: RecordStore, audit_log: AuditLog | None = None) -> set[str]:
    """Every backup a decommission kept: from the record files and, for records written on
    another operator's machine, from the ``decommission`` events of the (shared) audit log."""
    ids: set[str] = set()
    for record in store.records():
        ids |= record.backup_ids
    if audit_log is not None:
        ids |= _audit_backup_ids(audit_log.records())
    return ids


def _audit_backup_ids(records: Iterable[dict[str, Any]]) -> set[str]:
    ids: set[str] = set()
    for record in records:
        if record.get("action") not in ("decommission", "backup"):
            continue
        detail = record.get("detail") or {}
        for key in ("final_backups", "kept_backups"):
            ids |= {str(item["id"]) for item in detail.get(key, []) if isinstance(item, dict)}
        if record.get("action") == "backup" and detail.get("final") and detail.get("id"):
            ids.add(str(detail["id"]))
    return ids
