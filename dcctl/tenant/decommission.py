"""``tenant delete``: decommission a suspended agency's tenant, in two phases.

1. ``preview`` reads everything the tenant has and returns the removal plan, the final backups
   it would take and why it would refuse (not suspended; data without ``--purge``). Nothing is
   written; ``--dry-run`` stops here.
2. ``execute`` takes the agency's cloud lock, reads again, checks again, starts (or continues)
   the decommission record, takes the final backups of the volumes and waits until they are
   available, then deletes in dependency order (see ``removal``), waiting where the cloud works
   asynchronously, and completes the record.

Every step is idempotent: a resource already gone is skipped, an earlier run's final backup is
found by its marker, and the record of an interrupted run is continued. So whatever stopped a
run (an error, Ctrl-C, kill -9), re-running the same command finishes the job.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openstack import exceptions as sdk

from dcctl.audit import operator_identity
from dcctl.cloud.rest import JSON, Rest
from dcctl.cloud.retry import is_conflict, retry_read
from dcctl.errors import DcctlError
from dcctl.tenant import removal
from dcctl.tenant.contents import ProjectContents, read_contents
from dcctl.tenant.final_backups import FinalBackups, choose, summary
from dcctl.tenant.records import COMPLETED, DecommissionRecord, RecordStore
from dcctl.tenant.removal import Step, data_summary, plan_removal
from dcctl.tenant.session import AgencyIdentity, TenantSession
from dcctl.tenant.waiting import Waiting, wait_all

log = logging.getLogger(__name__)

VOLUME_DELETABLE = frozenset(
    {"available", "error", "error_restoring", "error_extending", "error_managing"}
)
FORCE_DELETE = frozenset({"error_deleting"})
CONFLICT_RETRY_S = 60.0


class NotSuspended(DcctlError):
    """Only a suspended tenant can be deleted."""


class HoldsData(DcctlError):
    """The tenant has data and --purge was not given."""


@dataclass
class DeleteOptions:
    purge: bool = False
    wait_lock_s: float = 0.0
    lease_s: float = 60.0
    waiting: Waiting = field(default_factory=Waiting)


@dataclass
class FinalBackupPlan:
    volume_id: str
    volume_name: str
    size_gb: int | None
    in_use: bool
    backup_id: str | None = None  # already taken (or started) by an earlier run
    backup_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "volume_id": self.volume_id,
            "volume_name": self.volume_name,
            "size_gb": self.size_gb,
            "in_use": self.in_use,
            "backup_id": self.backup_id,
            "backup_status": self.backup_status,
        }


@dataclass
class DeletePreview:
    code: str
    name: str
    project_id: str | None
    project_exists: bool
    suspended: bool
    steps: list[Step] = field(default_factory=list)
    final_backups: list[FinalBackupPlan] = field(default_factory=list)
    kept_backups: list[JSON] = field(default_factory=list)  # the agency's own backups
    open_record: str | None = None  # path of an interrupted run's record

    @property
    def nothing_left(self) -> bool:
        return not self.steps

    @property
    def holds_data(self) -> list[str]:
        return data_summary(self.steps)

    def refusal(self, *, purge: bool) -> DcctlError | None:
        """Why ``execute`` would refuse, or None."""
        if self.project_exists and not self.suspended:
            return NotSuspended(
                f"agency {self.code} is not suspended: suspend it first: "
                f"dcctl tenant suspend {self.code}",
                hint="deleting is the second step of a decommission; the first (suspend) "
                "stops all use of the tenant and can be undone",
            )
        if self.holds_data and not purge:
            return HoldsData(
                f"agency {self.code} holds data: {', '.join(self.holds_data)}",
                hint=f"re-run with --purge (dcctl tenant delete {self.code} --purge) to take "
                "final backups of the volumes, keep them, and delete everything else",
            )
        return None

    def as_dict(self, *, purge: bool) -> dict[str, Any]:
        refusal = self.refusal(purge=purge)
        return {
            "agency": self.code,
            "name": self.name,
            "project_id": self.project_id,
            "project_exists": self.project_exists,
            "suspended": self.suspended,
            "nothing_left": self.nothing_left,
            "holds_data": self.holds_data,
            "refused": refusal.message if refusal else None,
            "final_backups": [plan.as_dict() for plan in self.final_backups],
            "kept_backups": [summary(backup) for backup in self.kept_backups],
            "remove": [step.as_dict() for step in self.steps],
            "open_record": self.open_record,
        }


@dataclass
class DeleteResult:
    preview: DeletePreview
    record: DecommissionRecord | None  # None: nothing was left to delete
    final_backups: list[JSON] = field(default_factory=list)
    backups_created: list[str] = field(default_factory=list)
    removed: list[Step] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.preview.code,
            "project_id": self.preview.project_id,
            "completed": self.record is None or self.record.status == COMPLETED,
            "nothing_left": self.record is None,
            "record": str(self.record.path) if self.record and self.record.path else None,
            "final_backups": self.record.final_backups if self.record else [],
            "backups_created": self.backups_created,
            "kept_backups": self.record.kept_backups if self.record else [],
            "removed": [step.as_dict() for step in self.removed],
        }


class Decommission:
    def __init__(self, session: TenantSession, *, records: RecordStore | None = None) -> None:
        self.session = session
        self.records = records or RecordStore()

    # -- phase 1 ---------------------------------------------------------------------------------
    def preview(self, code: str) -> DeletePreview:
        session = self.session
        identity = session.identity(code)
        record = self.records.open_record(session.site.name, code)
        if record is None:
            session.require_known(code, identity)
        return self._read(code, identity, record)[0]

    def _read(
        self, code: str, identity: AgencyIdentity, record: DecommissionRecord | None
    ) -> tuple[DeletePreview, ProjectContents | None]:
        agency = self.session.spec_agency(code)
        # A project already deleted by an interrupted run is still known by its record.
        project_id = identity.project_id or (record.project_id if record else None)
        contents = read_contents(self.session, project_id) if project_id else None
        preview = DeletePreview(
            code=code,
            name=agency.name if agency else (record.name if record else code),
            project_id=project_id,
            project_exists=identity.project is not None,
            suspended=identity.suspended,
            steps=plan_removal(contents, identity),
            kept_backups=list(contents.backups) if contents else [],
            open_record=str(record.path) if record and record.path else None,
        )
        if contents is not None and contents.volumes:
            preview.final_backups = self._final_backup_plans(code, contents)
        return preview, contents

    def _final_backup_plans(self, code: str, contents: ProjectContents) -> list[FinalBackupPlan]:
        existing = self._backups(code, None).existing()
        plans = []
        for volume in contents.volumes:
            found = choose(existing, str(volume["id"]))
            plans.append(
                FinalBackupPlan(
                    volume_id=str(volume["id"]),
                    volume_name=str(volume.get("name") or ""),
                    size_gb=volume.get("size"),
                    in_use=volume.get("status") == "in-use",
                    backup_id=str(found["id"]) if found else None,
                    backup_status=str(found.get("status")) if found else None,
                )
            )
        return plans

    # -- phase 2 ---------------------------------------------------------------------------------
    def execute(self, code: str, options: DeleteOptions) -> DeleteResult:
        session = self.session
        with session.locked(code, wait_s=options.wait_lock_s, lease_s=options.lease_s) as lock:
            identity = session.identity(code)
            record = self.records.open_record(session.site.name, code)
            if record is None:
                session.require_known(code, identity)
            preview, contents = self._read(code, identity, record)
            refusal = preview.refusal(purge=options.purge)
            if refusal is not None:
                raise refusal
            if preview.nothing_left and record is None:
                return DeleteResult(preview, None)
            if record is None:
                record = DecommissionRecord(
                    site=session.site.name,
                    cloud=session.cloud,
                    code=code,
                    name=preview.name,
                    project_id=preview.project_id,
                    project_name=identity.project_name,
                    operator=operator_identity(),
                    cloud_user=session.cloud_user,
                )
            result = DeleteResult(preview, record)
            record.kept_backups = _merge(
                record.kept_backups, [summary(b) for b in preview.kept_backups]
            )
            self.records.save(record)  # on file before the first change
            volumes = contents.volumes if contents else []
            if volumes:
                result.final_backups, result.backups_created = self._take_backups(
                    code, volumes, options, lock.check
                )
                by_id = {str(v["id"]): v for v in volumes}
                record.final_backups = _merge(
                    record.final_backups,
                    [summary(b, by_id.get(str(b["volume_id"]))) for b in result.final_backups],
                )
                self.records.save(record)
            self._remove(
                code,
                preview.steps,
                record=record,
                result=result,
                options=options,
                check=lock.check,
            )
            record.complete()
            self.records.save(record)
            session.audit(
                "decommission",
                f"project {record.project_name or record.project_id or code}",
                code=code,
                detail={
                    "project_id": record.project_id,
                    "record": str(record.path),
                    "final_backups": record.final_backups,
                    "kept_backups": record.kept_backups,
                    "removed": len(record.removed),
                },
            )
            session.reporter.step(code, "done", f"decommissioned; record {record.path}")
        return result

    # -- internals -------------------------------------------------------------------------------
    def _backups(self, code: str, options: DeleteOptions | None) -> FinalBackups:
        return FinalBackups(
            self.session.volume,
            code,
            self.session.reporter,
            options.waiting if options else Waiting(),
        )

    def _take_backups(
        self, code: str, volumes: list[JSON], options: DeleteOptions, check: Callable[[], None]
    ) -> tuple[list[JSON], list[str]]:
        backups, created = self._backups(code, options).ensure(volumes, check=check)
        names = {str(v["id"]): str(v.get("name") or v["id"]) for v in volumes}
        for backup in backups:
            if str(backup["id"]) in created:
                self.session.audit(
                    "backup",
                    f"volume {names.get(str(backup['volume_id']), backup['volume_id'])}",
                    code=code,
                    after=summary(backup),
                    detail={"id": backup["id"], "final": True, "volume_id": backup["volume_id"]},
                )
        return backups, created

    def _remove(
        self,
        code: str,
        steps: list[Step],
        *,
        record: DecommissionRecord,
        result: DeleteResult,
        options: DeleteOptions,
        check: Callable[[], None],
    ) -> None:
        for kind in removal.ORDER:
            phase = [step for step in steps if step.kind == kind]
            if not phase:
                continue
            if kind == removal.VOLUME:
                self._settle_volumes(code, phase, options, check)
            for step in phase:
                check()
                self._delete(step)
                self.session.audit(
                    "delete",
                    f"{step.kind.replace('_', ' ')} {step.name or step.id}",
                    code=code,
                    detail={"id": step.id, "decommission": True},
                )
                record.note_removed(step.kind, step.id, step.name)
                result.removed.append(step)
                self.session.reporter.step(f"{code} {step.describe()}", "deleted")
            if kind in removal.WAITED:
                wait_all(
                    {step.id: step.name or step.id for step in phase},
                    self._gone_probe(kind),
                    what=f"{code} {kind.replace('_', ' ')}s to go",
                    reporter=self.session.reporter,
                    waiting=options.waiting,
                    check=check,
                )
            self.records.save(record)

    def _settle_volumes(
        self, code: str, phase: list[Step], options: DeleteOptions, check: Callable[[], None]
    ) -> None:
        """After its server is gone a volume detaches asynchronously: wait until deletable."""
        volume = self.session.volume

        def probe(volume_id: str) -> str | None:
            try:
                body = retry_read(lambda: volume.get(f"/volumes/{volume_id}"), what="volume")
            except sdk.NotFoundException:
                return None
            status = str(body["volume"].get("status"))
            if status in VOLUME_DELETABLE or status in FORCE_DELETE or status == "deleting":
                return None
            if status == "in-use" and not body["volume"].get("attachments"):
                return None
            return status

        wait_all(
            {step.id: step.name or step.id for step in phase},
            probe,
            what=f"{code} volumes to detach",
            reporter=self.session.reporter,
            waiting=options.waiting,
            check=check,
        )

    def _delete(self, step: Step) -> None:
        apis = self.session.apis
        kind, rid = step.kind, step.id
        calls: dict[str, Callable[[], Any]] = {
            removal.SERVER: lambda: apis.compute.delete(f"/servers/{rid}"),
            removal.FLOATING_IP: lambda: apis.network.delete(f"/floatingips/{rid}"),
            removal.ROUTER_INTERFACE: lambda: apis.network.put(
                f"/routers/{step.parent}/remove_router_interface", {"port_id": rid}
            ),
            removal.ROUTER_GATEWAY: lambda: apis.network.put(
                f"/routers/{rid}", {"router": {"external_gateway_info": {}}}
            ),
            removal.ROUTER: lambda: apis.network.delete(f"/routers/{rid}"),
            removal.PORT: lambda: apis.network.delete(f"/ports/{rid}"),
            removal.SUBNET: lambda: apis.network.delete(f"/subnets/{rid}"),
            removal.NETWORK: lambda: apis.network.delete(f"/networks/{rid}"),
            removal.SECURITY_GROUP: lambda: apis.network.delete(f"/security-groups/{rid}"),
            removal.SNAPSHOT: lambda: self._delete_cinder("snapshots", rid),
            removal.VOLUME: lambda: self._delete_cinder("volumes", rid),
            removal.IMAGE: lambda: self.session.image.delete(f"/images/{rid}"),
            removal.QUOTA: lambda: self._reset_quotas(rid),
            removal.GROUP: lambda: apis.identity.delete(f"/groups/{rid}"),
            removal.USER: lambda: apis.identity.delete(f"/users/{rid}"),
            removal.PROJECT: lambda: apis.identity.delete(f"/projects/{rid}"),
        }
        call = calls[kind]
        deadline = time.monotonic() + CONFLICT_RETRY_S
        while True:
            try:
                retry_read(call, what=f"delete {step.describe()}")
                return
            except sdk.NotFoundException:
                return  # already gone: an earlier run (or someone) deleted it
            except sdk.HttpException as error:
                # Neutron answers 409 while a port it is still cleaning up holds a network,
                # subnet or group; cinder answers 400 while a volume finishes detaching.
                busy = is_conflict(error) or (
                    error.status_code == 400 and kind in (removal.VOLUME, removal.SNAPSHOT)
                )
                if not busy:
                    raise
                if time.monotonic() >= deadline:
                    raise
                log.info("delete %s: %s; retrying", step.describe(), error)
                time.sleep(2.0)

    def _delete_cinder(self, collection: str, resource_id: str) -> None:
        volume = self.session.volume
        body = volume.get(f"/{collection}/{resource_id}")
        item = body.get(collection[:-1], {})
        if item.get("status") == "deleting":
            return
        if item.get("status") in FORCE_DELETE:
            volume.post(f"/{collection}/{resource_id}/action", {"os-force_delete": {}})
            return
        volume.delete(f"/{collection}/{resource_id}")

    def _reset_quotas(self, project_id: str) -> None:
        """Drop the project's quota overrides, so no limits of a gone project linger."""
        apis = self.session.apis
        services: list[tuple[Rest, str]] = [
            (apis.compute, f"/os-quota-sets/{project_id}"),
            (self.session.volume, f"/os-quota-sets/{project_id}"),
            (apis.network, f"/quotas/{project_id}"),
        ]
        for rest, path in services:
            with contextlib.suppress(sdk.NotFoundException):
                rest.delete(path)

    def _gone_probe(self, kind: str) -> Callable[[str], str | None]:
        path = {
            removal.SERVER: ("compute", "/servers/{}", "server"),
            removal.SNAPSHOT: ("volume", "/snapshots/{}", "snapshot"),
            removal.VOLUME: ("volume", "/volumes/{}", "volume"),
            removal.IMAGE: ("image", "/images/{}", ""),
        }[kind]
        service, template, key = path
        rest = {
            "compute": self.session.apis.compute,
            "volume": self.session.volume,
            "image": self.session.image,
        }[service]

        def probe(resource_id: str) -> str | None:
            try:
                body = retry_read(lambda: rest.get(template.format(resource_id)), what=kind)
            except sdk.NotFoundException:
                return None
            item = body.get(key, {}) if key else body
            status = str(item.get("status", "present"))
            if kind == removal.SERVER and status.upper() == "SOFT_DELETED":
                rest.post(f"/servers/{resource_id}/action", {"forceDelete": None})
            if status.lower() in ("deleted", "killed"):
                return None
            if status in FORCE_DELETE:
                self._delete_cinder(template.split("/")[1], resource_id)
            return status

        return probe


def _merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Backups by id, newer information first."""
    merged = {str(item["id"]): item for item in old if item.get("id")}
    for item in new:
        if item.get("id"):
            merged[str(item["id"])] = item
    return list(merged.values())
