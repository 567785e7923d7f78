"""The removal plan of a decommission: dependency order and what counts as data (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcctl.tenant import removal
from dcctl.tenant.contents import ProjectContents
from dcctl.tenant.removal import Step, data_summary, plan_removal
from dcctl.tenant.session import AgencyIdentity

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data" / "decommission"


def _load(name: str) -> tuple[ProjectContents, AgencyIdentity, list[list[str]]]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    ident = data["identity"]
    identity = AgencyIdentity(
        code=ident["code"],
        project=ident["project"],
        users=tuple(ident["users"]),
        groups=tuple(ident["groups"]),
    )
    return ProjectContents.from_dict(data["contents"]), identity, data["expected"]


def test_everything_is_deleted_in_dependency_order() -> None:
    contents, identity, expected = _load("tenant.json")
    steps = plan_removal(contents, identity)
    assert [[step.kind, step.id] for step in steps] == expected


def test_order_puts_dependents_first() -> None:
    rank = {kind: index for index, kind in enumerate(removal.ORDER)}
    before = [
        (removal.SERVER, removal.VOLUME),  # detaches volumes, frees ports
        (removal.ROUTER_INTERFACE, removal.SUBNET),
        (removal.ROUTER_GATEWAY, removal.ROUTER),
        (removal.PORT, removal.NETWORK),
        (removal.SUBNET, removal.NETWORK),
        (removal.SNAPSHOT, removal.VOLUME),
        (removal.USER, removal.PROJECT),
        (removal.GROUP, removal.PROJECT),
    ]
    for first, then in before:
        assert rank[first] < rank[then], (first, then)
    assert removal.ORDER[-1] == removal.PROJECT


def test_router_interface_remembers_its_router() -> None:
    contents, identity, _ = _load("tenant.json")
    interface = next(s for s in plan_removal(contents, identity) if s.kind == "router_interface")
    assert interface.parent == "r1"
    assert interface.name == "soyte-router/soyte-app"


def test_agency_backups_are_kept_not_deleted() -> None:
    contents, identity, _ = _load("tenant.json")
    steps = plan_removal(contents, identity)
    assert all(step.id != "b-own" for step in steps)
    assert "backup" not in removal.ORDER


def test_project_already_gone_still_cleans_users_and_groups() -> None:
    identity = AgencyIdentity(
        code="soyte",
        project=None,
        users=({"id": "u1", "name": "soyte.a"},),
        groups=({"id": "g1", "name": "ops"},),
    )
    steps = plan_removal(ProjectContents(project_id="p1"), identity)
    assert [(s.kind, s.id) for s in steps] == [("group", "g1"), ("user", "u1")]


def test_nothing_left() -> None:
    assert plan_removal(None, AgencyIdentity(code="x", project=None)) == []


def test_data_summary_names_what_holds_data() -> None:
    contents, identity, _ = _load("tenant.json")
    assert data_summary(plan_removal(contents, identity)) == [
        "1 server",
        "1 snapshot (1 GiB)",
        "2 volumes (3 GiB)",
    ]
    assert data_summary([Step("network", "n", "net")]) == []
