"""``tenant suspend`` / ``resume``: project and users disabled and enabled again, under the
agency's lock, audited, idempotent; ``apply`` keeps a suspended tenant suspended."""

from __future__ import annotations

import json

import pytest
from keystoneauth1 import exceptions as ka

from dcctl.tenant.lifecycle import users_to_enable
from dcctl.tenant.session import AgencyIdentity
from tests.tenant.conftest import TenantWorld
from tests.tenant.workload import agency_user


@pytest.mark.unit
def test_resume_enables_only_what_the_spec_enables() -> None:
    identity = AgencyIdentity(
        code="soyte",
        project={"id": "p"},
        users=(
            {"id": "1", "name": "a", "enabled": False},
            {"id": "2", "name": "b", "enabled": False},  # spec: enabled false
            {"id": "3", "name": "c", "enabled": False},  # removed from the spec
            {"id": "4", "name": "d", "enabled": True},
        ),
    )
    spec = {"a": True, "b": False, "d": True}
    assert [u["name"] for u in users_to_enable(identity, spec)] == ["a"]


@pytest.mark.integration
def test_suspend_blocks_the_agency_and_resume_restores_the_spec(world: TenantWorld) -> None:
    code = world.site.codes[0]
    assert world.tenant("apply", code, "--yes").code == 0
    user = agency_user(world, code)
    assert user.token()  # works before

    suspended = world.tenant("suspend", code, "--reason", "unpaid", "--output", "json")
    assert suspended.code == 0, suspended.stderr
    assert suspended.json()["users_changed"] == [f"{code}.user{n}" for n in range(3)]
    project = world.project(code)
    assert project is not None and not project["enabled"]
    assert "dcctl:suspended" in project["tags"]
    users = [
        u for u in world.apis.identity.list_all("/users", "users") if u.get("dcctl_agency") == code
    ]
    assert len(users) == 3 and not any(u["enabled"] for u in users)
    with pytest.raises(ka.Unauthorized):
        user.token()

    again = world.tenant("suspend", code)
    assert again.code == 0 and "already suspended" in again.stdout

    # apply reads the tag: nothing to change, nobody re-enabled.
    assert world.tenant("plan", code).code == 0
    assert "Nothing to do" in world.tenant("apply", code, "--yes").stdout
    assert not world.project(code)["enabled"]
    with pytest.raises(ka.Unauthorized):
        user.token()

    # The spec disables user1 meanwhile: resume leaves it off.
    doc = world.site.read(code)
    doc["users"][1]["enabled"] = False
    world.site.write(code, doc)
    resumed = world.tenant("resume", code, "--output", "json")
    assert resumed.code == 0, resumed.stderr
    assert resumed.json()["users_changed"] == [f"{code}.user0", f"{code}.user2"]
    assert resumed.json()["users_kept_disabled"] == [f"{code}.user1"]
    project = world.project(code)
    assert project["enabled"] and "dcctl:suspended" not in project["tags"]
    assert user.token()
    assert world.tenant("plan", code).code == 0  # resume restored exactly the spec
    assert "is not suspended" in world.tenant("resume", code).stdout

    records = [json.loads(line) for line in world.audit_lines()]
    lifecycle = [
        (r["action"], r["resource"]) for r in records if r["action"] in ("suspend", "resume")
    ]
    assert lifecycle == [
        ("suspend", f"project {code}"),
        *[("suspend", f"user {code}.user{n}") for n in range(3)],
        ("resume", f"user {code}.user0"),
        ("resume", f"user {code}.user2"),
        ("resume", f"project {code}"),
    ]
    assert next(r for r in records if r["action"] == "suspend")["detail"]["reason"] == "unpaid"
    assert (
        world.dcctl("audit", "verify", "--log", str(world.site.path.parent / "audit.jsonl")).code
        == 0
    )


@pytest.mark.integration
def test_suspend_of_a_tenant_never_created_is_an_error(world: TenantWorld) -> None:
    code = world.site.codes[0]
    result = world.tenant("suspend", code)
    assert result.code == 1
    assert "has no project" in result.stderr and f"dcctl tenant apply {code}" in result.stderr
