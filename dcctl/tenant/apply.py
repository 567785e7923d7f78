"""Execute one agency's planned changes: dependency order, concurrency, audit, progress."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dcctl.audit import AuditEvent, AuditLog
from dcctl.cloud.errors import translate
from dcctl.errors import DcctlError
from dcctl.progress import Reporter
from dcctl.reconcile.dag import DagResult, Task, run_dag
from dcctl.reconcile.model import Action, Change, Ref, plain
from dcctl.tenant.context import ApplyContext
from dcctl.tenant.handlers import handler_for
from dcctl.tenant.handlers.base import BatchCreator

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
    for change in changes:
        if change.resource_id and ":" not in change.resource_id:
            ctx.ids[change.ref] = change.resource_id
    pending = [change for change in changes if change.is_change]
    runner = _Runner(ctx, audit, reporter, check)
    graph = _TaskGraph(pending)
    dag = run_dag(
        [
            Task(key, runner.task(members), frozenset(needs))
            for key, (members, needs) in graph.tasks.items()
        ],
        workers=workers,
    )
    return runner.result(dag, graph)


class _TaskGraph:
    """Pending changes as DAG tasks: one task per change, except creates that go out in one
    request (``_batches``), which become one task whose dependencies are all of theirs."""

    def __init__(self, pending: list[Change]) -> None:
        deps = _dependencies(pending)
        batches = _batches(pending)
        task_of = {member.ref: key for key, members in batches.items() for member in members}
        self.tasks: dict[Ref, tuple[list[Change], set[Ref]]] = {}
        for change in pending:
            key = task_of.get(change.ref, change.ref)
            members = batches.get(key) or [change]
            _, needs = self.tasks.setdefault(key, (members, set()))
            needs.update(task_of.get(need, need) for need in deps[change.ref])
        for key, (_, needs) in self.tasks.items():
            needs.discard(key)

    def members(self, key: Ref) -> list[Change]:
        return self.tasks[key][0]


class _Runner:
    def __init__(
        self,
        ctx: ApplyContext,
        audit: AuditTarget,
        reporter: Reporter,
        check: Callable[[], None],
    ) -> None:
        self.ctx = ctx
        self.code = ctx.agency.code
        self.audit = audit
        self.reporter = reporter
        self.check = check

    def task(self, members: list[Change]) -> Callable[[], None]:
        if len(members) > 1:
            return lambda: self._run_batch(members)
        return lambda: self._run_one(members[0])

    def _run_one(self, change: Change) -> None:
        self.check()
        handler = handler_for(change.ref.kind)
        resource_id = change.resource_id
        with _translated(str(change.ref)):
            if change.action is Action.CREATE:
                resource_id = handler.create(self.ctx, change)
                self.ctx.ids[change.ref] = resource_id
            elif change.action is Action.UPDATE:
                handler.update(self.ctx, change)
            elif change.action is Action.ADOPT:
                handler.adopt(self.ctx, change)
            elif change.action is Action.DELETE:
                handler.delete(self.ctx, change)
        self._record(change, resource_id)

    def _run_batch(self, members: list[Change]) -> None:
        self.check()
        handler = handler_for(members[0].ref.kind)
        if not isinstance(handler, BatchCreator):  # pragma: no cover - _batches checked it
            raise TypeError(f"{members[0].ref.kind} cannot create in batches")
        with _translated(f"{len(members)} × {members[0].ref.kind}"):
            ids = handler.create_many(self.ctx, members)
        for change, resource_id in zip(members, ids, strict=True):
            self.ctx.ids[change.ref] = resource_id
            self._record(change, resource_id)

    def _record(self, change: Change, resource_id: str | None) -> None:
        self.audit.log.append(
            AuditEvent(
                action=change.action.value,
                resource=str(change.ref),
                agency=self.code,
                cloud=self.audit.cloud,
                cloud_user=self.audit.cloud_user,
                before=plain(change.before) if change.before is not None else None,
                after=plain(change.after) if change.after is not None else None,
                detail={
                    "id": resource_id,
                    "fields": [f.field for f in change.fields],
                    "note": change.note,
                },
            )
        )
        self.reporter.step(f"{self.code} {change.ref}", _PAST[change.action])

    def result(self, dag: DagResult[Ref], graph: _TaskGraph) -> AgencyResult:
        result = AgencyResult(self.code)
        for key in dag.done:
            result.outcomes += [Outcome(c.ref, c.action, "done") for c in graph.members(key)]
        for key, error in dag.failed.items():
            message = (
                error.message
                if isinstance(error, DcctlError)
                else f"{type(error).__name__}: {error}"
            )
            log.debug("%s %s failed", self.code, key, exc_info=error)
            for change in graph.members(key):
                self.reporter.step(f"{self.code} {change.ref}", "failed", message)
                result.outcomes.append(Outcome(change.ref, change.action, "failed", message))
        for key in dag.skipped:
            for change in graph.members(key):
                self.reporter.step(f"{self.code} {change.ref}", "skipped", "a dependency failed")
                result.outcomes.append(
                    Outcome(change.ref, change.action, "skipped", "a dependency failed")
                )
        return result


def _dependencies(pending: list[Change]) -> dict[Ref, set[Ref]]:
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
    return deps


def _batches(pending: list[Change]) -> dict[Ref, list[Change]]:
    """Creates that go out in one request: two or more of a kind whose handler can, with the
    same batch key (the rules of one security group). Keyed by the first member's ref."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for change in pending:
        if change.action is not Action.CREATE:
            continue
        handler = handler_for(change.ref.kind)
        if isinstance(handler, BatchCreator):
            groups.setdefault((change.ref.kind, handler.batch_key(change)), []).append(change)
    return {members[0].ref: members for members in groups.values() if len(members) > 1}


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """SDK, keystoneauth and requests errors → DcctlError naming what was being done."""
    try:
        yield
    except DcctlError:
        raise
    except Exception as error:
        if type(error).__module__.startswith(("openstack", "keystoneauth1", "requests")):
            raise translate(error, action=action) from error
        raise
