"""Spec + live snapshot → the changes that converge each agency's tenant (pure, no I/O)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dcctl import __version__
from dcctl.reconcile.diff import ImmutableFieldChanged, diff, freeze
from dcctl.reconcile.model import (
    Action,
    Change,
    Counts,
    Desired,
    FieldChange,
    Observed,
    Problem,
    Ref,
    ScopePlan,
)
from dcctl.spec.agency import Agency
from dcctl.spec.inventory import Site
from dcctl.spec.secgroup import DEFAULT_GROUP
from dcctl.tenant import kinds
from dcctl.tenant.desired import build_desired
from dcctl.tenant.kinds import (
    MEMBERSHIP,
    QUOTA,
    ROLE_ASSIGNMENT,
    ROUTER,
    RULE,
    SECURITY_GROUP,
    USER,
)
from dcctl.tenant.observe import (
    observe_agency,
    predicted_rules_for_new_group,
    quota_usage,
)
from dcctl.tenant.snapshot import Snapshot

_ORDER = {kind: index for index, kind in enumerate(kinds.ORDER)}


@dataclass(frozen=True)
class PlanOptions:
    keep_unmanaged: bool = False  # keep rules and role assignments made outside dcctl
    purge_users: bool = False  # delete users removed from the spec instead of disabling them


@dataclass
class AgencyPlan(ScopePlan):
    name: str = ""
    project_id: str | None = None
    suspended: bool = False


@dataclass
class SitePlan:
    site: str
    cloud: str
    auth_url: str
    agencies: list[AgencyPlan] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    options: PlanOptions = PlanOptions()

    @property
    def has_changes(self) -> bool:
        return any(plan.pending for plan in self.agencies)

    @property
    def problems(self) -> list[tuple[str, Problem]]:
        return [(plan.scope, problem) for plan in self.agencies for problem in plan.problems]

    def counts(self) -> Counts:
        total = Counts()
        for plan in self.agencies:
            for change in plan.changes:
                total.add(change.action)
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "dcctl-plan/1",
            "dcctl_version": __version__,
            "site": self.site,
            "cloud": self.cloud,
            "auth_url": self.auth_url,
            "created_at": self.created_at,
            "options": {
                "keep_unmanaged": self.options.keep_unmanaged,
                "purge_users": self.options.purge_users,
            },
            "summary": self.counts().as_dict(),
            "agencies": [
                {
                    "code": plan.scope,
                    "name": plan.name,
                    "project_id": plan.project_id,
                    "suspended": plan.suspended,
                    "fingerprint": plan.fingerprint,
                    "summary": plan.counts().as_dict(),
                    "problems": [
                        {"resource": p.ref, "reason": p.reason, "hint": p.hint}
                        for p in plan.problems
                    ],
                    "warnings": plan.warnings,
                    "changes": [change.as_dict() for change in plan.changes],
                }
                for plan in self.agencies
            ],
        }


def plan_site(
    site: Site,
    snapshot: Snapshot,
    agencies: Iterable[Agency],
    *,
    cloud: str,
    auth_url: str,
    options: PlanOptions = PlanOptions(),
) -> SitePlan:
    plan = SitePlan(site=site.name, cloud=cloud, auth_url=auth_url, options=options)
    plan.agencies = [plan_agency(site, agency, snapshot, options) for agency in agencies]
    return plan


def plan_agency(
    site: Site, agency: Agency, snapshot: Snapshot, options: PlanOptions = PlanOptions()
) -> AgencyPlan:
    state = observe_agency(snapshot, agency)
    desired = {item.ref: item for item in build_desired(site, agency, suspended=state.suspended)}
    observed = state.by_ref()
    plan = AgencyPlan(
        scope=agency.code,
        name=agency.name,
        project_id=state.project_id,
        suspended=state.suspended,
        warnings=list(state.warnings),
        fingerprint=fingerprint(state.observed, suspended=state.suspended),
    )
    for ref in desired:
        if ref.kind == SECURITY_GROUP and ref.key != DEFAULT_GROUP and ref not in observed:
            for predicted in predicted_rules_for_new_group(ref.key):
                observed.setdefault(predicted.ref, predicted)
    for ref in sorted(set(desired) | set(observed), key=_sort_key):
        change = _reconcile(ref, desired.get(ref), observed.get(ref), options, plan)
        if change is not None:
            plan.changes.append(change)
    plan.problems += _checks(site, agency, snapshot, plan, state.project_id)
    return plan


def _sort_key(ref: Ref) -> tuple[int, str]:
    return _ORDER.get(ref.kind, len(_ORDER)), ref.key


def _reconcile(
    ref: Ref,
    want: Desired | None,
    have: Observed | None,
    options: PlanOptions,
    plan: AgencyPlan,
) -> Change | None:
    if want is None and have is not None:
        return _unwanted(have, options, plan)
    try:
        change = diff(want, have)
    except ImmutableFieldChanged as error:
        plan.problems.append(Problem(str(ref), error.message, error.hint))
        return None
    if ref.kind == USER and have is not None:
        change = _user_password(change, have)
    if ref.kind == SECURITY_GROUP and ref.key == DEFAULT_GROUP and have is None:
        change = Change(
            ref=ref,
            action=Action.CREATE,
            after=change.after,
            depends_on=change.depends_on,
            note="neutron creates it with the project's first network call",
        )
    return change


def _unwanted(have: Observed, options: PlanOptions, plan: AgencyPlan) -> Change | None:
    """A resource the cloud has and the spec does not."""
    if not have.managed:
        plan.warnings.append(f"{have.ref} exists but is not managed by dcctl; left alone")
        return None
    kind = have.ref.kind
    if kind == QUOTA:
        return None
    if kind == SECURITY_GROUP and have.ref.key == DEFAULT_GROUP:
        return None
    if kind == USER:
        if options.purge_users:
            return diff(None, have, note="removed from the spec; --purge deletes it")
        if have.attrs.get("enabled"):
            return Change(
                ref=have.ref,
                action=Action.UPDATE,
                resource_id=have.id,
                before=have.attrs,
                after={**have.attrs, "enabled": False},
                fields=(FieldChange("enabled", True, False),),
                note="removed from the spec: disabled, not deleted (--purge deletes)",
            )
        return Change(ref=have.ref, action=Action.NOOP, resource_id=have.id, before=have.attrs)
    if kind == RULE and not have.id:
        return diff(None, have, note="neutron adds it by default; the spec does not want it")
    if kind in (RULE, ROLE_ASSIGNMENT) and options.keep_unmanaged:
        plan.warnings.append(f"{have.ref} is not in the spec; kept (--keep-unmanaged)")
        return Change(
            ref=have.ref, action=Action.NOOP, resource_id=have.id or None, before=have.attrs
        )
    note = {
        RULE: "not in the spec (added by hand?); --keep-unmanaged keeps it",
        ROLE_ASSIGNMENT: "not in the spec (granted by hand?); --keep-unmanaged keeps it",
        MEMBERSHIP: "not in the spec",
    }.get(kind, "removed from the spec")
    return diff(None, have, note=note)


def _user_password(change: Change, have: Observed) -> Change:
    """A user whose initial password was set but never delivered gets a new one."""
    if have.attrs.get("password") != kinds.PASSWORD_PENDING:
        return change
    fields = (
        *change.fields,
        FieldChange("password", "set but never delivered", "new one, delivered once"),
    )
    action = Action.UPDATE if change.action is Action.NOOP else change.action
    return Change(
        ref=change.ref,
        action=action,
        resource_id=change.resource_id,
        before=change.before,
        after=change.after,
        fields=fields,
        depends_on=change.depends_on,
        note="initial password was never delivered",
    )


def _checks(
    site: Site, agency: Agency, snapshot: Snapshot, plan: AgencyPlan, project_id: str | None
) -> list[Problem]:
    """Read-only cloud checks the offline validator cannot make."""
    problems: list[Problem] = []
    known_roles = {role["name"] for role in snapshot.roles}
    needed = {
        change.ref.key.rsplit("/", 1)[1]
        for change in plan.pending
        if change.ref.kind == ROLE_ASSIGNMENT and change.action is Action.CREATE
    }
    problems += [
        Problem(
            f"role {role}",
            f"role '{role}' does not exist in the cloud",
            "create it (openstack role create) or fix the spec",
        )
        for role in sorted(needed - known_roles)
    ]
    if snapshot.external_network is None and any(
        change.ref.kind == ROUTER and (change.after or {}).get("external_network")
        for change in plan.pending
    ):
        problems.append(
            Problem(
                f"router {agency.router_name}",
                f"external network '{site.config.external_network.name}' does not exist",
                "fix external_network.name in site.yaml",
            )
        )
    # Users and groups are adopted by name: never one another agency owns.
    wanted = (("user", snapshot.users, agency.users), ("group", snapshot.groups, agency.groups))
    for kind, observed, specified in wanted:
        names = {item.name for item in specified}
        for item in observed:
            owner = item.get(kinds.AGENCY_ATTR)
            if owner and owner != agency.code and item["name"] in names:
                problems.append(
                    Problem(
                        f"{kind} {item['name']}",
                        f"{kind} '{item['name']}' already belongs to agency '{owner}'",
                        f"rename the {kind} in the spec",
                    )
                )
    if project_id is not None:
        usage = quota_usage(snapshot, project_id)
        for change in plan.pending:
            if change.ref.kind != QUOTA:
                continue
            in_use = usage.get(change.ref.key, {})
            for field_change in change.fields:
                used = in_use.get(field_change.field, 0)
                if isinstance(field_change.new, int) and field_change.new < used:
                    problems.append(
                        Problem(
                            f"quota {change.ref.key}.{field_change.field}",
                            f"new limit {field_change.new} is below current usage {used}",
                            "free resources first or keep the limit at or above usage",
                        )
                    )
    return problems


def fingerprint(observed: Iterable[Observed], *, suspended: bool) -> str:
    """A digest of what the cloud had; a saved plan is only applied to the same state."""
    items = sorted(
        (str(item.ref), item.id, repr(freeze(dict(item.attrs))), item.managed) for item in observed
    )
    payload = json.dumps({"suspended": suspended, "items": items}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def load_plan(data: dict[str, Any]) -> SitePlan:
    """A plan saved with ``--out`` (the ``as_dict`` form), for ``apply FILE``."""
    if data.get("format") != "dcctl-plan/1":
        raise ValueError("not a dcctl plan file (format dcctl-plan/1 expected)")
    options = data.get("options", {})
    plan = SitePlan(
        site=str(data["site"]),
        cloud=str(data["cloud"]),
        auth_url=str(data["auth_url"]),
        created_at=str(data["created_at"]),
        options=PlanOptions(
            keep_unmanaged=bool(options.get("keep_unmanaged")),
            purge_users=bool(options.get("purge_users")),
        ),
    )
    for item in data["agencies"]:
        plan.agencies.append(
            AgencyPlan(
                scope=str(item["code"]),
                name=str(item.get("name", "")),
                project_id=item.get("project_id"),
                suspended=bool(item.get("suspended")),
                fingerprint=str(item["fingerprint"]),
                changes=[Change.from_dict(change) for change in item["changes"]],
                problems=[
                    Problem(str(p["resource"]), str(p["reason"]), p.get("hint"))
                    for p in item.get("problems", [])
                ],
                warnings=[str(w) for w in item.get("warnings", [])],
            )
        )
    return plan
