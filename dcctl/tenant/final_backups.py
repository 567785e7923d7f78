"""Final backups: one full cinder backup of each volume of a tenant being decommissioned,
taken before anything is deleted and kept afterwards.

Each backup is named ``dcctl-final-<code>-<volume id>`` and carries the metadata
``dcctl_agency``/``dcctl_final``, so a re-run after an interruption (even kill -9) finds the
backup an earlier run started instead of taking a second one. A volume in use is backed up with
``force`` (cinder snapshots it first). Backups are made with the operator's admin token, so
cinder keeps them in the operator's project: they outlive the agency's project.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openstack import exceptions as sdk

from dcctl.cloud.rest import JSON, Rest
from dcctl.cloud.retry import create_once, retry_read
from dcctl.errors import CloudError
from dcctl.progress import Reporter
from dcctl.tenant.contents import owner_of_backup
from dcctl.tenant.waiting import Waiting, wait_all

MARKER_PREFIX = "dcctl-final-"
BACKUP_READY = "available"
BACKUP_FAILED = frozenset({"error"})
BACKUP_GONE = frozenset({"deleting", "deleted", "error_deleting"})
VOLUME_BACKUP_OK = frozenset({"available", "in-use"})
VOLUME_SETTLING = frozenset(
    {"creating", "attaching", "detaching", "reserved", "backing-up", "downloading", "uploading"}
)


def marker(code: str, volume_id: str) -> str:
    return f"{MARKER_PREFIX}{code}-{volume_id}"


def is_final_backup_of(backup: JSON, code: str) -> bool:
    metadata = backup.get("metadata") or {}
    if metadata.get("dcctl_final") == "true" and metadata.get("dcctl_agency") == code:
        return True
    return backup.get("name") == marker(code, str(backup.get("volume_id")))


def choose(existing: list[JSON], volume_id: str) -> JSON | None:
    """The usable final backup of a volume among ``existing``: an available one, else one still
    being made; failed and deleted ones do not count."""
    usable = [
        b
        for b in existing
        if b.get("volume_id") == volume_id
        and b.get("status") not in BACKUP_FAILED
        and b.get("status") not in BACKUP_GONE
    ]
    usable.sort(key=lambda b: (b.get("status") != BACKUP_READY, str(b.get("created_at", ""))))
    return usable[0] if usable else None


def summary(backup: JSON, volume: JSON | None = None) -> dict[str, Any]:
    """What the decommission record keeps of a backup."""
    return {
        "id": backup.get("id"),
        "name": backup.get("name"),
        "status": backup.get("status"),
        "volume_id": backup.get("volume_id"),
        "volume_name": (volume or {}).get("name"),
        "size_gb": backup.get("size"),
        "object_count": backup.get("object_count"),
        "project_id": owner_of_backup(backup),
        "container": backup.get("container"),
        "created_at": backup.get("created_at"),
    }


@dataclass
class FinalBackups:
    volume: Rest  # cinder at VOLUME_MICROVERSION
    code: str
    reporter: Reporter
    waiting: Waiting

    def existing(self) -> list[JSON]:
        """Every final backup of the agency in the cloud (one listing)."""
        found = retry_read(
            lambda: self.volume.list_all("/backups/detail", "backups", all_tenants=1),
            what="list backups",
        )
        return [backup for backup in found if is_final_backup_of(backup, self.code)]

    def ensure(
        self, volumes: list[JSON], *, check: Callable[[], None] = lambda: None
    ) -> tuple[list[JSON], list[str]]:
        """A finished final backup for every volume; returns (backups, ids created by this run).

        Raises (with nothing deleted) if a backup fails or a volume cannot be backed up.
        """
        existing = self.existing()
        chosen: dict[str, JSON] = {}
        created: list[str] = []
        for volume in volumes:
            volume_id = str(volume["id"])
            found = choose(existing, volume_id)
            if found is not None:
                self.reporter.step(
                    f"{self.code} backup {volume.get('name') or volume_id}",
                    "skipped",
                    f"final backup {found['id']} already {found.get('status')}",
                )
                chosen[volume_id] = found
                continue
            self._drop_failed(existing, volume_id)
            check()
            backup = self._create(self._settled(volume, check))
            created.append(str(backup["id"]))
            chosen[volume_id] = backup
            self.reporter.step(
                f"{self.code} backup {volume.get('name') or volume_id}",
                "created",
                f"backup {backup['id']} started",
            )
        labels = {
            str(chosen[str(volume["id"])]["id"]): str(volume.get("name") or volume["id"])
            for volume in volumes
        }
        wait_all(
            labels,
            self._probe,
            what=f"{self.code} final backups",
            reporter=self.reporter,
            waiting=self.waiting,
            check=check,
        )
        done = [self._get(backup_id) for backup_id in labels]
        for backup in done:
            self.reporter.step(
                f"{self.code} backup {labels[str(backup['id'])]}",
                "done",
                f"{backup.get('status')}, {backup.get('size')} GiB, "
                f"{backup.get('object_count')} objects",
            )
        return done, created

    # -- internals -------------------------------------------------------------------------------
    def _get(self, backup_id: str) -> JSON:
        body = retry_read(lambda: self.volume.get(f"/backups/{backup_id}"), what="read backup")
        return dict(body["backup"])

    def _probe(self, backup_id: str) -> str | None:
        backup = self._get(backup_id)
        status = str(backup.get("status"))
        if status == BACKUP_READY:
            return None
        if status in BACKUP_FAILED or status in BACKUP_GONE:
            raise CloudError(
                f"final backup {backup_id} of volume {backup.get('volume_id')} is {status}: "
                f"{backup.get('fail_reason') or 'no reason given'}",
                hint="nothing was deleted; fix the backup service and re-run the same command",
            )
        return status

    def _drop_failed(self, existing: list[JSON], volume_id: str) -> None:
        """A failed final backup holds nothing: delete it so the new one is the only one."""
        for backup in existing:
            if backup.get("volume_id") == volume_id and backup.get("status") in BACKUP_FAILED:
                drop = functools.partial(self.volume.delete, f"/backups/{backup['id']}")
                with contextlib.suppress(sdk.NotFoundException):
                    retry_read(drop, what="delete failed backup")

    def _settled(self, volume: JSON, check: Callable[[], None]) -> JSON:
        """The volume once it is available or in use (not attaching, detaching, …)."""
        volume_id = str(volume["id"])
        current: dict[str, JSON] = {"volume": volume}

        def probe(_: str) -> str | None:
            body = retry_read(lambda: self.volume.get(f"/volumes/{volume_id}"), what="volume")
            current["volume"] = dict(body["volume"])
            status = str(current["volume"].get("status"))
            if status in VOLUME_BACKUP_OK:
                return None
            if status in VOLUME_SETTLING:
                return status
            raise CloudError(
                f"volume {volume.get('name') or volume_id} is {status}: it cannot be backed up",
                hint="nothing was deleted; repair the volume (or delete it by hand after "
                "deciding its data is not needed) and re-run",
            )

        wait_all(
            {volume_id: str(volume.get("name") or volume_id)},
            probe,
            what=f"{self.code} volume",
            reporter=self.reporter,
            waiting=self.waiting,
            check=check,
        )
        return current["volume"]

    def _create(self, volume: JSON) -> JSON:
        volume_id = str(volume["id"])
        name = marker(self.code, volume_id)
        body = {
            "backup": {
                "volume_id": volume_id,
                "name": name,
                "description": f"dcctl final backup of {volume.get('name') or volume_id} "
                f"(agency {self.code}, decommissioned)",
                "force": volume.get("status") == "in-use",
                "incremental": False,
                "metadata": {
                    "dcctl_agency": self.code,
                    "dcctl_final": "true",
                    "volume_name": str(volume.get("name") or ""),
                },
            }
        }

        def find() -> JSON | None:
            return choose([b for b in self.existing() if b.get("name") == name], volume_id)

        return create_once(
            lambda: dict(self.volume.post("/backups", body)["backup"]),
            find,
            what=f"final backup of volume {volume_id}",
        )
