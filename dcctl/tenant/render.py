"""Plan text for humans: one line per change, grouped by agency (no terminal codes here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dcctl.reconcile.model import Action, Change
from dcctl.tenant.planner import AgencyPlan, SitePlan

SYMBOL = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.ADOPT: "*",
    Action.DELETE: "-",
    Action.NOOP: " ",
}


def plan_lines(plan: SitePlan, *, show_noop: bool = False) -> Iterator[tuple[str, str]]:
    """(style, text) pairs; styles are create/update/adopt/delete/noop/title/problem/dim."""
    yield "title", f"Plan for site {plan.site} on cloud {plan.cloud} ({plan.auth_url})"
    for agency in plan.agencies:
        yield from agency_lines(agency, show_noop=show_noop)
    yield "title", f"Summary: {len(plan.agencies)} agencies: {plan.counts().summary()}."


def agency_lines(agency: AgencyPlan, *, show_noop: bool) -> Iterator[tuple[str, str]]:
    state = " (suspended)" if agency.suspended else ""
    yield "", ""
    yield "title", f"{agency.scope}  {agency.name}{state}"
    for problem in agency.problems:
        hint = f" — {problem.hint}" if problem.hint else ""
        yield "problem", f"  ! {problem.ref}: {problem.reason}{hint}"
    for warning in agency.warnings:
        yield "dim", f"  warning: {warning}"
    for change in agency.changes:
        if change.action is Action.NOOP and not show_noop:
            continue
        yield from change_lines(change)
    unchanged = sum(change.action is Action.NOOP for change in agency.changes)
    if unchanged and not show_noop:
        yield "dim", f"    ({unchanged} unchanged)"


def change_lines(change: Change) -> Iterator[tuple[str, str]]:
    note = f"   # {change.note}" if change.note else ""
    yield change.action.value, f"  {SYMBOL[change.action]} {change.ref}{note}"
    if change.action in (Action.UPDATE, Action.ADOPT):
        for field in change.fields:
            yield "dim", f"      {field.field}: {_show(field.old)} → {_show(field.new)}"
    elif change.action is Action.CREATE and change.after:
        shown = {k: v for k, v in change.after.items() if v not in (None, "", (), frozenset())}
        if shown and change.ref.kind not in ("security_group_rule",):
            yield "dim", "      " + ", ".join(f"{k}={_show(v)}" for k, v in shown.items())


def _show(value: Any) -> str:
    if isinstance(value, frozenset | set):
        return "[" + ", ".join(sorted(str(item) for item in value)) + "]"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if value is None:
        return "-"
    return str(value)
