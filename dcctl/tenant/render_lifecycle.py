"""Text for humans of ``tenant show``, ``delete`` and ``orphans``: (style, text) pairs, no
terminal codes (the CLI styles them). Styles: title, dim, delete, create, problem, ok."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dcctl.tenant.decommission import DeletePreview, DeleteResult
from dcctl.tenant.orphans import OrphanReport
from dcctl.tenant.overview import TenantDetails

Lines = Iterator[tuple[str, str]]


def details_lines(details: TenantDetails) -> Lines:
    status = details.status
    level = f"level {status.security_level}" if status.security_level is not None else "level ?"
    yield "title", f"{status.code}  {status.name}  ({level}, {status.status})"
    project = details.project
    if project is None:
        yield "dim", "  no project in the cloud"
    else:
        enabled = "enabled" if project.get("enabled") else "disabled"
        yield "", f"  project  {project['name']}  {project['id']}  {enabled}"
    yield "", ""
    yield "title", "Users"
    if not details.users:
        yield "dim", "  none"
    for user in details.users:
        state = "enabled" if user["enabled"] else "disabled"
        spec = (
            "not in the spec"
            if not user["in_spec"]
            else f"spec: {'enabled' if user['spec_enabled'] else 'disabled'}"
        )
        yield "", f"  {user['name']:<32} {state:<9} ({spec})"
    for group in details.groups:
        yield "", f"  group {group['name']}"
    if details.quotas:
        yield "", ""
        yield "title", "Quota usage (in use / limit)"
        for section, values in details.quotas.items():
            cells = [
                f"{name} {value.get('in_use')}/{_limit(value.get('limit'))}"
                for name, value in values.items()
            ]
            yield "", f"  {section:<8} " + ", ".join(cells)
    if details.counts:
        yield "", ""
        yield "title", "Resources"
        yield (
            "",
            "  "
            + ", ".join(
                f"{name.replace('_', ' ')} {count}" for name, count in details.counts.items()
            ),
        )


def _limit(value: Any) -> str:
    return "unlimited" if value == -1 else str(value)


def preview_lines(preview: DeletePreview, *, purge: bool) -> Lines:
    where = f"project {preview.project_id}, " if preview.project_id else ""
    if preview.project_exists:
        state = "suspended" if preview.suspended else "not suspended"
    else:
        state = "project already deleted" if preview.project_id else "no project"
    yield "title", f"Decommission of {preview.code}  {preview.name}  ({where}{state})"
    if preview.open_record:
        yield "dim", f"  continues the interrupted decommission recorded in {preview.open_record}"
    if preview.nothing_left:
        yield "ok", "  nothing of this agency is left in the cloud"
        return
    if preview.final_backups:
        yield "title", "Final backups (taken first, then kept):"
        for plan in preview.final_backups:
            use = ", in use: forced" if plan.in_use else ""
            taken = (
                f"already taken: {plan.backup_id} ({plan.backup_status})"
                if plan.backup_id
                else "new backup"
            )
            volume = plan.volume_name or plan.volume_id
            yield "create", f"  + volume {volume} ({plan.size_gb} GiB{use}): {taken}"
    if preview.kept_backups:
        yield "title", "Kept (made by the agency):"
        for backup in preview.kept_backups:
            yield "", f"  = backup {backup.get('name') or backup.get('id')} ({backup.get('id')})"
    yield "title", f"To delete ({len(preview.steps)}), in this order:"
    for step in preview.steps:
        mark = "  (data)" if step.holds_data else ""
        yield "delete", f"  - {step.describe()}{mark}"
    refusal = preview.refusal(purge=purge)
    if refusal is not None:
        yield "problem", f"  ! {refusal.message}"
        if refusal.hint:
            yield "dim", f"    {refusal.hint}"


def result_lines(result: DeleteResult) -> Lines:
    record = result.record
    if record is None:
        yield "ok", f"Nothing of agency {result.preview.code} is left in the cloud."
        return
    yield "ok", f"Agency {record.code} decommissioned: {len(result.removed)} resources deleted."
    for backup in record.final_backups:
        yield (
            "",
            f"  kept final backup {backup.get('id')} of volume "
            f"{backup.get('volume_name') or backup.get('volume_id')} "
            f"({backup.get('status')}, {backup.get('size_gb')} GiB)",
        )
    for backup in record.kept_backups:
        yield "", f"  kept the agency's backup {backup.get('id')} ({backup.get('name')})"
    yield "", f"Record: {record.path}"


def orphan_lines(report: OrphanReport) -> Lines:
    if not report.findings:
        yield "ok", "No orphans: every resource belongs to an existing project."
    else:
        yield "problem", f"{len(report.findings)} orphaned resource(s):"
        for orphan in report.findings:
            agency = f" agency {orphan.agency}" if orphan.agency else ""
            yield (
                "",
                f"  {orphan.kind:<15} {orphan.id}  {orphan.name}{agency}  — {orphan.reason}",
            )
    if report.excluded_backups:
        yield (
            "dim",
            f"({len(report.excluded_backups)} backup(s) kept by decommission records not counted)",
        )
