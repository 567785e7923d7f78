"""What "converged, no duplicates, no orphans" means for a generated agency, in the cloud."""

from __future__ import annotations

from collections import Counter

from dcctl.cloud.rest import Apis


def assert_clean(apis: Apis, code: str) -> None:
    """Exactly one of everything, everything marked, nothing left over from a crash."""
    projects = [
        p
        for p in apis.identity.list_all("/projects", "projects")
        if p["name"] == code or f"dcctl:agency={code}" in p.get("tags", [])
    ]
    assert len(projects) == 1, f"projects for {code}: {[p['name'] for p in projects]}"
    pid = projects[0]["id"]
    assert f"dcctl:agency={code}" in projects[0]["tags"]
    users = [
        u for u in apis.identity.list_all("/users", "users") if u["name"].startswith(f"{code}.")
    ]
    names = Counter(u["name"] for u in users)
    assert all(count == 1 for count in names.values()), names
    assert all(u.get("dcctl_agency") == code for u in users)
    assert all(u.get("dcctl_password") == "delivered" for u in users), [
        (u["name"], u.get("dcctl_password")) for u in users
    ]
    for collection, key in (
        ("/networks", "networks"),
        ("/subnets", "subnets"),
        ("/routers", "routers"),
        ("/security-groups", "security_groups"),
    ):
        items = apis.network.list_all(collection, key, project_id=pid)
        counts = Counter(item["name"] for item in items)
        assert all(count == 1 for count in counts.values()), (collection, counts)
        for item in items:
            if item["name"] != "default":
                assert f"dcctl:agency={code}" in item.get("tags", []), (collection, item["name"])
    groups = apis.network.list_all("/security-groups", "security_groups", project_id=pid)
    for group in groups:
        rules = apis.network.list_all(
            "/security-group-rules", "security_group_rules", security_group_id=group["id"]
        )
        shapes = Counter(
            (
                r["direction"],
                r["ethertype"],
                r["protocol"],
                r["port_range_min"],
                r["port_range_max"],
                r["remote_ip_prefix"],
                r["remote_group_id"],
            )
            for r in rules
        )
        assert all(count == 1 for count in shapes.values()), shapes
        # Rules belong to the agency's project (and count against its quota, not the admin's).
        assert all(r["project_id"] == pid for r in rules), [
            (group["name"], r["id"], r["project_id"]) for r in rules if r["project_id"] != pid
        ]
    ports = apis.network.list_all(
        "/ports", "ports", project_id=pid, device_owner="network:router_interface"
    )
    subnets = Counter(f["subnet_id"] for p in ports for f in p["fixed_ips"])
    assert all(count == 1 for count in subnets.values()), subnets
    locks = [
        p for p in apis.identity.list_all("/projects", "projects") if p["name"].endswith(f".{code}")
    ]
    assert not locks, f"lock left behind: {[p['name'] for p in locks]}"
