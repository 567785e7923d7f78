"""Onboard one agency of the benchmark's example shape with plain, sequential openstacksdk calls.

Tool (c) of ``bench/onboard_bench.py``: the same resources as dcctl, one call after another, no
reading of the current state, no tags, no audit. Runnable alone with dcctl's venv:

    OS_CLOUD=dcctl-bench .venv/bin/python bench/onboard/sdk_sequential.py CODE 10.100.7.0/24

Creates project CODE in domain ``quangngai``, users CODE.user0..2 (initial passwords appended to
a 0600 file), roles member/member/reader, compute/volume/network quotas (the site's "small"
template), network CODE-app with its subnet, router CODE-router with a gateway on ``public`` and
an interface on the subnet, security groups web (3 rules) and db (2 rules).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
from pathlib import Path

import openstack

COMPUTE = {
    "instances": 4,
    "cores": 4,
    "ram": 8192,
    "key_pairs": 10,
    "server_groups": 2,
    "server_group_members": 4,
}
VOLUME = {"volumes": 4, "gigabytes": 40, "snapshots": 4, "backups": 8, "backup_gigabytes": 80}
NETWORK = {
    "networks": 2,
    "subnets": 2,
    "ports": 16,
    "routers": 1,
    "floating_ips": 0,
    "security_groups": 6,
    "security_group_rules": 40,
}
DNS = ["203.162.4.191", "203.162.4.190"]
# group -> (port, remote ip prefix or None, remote group or None)
RULES: dict[str, list[tuple[int, str | None, str | None]]] = {
    "web": [(443, "0.0.0.0/0", None), (80, "10.0.0.0/8", None), (22, "10.0.0.0/24", None)],
    "db": [(5432, None, "web"), (22, "10.0.0.0/24", None)],
}
DESCRIPTIONS = {"web": "web tier", "db": "database tier"}


def onboard(conn: openstack.connection.Connection, code: str, cidr: str, passwords: Path) -> str:
    domain = conn.identity.find_domain(os.environ.get("DOMAIN", "quangngai"), ignore_missing=False)
    project = conn.identity.create_project(
        name=code, domain_id=domain.id, description=f"Cơ quan thử nghiệm {code} ({code})"
    )
    roles = {role.name: role for role in conn.identity.roles()}
    fd = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        for n, role in enumerate(("member", "member", "reader")):
            password = secrets.token_urlsafe(18)
            user = conn.identity.create_user(
                name=f"{code}.user{n}",
                domain_id=domain.id,
                password=password,
                email=f"user{n}@{code}.example.vn",
                description=f"Người dùng {n}",
                default_project_id=project.id,
            )
            out.write(f"{user.name} {password}\n")
            conn.identity.assign_project_role_to_user(project, user, roles[role])
    conn.compute.update_quota_set(project.id, **COMPUTE)  # type: ignore[arg-type]
    conn.block_storage.update_quota_set(project.id, **VOLUME)  # type: ignore[arg-type]
    conn.network.update_quota(project.id, **NETWORK)

    network = conn.network.create_network(name=f"{code}-app", project_id=project.id)
    subnet = conn.network.create_subnet(
        name=f"{code}-app",
        network_id=network.id,
        project_id=project.id,
        ip_version=4,
        cidr=cidr,
        gateway_ip=str(next(ipaddress.ip_network(cidr).hosts())),
        dns_nameservers=DNS,
    )
    public = conn.network.find_network(os.environ.get("EXTERNAL", "public"), ignore_missing=False)
    router = conn.network.create_router(
        name=f"{code}-router",
        project_id=project.id,
        external_gateway_info={"network_id": public.id},
    )
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)

    groups = {
        name: conn.network.create_security_group(
            name=name, description=DESCRIPTIONS[name], project_id=project.id
        )
        for name in RULES
    }
    for name, rules in RULES.items():
        for port, prefix, remote in rules:
            conn.network.create_security_group_rule(
                security_group_id=groups[name].id,
                project_id=project.id,
                direction="ingress",
                ethertype="IPv4",
                protocol="tcp",
                port_range_min=port,
                port_range_max=port,
                remote_ip_prefix=prefix,
                remote_group_id=groups[remote].id if remote else None,
            )
    return str(project.id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("code")
    parser.add_argument("cidr")
    parser.add_argument("passwords", nargs="?", type=Path)
    parser.add_argument("--cloud", default=os.environ.get("OS_CLOUD", "dcctl-bench"))
    args = parser.parse_args()
    passwords = args.passwords or Path(f"initial-passwords-{args.code}.txt")
    conn = openstack.connect(cloud=args.cloud)
    project_id = onboard(conn, args.code, args.cidr, passwords)
    print(f"onboarded {args.code} (project {project_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
