"""The orphan filter on fixture data (pure) and one scan of the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcctl.tenant.orphans import CloudInventory, find_orphans
from tests.tenant.conftest import TenantWorld

DATA = Path(__file__).parent / "data" / "orphans"


def _fixture() -> tuple[CloudInventory, list[str], list[list[str | None]]]:
    data = json.loads((DATA / "inventory.json").read_text(encoding="utf-8"))
    return CloudInventory.from_dict(data), data["kept_backups"], data["expected"]


@pytest.mark.unit
def test_resources_of_gone_projects_and_agencies_without_project_are_found() -> None:
    inventory, kept, expected = _fixture()
    report = find_orphans(inventory, kept)
    assert [[o.kind, o.id, o.agency] for o in report.findings] == expected
    assert report.excluded_backups == ["b-kept"]


@pytest.mark.unit
def test_no_owner_and_live_owner_are_never_findings() -> None:
    inventory, kept, _ = _fixture()
    found = {o.id for o in find_orphans(inventory, kept).findings}
    assert not found & {"s-alive", "v-alive", "p-gw", "n-public", "sub-alive", "u-ok", "b-final"}


@pytest.mark.unit
def test_kept_backup_counts_once_it_is_no_longer_recorded() -> None:
    inventory, _, _ = _fixture()
    found = {o.id for o in find_orphans(inventory, []).findings}
    assert "b-kept" in found


@pytest.mark.unit
def test_counts_by_kind_in_json() -> None:
    inventory, kept, _ = _fixture()
    summary = find_orphans(inventory, kept).as_dict()
    assert summary["counts"]["user"] == 1
    assert summary["scanned"]["backup"] == 3


@pytest.mark.integration
def test_scan_finds_a_network_whose_project_was_deleted(world: TenantWorld) -> None:
    apis = world.apis
    code = world.site.codes[0]
    domain = apis.identity.list_all("/domains", "domains", name="quangngai")[0]["id"]
    project = apis.identity.post(
        "/projects", {"project": {"name": f"{code}-orphan", "domain_id": domain}}
    )["project"]
    network = apis.network.post(
        "/networks", {"network": {"name": f"{code}-lost", "project_id": project["id"]}}
    )["network"]
    try:
        apis.identity.delete(f"/projects/{project['id']}")
        result = world.tenant("orphans", "--output", "json")
        assert result.code == 2, result.stderr
        mine = [f for f in result.json()["findings"] if f["id"] == network["id"]]
        assert mine == [
            {
                "kind": "network",
                "id": network["id"],
                "name": f"{code}-lost",
                "project_id": project["id"],
                "agency": None,
                "reason": f"project {project['id']} no longer exists",
            }
        ]
        # Neutron made the project's default group with the network: an orphan too.
        assert any(
            f["kind"] == "security_group" and f["project_id"] == project["id"]
            for f in result.json()["findings"]
        )
    finally:
        apis.network.delete(f"/networks/{network['id']}")
        for group in apis.network.list_all("/security-groups", "security_groups"):
            if group["project_id"] == project["id"]:  # listed unfiltered: see contents.py
                apis.network.delete(f"/security-groups/{group['id']}")
