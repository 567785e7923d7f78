"""The tenant engine: read the live cloud, plan, and apply under per-agency cloud locks.

Used by ``dcctl tenant …`` and by the Ansible module in ``playbooks/library`` alike, so the
CLI and the playbooks share one implementation and one source of truth (the spec).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

from openstack.connection import Connection

from dcctl.audit import AuditLog
from dcctl.cloud.lock import CloudLock, LockInfo, reap_expired
from dcctl.cloud.proxies import access_info
from dcctl.cloud.rest import JSON, Apis
from dcctl.errors import Busy, DataError, DcctlError, UsageError
from dcctl.progress import NullReporter, Reporter
from dcctl.reconcile.model import Action, Change, Ref, plain
from dcctl.spec.agency import Agency
from dcctl.spec.inventory import Site
from dcctl.tenant import kinds
from dcctl.tenant.admission import Admission, AdmissionRefused, check_admission
from dcctl.tenant.apply import AgencyResult, AuditTarget, apply_changes
from dcctl.tenant.context import ApplyContext, IdMap
from dcctl.tenant.credentials import CredentialDelivery
from dcctl.tenant.desired import rule_descriptions
from dcctl.tenant.planner import AgencyPlan, PlanOptions, SitePlan, plan_agency, plan_site
from dcctl.tenant.snapshot import Scope, Snapshot, find_domain, read_snapshot

log = logging.getLogger(__name__)


class PlanStale(DcctlError):
    """The cloud changed between the plan the operator approved and the apply."""


@dataclass
class ApplyReport:
    results: list[AgencyResult] = field(default_factory=list)
    admission: Admission | None = None
    credentials: CredentialDelivery | None = None

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


@dataclass
class ApplySettings:
    parallel: int = 4
    #: Enough that the slow creates of one agency (three users hashing their passwords in
    #: Keystone, a router with its gateway port) never wait for a free worker.
    workers_per_agency: int = 8
    wait_lock_s: float = 0.0
    lease_s: float = 60.0
    strict: bool = False  # a saved plan file: refuse unless the cloud is exactly as planned
    allow_overcommit: bool = False


class TenantEngine:
    def __init__(
        self,
        site: Site,
        conn: Connection,
        *,
        cloud: str,
        reporter: Reporter | None = None,
        options: PlanOptions | None = None,
        audit_log: AuditLog | None = None,
    ) -> None:
        self.site = site
        self.conn = conn
        self.cloud = cloud
        self.reporter = reporter or NullReporter()
        self.options = options or PlanOptions()
        self.audit_log = audit_log or AuditLog(site.audit_log_path)

    @cached_property
    def apis(self) -> Apis:
        return Apis(self.conn)

    @cached_property
    def auth_url(self) -> str:
        return str(self.conn.config.config.get("auth", {}).get("auth_url", ""))

    @cached_property
    def cloud_user(self) -> str:
        access = access_info(self.conn)
        return f"{access.username}@{access.user_domain_name}"

    # -- selection -----------------------------------------------------------------------------
    def select(self, codes: Sequence[str], *, all_agencies: bool) -> list[Agency]:
        if all_agencies or not codes:
            if not all_agencies:
                raise UsageError("name the agencies to act on", hint="give agency codes or --all")
            return list(self.site.agencies)
        known = {agency.code: agency for agency in self.site.agencies}
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise UsageError(
                f"unknown agency code(s): {', '.join(unknown)}",
                hint=f"agencies in site {self.site.name}: {', '.join(sorted(known))}",
            )
        return [known[code] for code in dict.fromkeys(codes)]

    # -- read and plan -------------------------------------------------------------------------
    def snapshot(self, agencies: Iterable[Agency]) -> Snapshot:
        chosen = list(agencies)
        return read_snapshot(
            self.apis,
            domain_name=self.site.config.domain.name,
            external_network=self.site.config.external_network.name,
            scope=Scope(
                codes=frozenset(agency.code for agency in chosen),
                project_names=frozenset(agency.project_name for agency in chosen),
                limits={agency.code: self._limits(agency) for agency in chosen},
            ),
            domain=self.domain,
        )

    def _limits(self, agency: Agency) -> dict[str, dict[str, int]]:
        quota = self.site.effective_quota(agency)
        return {"compute": quota.compute.values(), "volume": quota.volume.values()}

    @cached_property
    def domain(self) -> JSON:
        """The site's domain: looked up once per engine (ids never change)."""
        return find_domain(self.apis, self.site.config.domain.name)

    def plan(self, agencies: Sequence[Agency]) -> SitePlan:
        return self._plan_from(self.snapshot(agencies), agencies)

    def _plan_from(self, snapshot: Snapshot, agencies: Sequence[Agency]) -> SitePlan:
        return plan_site(
            self.site,
            snapshot,
            agencies,
            cloud=self.cloud,
            auth_url=self.auth_url,
            options=self.options,
        )

    # -- apply ---------------------------------------------------------------------------------
    def apply(
        self,
        shown: SitePlan,
        settings: ApplySettings | None = None,
        *,
        delivery: CredentialDelivery | None = None,
    ) -> ApplyReport:
        """Apply what ``shown`` (the plan the operator approved) says, agency by agency."""
        settings = settings or ApplySettings()
        delivery = delivery or CredentialDelivery()
        report = ApplyReport(credentials=delivery)
        wanted = [plan for plan in shown.agencies if plan.pending]
        if not wanted:
            self.reap_locks([plan.scope for plan in shown.agencies])
            return report
        if any(plan.problems for plan in wanted):
            raise DcctlError(
                "the plan has problems; nothing was applied",
                hint="fix them (see the plan output) and re-run",
            )
        locks = self._lock_all([plan.scope for plan in wanted], settings, report)
        try:
            if not locks:
                return report
            agencies = [self.site.agency(code) for code in locks]
            fresh_snapshot = self.snapshot(agencies)
            runnable: list[tuple[Agency, AgencyPlan]] = []
            shown_by_code = {plan.scope: plan for plan in wanted}
            for agency in agencies:
                fresh = plan_agency(self.site, agency, fresh_snapshot, self.options)
                try:
                    self._verify(shown_by_code[agency.code], fresh, strict=settings.strict)
                except PlanStale as error:
                    report.results.append(
                        AgencyResult(agency.code, error=error.message, hint=error.hint)
                    )
                    continue
                if fresh.pending:
                    runnable.append((agency, fresh))
                else:
                    report.results.append(AgencyResult(agency.code))
            self._run(runnable, fresh_snapshot, locks, settings, delivery, report)
        finally:
            for lock in locks.values():
                lock.release()
        return report

    def apply_unattended(
        self,
        agencies: Sequence[Agency],
        settings: ApplySettings | None = None,
        *,
        show: Callable[[SitePlan], None] | None = None,
        delivery: CredentialDelivery | None = None,
    ) -> tuple[SitePlan, ApplyReport]:
        """Apply with nobody approving the plan (``--yes``): lock first, then read the cloud
        once, under the locks, so there is no earlier reading to verify against."""
        settings = settings or ApplySettings()
        delivery = delivery or CredentialDelivery()
        report = ApplyReport(credentials=delivery)
        locks = self._lock_all([agency.code for agency in agencies], settings, report)
        try:
            locked = [agency for agency in agencies if agency.code in locks]
            snapshot = self.snapshot(locked)
            plan = self._plan_from(snapshot, locked)
            if show is not None:
                show(plan)
            if plan.problems:
                raise DataError(
                    "the plan has problems; nothing was applied", hint="fix them and re-run"
                )
            runnable = [(self.site.agency(p.scope), p) for p in plan.agencies if p.pending]
            report.results += [AgencyResult(p.scope) for p in plan.agencies if not p.pending]
            self._run(runnable, snapshot, locks, settings, delivery, report)
        finally:
            for lock in locks.values():
                lock.release()
        return plan, report

    def _run(  # noqa: PLR0917 - internal, one call site per apply flavour
        self,
        runnable: list[tuple[Agency, AgencyPlan]],
        snapshot: Snapshot,
        locks: dict[str, CloudLock],
        settings: ApplySettings,
        delivery: CredentialDelivery,
        report: ApplyReport,
    ) -> None:
        """Admission, then each agency's changes, ``settings.parallel`` agencies at a time."""
        if not runnable:
            return
        report.admission = self._admit(snapshot, runnable, settings)
        target = AuditTarget(self.audit_log, self.cloud, self.cloud_user)
        with ThreadPoolExecutor(
            max_workers=max(1, settings.parallel), thread_name_prefix="agency"
        ) as pool:
            futures = [
                pool.submit(
                    self._apply_one,
                    agency,
                    plan,
                    snapshot,
                    delivery,
                    target,
                    locks[agency.code],
                    settings,
                )
                for agency, plan in runnable
            ]
            report.results += [future.result() for future in futures]

    def _apply_one(  # noqa: PLR0917 - submitted to a pool positionally
        self,
        agency: Agency,
        plan: AgencyPlan,
        snapshot: Snapshot,
        delivery: CredentialDelivery,
        target: AuditTarget,
        lock: CloudLock,
        settings: ApplySettings,
    ) -> AgencyResult:
        ctx = ApplyContext(
            apis=self.apis,
            site=self.site,
            agency=agency,
            snapshot=snapshot,
            ids=IdMap(),
            delivery=delivery,
            rule_descriptions=rule_descriptions(self.site, agency),
        )
        if plan.project_id:
            ctx.ids[Ref(kinds.PROJECT, agency.code)] = plan.project_id
        self.reporter.step(agency.code, "applying", plan.counts().summary())
        result = apply_changes(
            ctx,
            plan.changes,
            audit=target,
            reporter=self.reporter,
            workers=settings.workers_per_agency,
            check=lock.check,
        )
        self.reporter.step(
            agency.code,
            "done" if result.ok else "failed",
            f"{result.count('done')} applied, {result.count('failed')} failed, "
            f"{result.count('skipped')} skipped",
        )
        return result

    def _lock_all(
        self, codes: list[str], settings: ApplySettings, report: ApplyReport
    ) -> dict[str, CloudLock]:
        domain_id = self.snapshot_domain_id()
        locks: dict[str, CloudLock] = {}

        def announce(code: str) -> Callable[[LockInfo], None]:
            def waiting(info: LockInfo) -> None:
                self.reporter.step(code, "waiting", f"locked by {info.describe()}")

            return waiting

        def take(code: str) -> tuple[str, CloudLock | None, DcctlError | None]:
            lock = CloudLock(
                self.conn,
                domain_id=domain_id,
                key=self.lock_key(code),
                lease_s=settings.lease_s,
                wait_s=settings.wait_lock_s,
                on_wait=announce(code),
            )
            try:
                lock.acquire()
            except Busy as error:
                return code, None, error
            return code, lock, None

        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="lock") as pool:
            for code, lock, error in pool.map(take, codes):
                if lock is not None:
                    locks[code] = lock
                elif error is not None:
                    self.reporter.step(code, "failed", error.message)
                    report.results.append(AgencyResult(code, error=error.message, hint=error.hint))
        return locks

    def lock_key(self, code: str) -> str:
        return f"{self.site.name}.{code}"

    def reap_locks(self, codes: Sequence[str]) -> None:
        """Remove expired locks of dead dcctl runs, so nothing of theirs is left behind."""
        reap_expired(self.conn, self.snapshot_domain_id(), {self.lock_key(c) for c in codes})

    def snapshot_domain_id(self) -> str:
        return str(self.domain["id"])

    @staticmethod
    def _verify(shown: AgencyPlan, fresh: AgencyPlan, *, strict: bool) -> None:
        if fresh.problems:
            raise PlanStale(
                f"{fresh.scope}: " + "; ".join(p.reason for p in fresh.problems),
                hint="re-run plan and fix the problems it reports",
            )
        approved = {_signature(change) for change in shown.pending}
        if strict:
            if fresh.fingerprint != shown.fingerprint:
                raise PlanStale(
                    f"{fresh.scope}: the cloud changed since the plan was made",
                    hint="make a new plan (dcctl tenant plan --out FILE) and review it",
                )
            if {_signature(change) for change in fresh.pending} != approved:
                raise PlanStale(
                    f"{fresh.scope}: the spec changed since the plan was made",
                    hint="make a new plan (dcctl tenant plan --out FILE) and review it",
                )
            return
        surprise = [change for change in fresh.pending if _signature(change) not in approved]
        if surprise:
            listed = ", ".join(f"{c.action.value} {c.ref}" for c in surprise[:5])
            raise PlanStale(
                f"{fresh.scope}: the cloud changed since the plan was shown ({listed})",
                hint="re-run the command to see and approve the new plan",
            )

    def _admit(
        self,
        snapshot: Snapshot,
        runnable: list[tuple[Agency, AgencyPlan]],
        settings: ApplySettings,
    ) -> Admission | None:
        raising = False
        gateways = 0
        floating = 0
        for _, plan in runnable:
            for change in plan.pending:
                if change.ref.kind == kinds.QUOTA:
                    if change.action is Action.CREATE:
                        raising = True
                        floating += int((change.after or {}).get("floating_ips", 0) or 0)
                    for item in change.fields:
                        if isinstance(item.new, int) and item.new > (item.old or 0):
                            raising = True
                            if item.field == "floating_ips":
                                floating += item.new - int(item.old or 0)
                if change.ref.kind == kinds.ROUTER and change.action is Action.CREATE:
                    gateways += bool((change.after or {}).get("external_network"))
        if not raising and not gateways:
            return None
        external = snapshot.external_network["id"] if snapshot.external_network else None
        admission = check_admission(
            self.apis,
            self.site,
            external_network_id=external,
            new_gateways=gateways,
            new_floating_ips=floating,
        )
        if not admission.fits and not settings.allow_overcommit:
            raise AdmissionRefused(
                "quotas exceed the cloud's capacity: "
                + "; ".join(line.describe() for line in admission.over()),
                hint="lower the quotas, add capacity, or pass --allow-overcommit deliberately",
            )
        return admission


def _signature(change: Change) -> tuple[str, str, str]:
    """What an approval covers: the resource, the action and the new values (JSON-normalised,
    so a plan read back from a file compares equal to a fresh one)."""
    fields = json.dumps({f.field: plain(f.new) for f in change.fields}, sort_keys=True, default=str)
    return str(change.ref), change.action.value, fields
