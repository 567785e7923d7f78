"""Execute one agency's planned changes: dependency order, concurrency, audit, progress."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from dcctl.audit import AuditEvent, AuditLog
from dcctl.cloud.errors import translate
from dcctl.errors import DcctlError
from dcctl.progress import Reporter
from dcctl.reconcile.dag import Task, run_dag
from dcctl.reconcile.model import Action, Change, Ref, plain
from dcctl.tenant.context import ApplyContext
from dcctl.tenant.handlers import handler_for

log = logging.getLogger(__name__)

_PAST = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.ADOPT: "adopted",
    Action.DELETE: "deleted",
}


@dataclass(frozen=True)
class Outcome:
    ref: Ref
    action: Action
    status: str  # done / failed / skipped
    error: str | None = None


@dataclass
class AgencyResult:
    code: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None  # the agency was not applied at all (lock busy, plan stale …)
    hint: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(o.status == "done" for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)


@dataclass(frozen=True)
class AuditTarget:
    log: AuditLog
    cloud: str
    cloud_user: str


def apply_changes(
    ctx: ApplyContext,
    changes: list[Change],
    *,
    audit: AuditTarget,
    reporter: Reporter,
    workers: int = 4,
    check: Callable[[], None] = lambda: None,
) -> AgencyResult:
    """Apply ``changes`` (the pending part of a plan); independent ones run concurrently."""
    code = ctx.agency.code
    result = AgencyResult(code)
    for change in changes:
        if change.resource_id and ":" not in change.resource_id:
            ctx.ids[change.ref] = change.resource_id
    pending = [change for change in changes if change.is_change]
    by_ref = {change.ref: change for change in pending}
    deps: dict[Ref, set[Ref]] = {ref: set() for ref in by_ref}
    for change in pending:
        if change.action is Action.DELETE:
            for parent in change.depends_on:
                other = by_ref.get(parent)
                if other is None:
                    continue
                if other.action is Action.DELETE:
                    # Dependents first: an interface before its router, a subnet before its net.
                    deps[parent].add(change.ref)
                else:
                    # A rule neutron adds to a group created in this run: after that create.
                    deps[change.ref].add(parent)
        else:
            deps[change.ref] |= {
                ref
                for ref in change.depends_on
                if ref in by_ref and by_ref[ref].action is not Action.DELETE
            }

    def task(change: Change) -> Callable[[], None]:
        def run() -> None:
            check()
            handler = handler_for(change.ref.kind)
            resource_id = change.resource_id
            try:
                if change.action is Action.CREATE:
                    resource_id = handler.create(ctx, change)
                    ctx.ids[change.ref] = resource_id
                elif change.action is Action.UPDATE:
                    handler.update(ctx, change)
                elif change.action is Action.ADOPT:
                    handler.adopt(ctx, change)
                elif change.action is Action.DELETE:
                    handler.delete(ctx, change)
            except DcctlError:
                raise
            except Exception as error:
                if type(error).__module__.startswith(("openstack", "keystoneauth1", "requests")):
                    raise translate(error, action=str(change.ref)) from error
                raise
            audit.log.append(
                AuditEvent(
                    action=change.action.value,
                    resource=str(change.ref),
                    agency=code,
                    cloud=audit.cloud,
                    cloud_user=audit.cloud_user,
                    before=plain(change.before) if change.before is not None else None,
                    after=plain(change.after) if change.after is not None else None,
                    detail={
                        "id": resource_id,
                        "fields": [f.field for f in change.fields],
                        "note": change.note,
                    },
                )
            )
            reporter.step(f"{code} {change.ref}", _PAST[change.action])

        return run

    dag = run_dag(
        [Task(ref, task(change), frozenset(deps[ref])) for ref, change in by_ref.items()],
        workers=workers,
    )
    for ref in dag.done:
        result.outcomes.append(Outcome(ref, by_ref[ref].action, "done"))
    for ref, error in dag.failed.items():
        message = (
            error.message if isinstance(error, DcctlError) else f"{type(error).__name__}: {error}"
        )
        reporter.step(f"{code} {ref}", "failed", message)
        log.debug("%s %s failed", code, ref, exc_info=error)
        result.outcomes.append(Outcome(ref, by_ref[ref].action, "failed", message))
    for ref in dag.skipped:
        reporter.step(f"{code} {ref}", "skipped", "a dependency failed")
        result.outcomes.append(Outcome(ref, by_ref[ref].action, "skipped", "a dependency failed"))
    return result
