"""plan → apply → plan converges on the real sandbox; edits and hand-made drift show exactly."""

from __future__ import annotations

import json
import stat

import pytest

from tests.tenant.conftest import TenantWorld

pytestmark = pytest.mark.integration


def _changes(plan_json: dict, code: str) -> list[tuple[str, str, str]]:
    agency = next(a for a in plan_json["agencies"] if a["code"] == code)
    return sorted(
        (c["action"], c["kind"], c["key"]) for c in agency["changes"] if c["action"] != "no-op"
    )


def test_apply_converges_and_second_apply_changes_nothing(world: TenantWorld) -> None:
    code = world.site.codes[0]
    first = world.tenant("apply", "--all", "--yes")
    assert first.code == 0, first.stderr + first.stdout
    lines = world.audit_lines()
    assert lines, "every change is audited"

    plan = world.tenant("plan", "--all")
    assert plan.code == 0, plan.stdout  # 0 = no changes
    assert "0 to create, 0 to update, 0 to adopt, 0 to delete" in plan.stdout

    again = world.tenant("apply", "--all", "--yes")
    assert again.code == 0
    assert "Nothing to do" in again.stdout
    assert world.audit_lines() == lines

    # What really exists in the cloud.
    apis = world.apis
    project = world.project(code)
    assert project is not None and f"dcctl:agency={code}" in project["tags"]
    pid = project["id"]
    users = [u for u in apis.identity.list_all("/users", "users") if u.get("dcctl_agency") == code]
    assert sorted(u["name"] for u in users) == [f"{code}.user{n}" for n in range(3)]
    assert all(u.get("dcctl_password") == "delivered" for u in users)
    networks = apis.network.list_all("/networks", "networks", project_id=pid)
    assert [(n["name"], sorted(n["tags"])) for n in networks] == [
        (f"{code}-app", ["dcctl", f"dcctl:agency={code}"])
    ]
    routers = apis.network.list_all("/routers", "routers", project_id=pid)
    assert len(routers) == 1 and routers[0]["external_gateway_info"]
    groups = {
        g["name"]: g["id"]
        for g in apis.network.list_all("/security-groups", "security_groups", project_id=pid)
    }
    assert set(groups) == {"default", "web", "db"}
    db_rules = apis.network.list_all(
        "/security-group-rules", "security_group_rules", security_group_id=groups["db"]
    )
    ingress = sorted(
        (r["protocol"], r["port_range_min"], r["remote_group_id"] or "")
        for r in db_rules
        if r["direction"] == "ingress"
    )
    assert ingress == [("tcp", 22, ""), ("tcp", 5432, groups["web"])]
    egress = [r for r in db_rules if r["direction"] == "egress"]
    assert len(egress) == 2  # level 2 keeps neutron's allow-all egress
    quota = apis.compute.get(f"/os-quota-sets/{pid}")["quota_set"]
    assert quota["cores"] == 4


def test_edits_show_exactly_what_changed(world: TenantWorld) -> None:
    code = world.site.codes[0]
    assert world.tenant("apply", "--all", "--yes").code == 0
    doc = world.site.read(code)
    doc["quota"] = {"overrides": {"compute": {"cores": 6}}}
    doc["security_groups"][0]["rules"].append(
        {"protocol": "tcp", "port_range": 8443, "remote_ip_prefix": "10.20.0.0/16"}
    )
    world.site.write(code, doc)
    plan = world.tenant("plan", "--all", "--output", "json")
    assert plan.code == 2
    assert _changes(plan.json(), code) == [
        ("create", "security_group_rule", "web ingress IPv4 tcp 8443 from 10.20.0.0/16"),
        ("update", "quota", "compute"),
    ]
    quota_change = next(
        c for c in plan.json()["agencies"][0]["changes"] if c["kind"] == "quota" and c["fields"]
    )
    assert quota_change["fields"] == [{"field": "cores", "old": 4, "new": 6}]
    assert world.tenant("apply", "--all", "--yes").code == 0
    assert world.tenant("plan", "--all").code == 0


def test_hand_made_drift_is_detected(world: TenantWorld) -> None:
    code = world.site.codes[0]
    assert world.tenant("apply", "--all", "--yes").code == 0
    apis = world.apis
    pid = world.project(code)["id"]
    groups = {
        g["name"]: g["id"]
        for g in apis.network.list_all("/security-groups", "security_groups", project_id=pid)
    }
    rules = apis.network.list_all(
        "/security-group-rules", "security_group_rules", security_group_id=groups["web"]
    )
    https = next(r for r in rules if r["port_range_min"] == 443)
    apis.network.delete(f"/security-group-rules/{https['id']}")
    apis.network.post(
        "/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": groups["web"],
                "direction": "ingress",
                "ethertype": "IPv4",
                "protocol": "tcp",
                "port_range_min": 3389,
                "port_range_max": 3389,
                "remote_ip_prefix": "0.0.0.0/0",
            }
        },
    )
    plan = world.tenant("plan", "--all", "--output", "json")
    assert plan.code == 2
    assert _changes(plan.json(), code) == [
        ("create", "security_group_rule", "web ingress IPv4 tcp 443 from any"),
        ("delete", "security_group_rule", "web ingress IPv4 tcp 3389 from any"),
    ]
    kept = world.tenant("plan", "--all", "--keep-unmanaged", "--output", "json")
    assert _changes(kept.json(), code) == [
        ("create", "security_group_rule", "web ingress IPv4 tcp 443 from any")
    ]
    assert world.tenant("apply", "--all", "--yes").code == 0
    assert world.tenant("plan", "--all").code == 0


def test_saved_plan_is_refused_when_the_cloud_changed(world: TenantWorld) -> None:
    code = world.site.codes[0]
    assert world.tenant("apply", "--all", "--yes").code == 0
    doc = world.site.read(code)
    doc["quota"] = {"overrides": {"compute": {"cores": 5}}}
    world.site.write(code, doc)
    plan_file = world.site.path.parent / "plan.json"
    assert world.tenant("plan", "--all", "--out", str(plan_file)).code == 2
    pid = world.project(code)["id"]
    world.apis.compute.put(f"/os-quota-sets/{pid}", {"quota_set": {"instances": 3}})
    refused = world.tenant("apply", str(plan_file), "--yes")
    assert refused.code == 1
    assert "changed since the plan was made" in refused.stdout
    assert world.apis.compute.get(f"/os-quota-sets/{pid}")["quota_set"]["cores"] == 4

    assert world.tenant("plan", "--all", "--out", str(plan_file)).code == 2
    applied = world.tenant("apply", str(plan_file), "--yes")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert world.apis.compute.get(f"/os-quota-sets/{pid}")["quota_set"]["cores"] == 5


def test_passwords_delivered_once_and_never_leaked(world: TenantWorld) -> None:
    result = world.dcctl("-vv", "tenant", "apply", "--all", "--yes", "--site", str(world.site.path))
    assert result.code == 0
    files = list((world.state / "credentials").glob("initial-passwords-*.txt"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    passwords = [line.split("\t")[2] for line in files[0].read_text().splitlines() if "\t" in line]
    assert len(passwords) == 3
    audit = "\n".join(world.audit_lines())
    for password in passwords:
        assert password not in result.stdout
        assert password not in result.stderr  # -vv logs every API request
        assert password not in audit
    assert str(files[0]) in result.stdout
    verify = world.dcctl("audit", "verify", "--log", str(world.site.path.parent / "audit.jsonl"))
    assert verify.code == 0, verify.stdout + verify.stderr
    records = [json.loads(line) for line in world.audit_lines()]
    assert {r["agency"] for r in records} == {world.site.codes[0]}
