"""``tenant list`` and ``tenant show``: statuses from fixture projects, and the real output."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcctl.spec import load_site
from dcctl.tenant.overview import (
    ACTIVE,
    NOT_CREATED,
    NOT_IN_SPEC,
    SUSPENDED,
    classify,
    quota_usage,
)
from tests.support.sites import agency_doc, make_site
from tests.tenant.conftest import TenantWorld


def _project(pid: str, code: str, *extra: str, **attrs: object) -> dict[str, object]:
    return {"id": pid, "name": code, "tags": ["dcctl", f"dcctl:agency={code}", *extra], **attrs}


@pytest.mark.unit
def test_statuses(tmp_path: Path) -> None:
    site = make_site(tmp_path, count=3, prefix="u")
    a, b, c = site.codes
    agencies = load_site(site.path).agencies
    projects = [
        _project("pa", a, enabled=True),
        _project("pb", b, "dcctl:suspended", enabled=False),
        {"id": "hand", "name": c, "tags": []},  # same name, not dcctl's: not the agency's
        _project("px", "gone", "dcctl:level=3", description="Sở Cũ (gone)"),
        {"id": "lock", "name": "dcctl-lock-quangngai.x", "tags": ["dcctl-lock", "dcctl:agency=x"]},
    ]
    rows = {row.code: row for row in classify(agencies, projects)}
    assert set(rows) == {a, b, c, "gone"}
    assert (rows[a].status, rows[a].project_id, rows[a].enabled) == (ACTIVE, "pa", True)
    assert (rows[b].status, rows[b].enabled) == (SUSPENDED, False)
    assert (rows[c].status, rows[c].project_id) == (NOT_CREATED, None)
    gone = rows["gone"]
    assert (gone.status, gone.name, gone.security_level) == (NOT_IN_SPEC, "Sở Cũ", 3)
    assert rows[a].name == f"Cơ quan thử nghiệm {a}" and rows[a].security_level == 2


@pytest.mark.unit
def test_quota_usage_in_one_shape() -> None:
    usage = quota_usage(
        {"quota_set": {"id": "p", "cores": {"limit": 4, "in_use": 1, "reserved": 0}}},
        {
            "quota_set": {
                "id": "p",
                "gigabytes": {"limit": 40, "in_use": 2},
                "gigabytes___DEFAULT__": {"limit": -1, "in_use": 2},
            }
        },
        {"quota": {"network": {"limit": 2, "used": 1, "reserved": 0}}},
    )
    assert usage == {
        "compute": {"cores": {"limit": 4, "in_use": 1}},
        "volume": {"gigabytes": {"limit": 40, "in_use": 2}},
        "network": {"network": {"limit": 2, "in_use": 1}},
    }


@pytest.mark.integration
def test_list_and_show(world: TenantWorld) -> None:
    applied = world.site.codes[0]
    spec_only = f"{applied}n"
    world.site.write(spec_only, agency_doc(spec_only, 1))
    world.site.codes.append(spec_only)
    assert world.tenant("apply", applied, "--yes").code == 0
    stray = f"{applied}x"  # a dcctl project whose agency file is gone
    domain = world.apis.identity.list_all("/domains", "domains", name="quangngai")[0]["id"]
    world.apis.identity.post(
        "/projects",
        {
            "project": {
                "name": stray,
                "domain_id": domain,
                "description": f"Sở Cũ ({stray})",
                "tags": ["dcctl", f"dcctl:agency={stray}", "dcctl:level=3"],
            }
        },
    )
    world.site.codes.append(stray)  # cleaned up with the others

    listed = world.tenant("list", "--output", "json")
    assert listed.code == 0, listed.stderr
    rows = {row["code"]: row for row in listed.json()["agencies"]}
    pid = world.project(applied)["id"]
    assert rows[applied] == {
        "code": applied,
        "name": f"Cơ quan thử nghiệm {applied}",
        "security_level": 2,
        "status": "active",
        "project_id": pid,
        "project_name": applied,
        "enabled": True,
    }
    assert rows[spec_only]["status"] == "not created" and rows[spec_only]["project_id"] is None
    assert (rows[stray]["status"], rows[stray]["name"]) == ("in cloud but not in spec", "Sở Cũ")
    text = world.tenant("list")
    assert applied in text.stdout and "not created" in text.stdout

    shown = world.tenant("show", applied, "--output", "json")
    assert shown.code == 0, shown.stderr
    data = shown.json()
    assert data["status"] == "active" and data["project"]["id"] == pid
    assert [(u["name"], u["enabled"], u["in_spec"]) for u in data["users"]] == [
        (f"{applied}.user{n}", True, True) for n in range(3)
    ]
    assert data["quotas"]["compute"]["cores"] == {"limit": 4, "in_use": 0}
    assert data["quotas"]["volume"]["gigabytes"] == {"limit": 40, "in_use": 0}
    assert data["quotas"]["network"]["network"] == {"limit": 2, "in_use": 1}
    assert data["resources"]["networks"] == 1
    assert data["resources"]["routers"] == 1
    assert data["resources"]["security_groups"] == 3
    assert data["resources"]["servers"] == 0
    text = world.tenant("show", applied)
    assert "cores 0/4" in text.stdout and f"{applied}.user0" in text.stdout

    unknown = world.tenant("show", "no-such-agency")
    assert unknown.code == 64 and "no agency 'no-such-agency'" in unknown.stderr
