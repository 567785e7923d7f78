"""What one agency's tenant looks like in the cloud now, in the planner's vocabulary (pure).

Ownership: projects, networks, subnets, routers and security groups belong to an agency by
dcctl's tag; users and groups by their ``dcctl_agency`` attribute; role assignments, quotas,
interfaces, memberships and rules by the managed resource they hang on. A resource with the
spec's name but without the marker is observed as unmanaged, so the plan adopts it instead of
creating a duplicate.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from dcctl.cloud.rest import JSON
from dcctl.reconcile.model import Observed, Ref
from dcctl.spec.agency import Agency
from dcctl.spec.secgroup import DEFAULT_GROUP, EGRESS_ALL, NormalRule
from dcctl.tenant import kinds
from dcctl.tenant.kinds import (
    GROUP,
    MEMBERSHIP,
    NETWORK,
    PROJECT,
    QUOTA,
    ROLE_ASSIGNMENT,
    ROUTER,
    ROUTER_INTERFACE,
    RULE,
    SECURITY_GROUP,
    SUBNET,
    USER,
)
from dcctl.tenant.snapshot import Snapshot

# Rules neutron puts into a project's new ``default`` group.
NEUTRON_DEFAULT_RULES: tuple[NormalRule, ...] = (
    NormalRule("ingress", "IPv4", None, None, None, None, DEFAULT_GROUP),
    NormalRule("ingress", "IPv6", None, None, None, None, DEFAULT_GROUP),
    *EGRESS_ALL,
)


@dataclass
class AgencyState:
    code: str
    project_id: str | None
    suspended: bool
    observed: list[Observed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def by_ref(self) -> dict[Ref, Observed]:
        return {item.ref: item for item in self.observed}


def observe_agency(snapshot: Snapshot, agency: Agency) -> AgencyState:
    project = snapshot.project_for(agency.code)
    managed_project = project is not None
    if project is None:
        project = snapshot.project_named(agency.project_name)
    state = AgencyState(
        code=agency.code,
        project_id=project["id"] if project else None,
        suspended=bool(project and kinds.SUSPENDED_TAG in (project.get("tags") or [])),
    )
    if project is not None:
        state.observed.append(
            Observed(
                Ref(PROJECT, agency.code),
                project["id"],
                {
                    "name": project.get("name"),
                    "description": project.get("description"),
                    "enabled": project.get("enabled", True),
                    "tags": frozenset(project.get("tags") or []),
                },
                managed=managed_project,
            )
        )
    _identity(snapshot, agency, state)
    if state.project_id is None:
        _predicted_default_group(state)
        return state
    _quotas(snapshot, state)
    _networking(snapshot, agency, state)
    _security_groups(snapshot, agency, state)
    return state


# -- identity ------------------------------------------------------------------------------------


def _identity(snapshot: Snapshot, agency: Agency, state: AgencyState) -> None:
    project_names = {p["id"]: p.get("name") for p in snapshot.projects}
    spec_users = {user.name for user in agency.users}
    spec_groups = {group.name for group in agency.groups}
    users = [
        u
        for u in snapshot.users
        if u.get(kinds.AGENCY_ATTR) == agency.code or u["name"] in spec_users
    ]
    groups = [
        g
        for g in snapshot.groups
        if g.get(kinds.AGENCY_ATTR) == agency.code or g["name"] in spec_groups
    ]
    for user in users:
        state.observed.append(
            Observed(
                Ref(USER, user["name"]),
                user["id"],
                {
                    "description": user.get("description"),
                    "email": user.get("email"),
                    "enabled": user.get("enabled", True),
                    "default_project": project_names.get(user.get("default_project_id") or ""),
                    "agency": user.get(kinds.AGENCY_ATTR),
                    "password": user.get(kinds.PASSWORD_ATTR),
                },
                managed=user.get(kinds.AGENCY_ATTR) == agency.code,
            )
        )
    for group in groups:
        state.observed.append(
            Observed(
                Ref(GROUP, group["name"]),
                group["id"],
                {"description": group.get("description"), "agency": group.get(kinds.AGENCY_ATTR)},
                managed=group.get(kinds.AGENCY_ATTR) == agency.code,
            )
        )
    user_names = {u["id"]: u["name"] for u in snapshot.users}
    group_names = {g["id"]: g["name"] for g in groups}
    for membership in snapshot.memberships:
        group_name = group_names.get(membership["group_id"])
        if group_name is None:
            continue
        member = user_names.get(membership["user_id"], membership["user_id"])
        state.observed.append(
            Observed(
                Ref(MEMBERSHIP, f"{group_name}/{member}"),
                f"{membership['group_id']}/{membership['user_id']}",
                {},
            )
        )
    if state.project_id is None:
        return
    all_groups = {g["id"]: g["name"] for g in snapshot.groups}
    for assignment in snapshot.assignments:
        if assignment["project_id"] != state.project_id:
            continue
        role = snapshot.role_name(assignment["role_id"]) or assignment["role_id"]
        if assignment.get("user_id"):
            actor = f"user:{user_names.get(assignment['user_id'], assignment['user_id'])}"
            actor_id = f"user:{assignment['user_id']}"
        else:
            actor = f"group:{all_groups.get(assignment['group_id'], assignment['group_id'])}"
            actor_id = f"group:{assignment['group_id']}"
        state.observed.append(
            Observed(
                Ref(ROLE_ASSIGNMENT, f"{actor}/{role}"),
                f"{actor_id}/{assignment['role_id']}",
                {},
            )
        )


# -- quotas --------------------------------------------------------------------------------------


def _quotas(snapshot: Snapshot, state: AgencyState) -> None:
    sections = snapshot.quotas.get(state.project_id or "", {})
    for section, values in sections.items():
        state.observed.append(
            Observed(
                Ref(QUOTA, section),
                state.project_id or "",
                {name: value.get("limit") for name, value in values.items()},
            )
        )


def quota_usage(snapshot: Snapshot, project_id: str) -> dict[str, dict[str, int]]:
    """section → limit name → in use (where the API reports usage)."""
    usage: dict[str, dict[str, int]] = {}
    for section, values in snapshot.quotas.get(project_id, {}).items():
        usage[section] = {
            name: int(value["in_use"])
            for name, value in values.items()
            if isinstance(value.get("in_use"), int)
        }
    return usage


# -- networking ----------------------------------------------------------------------------------


def _ours(item: JSON, code: str) -> bool:
    return kinds.agency_tag(code) in (item.get("tags") or [])


def _networking(snapshot: Snapshot, agency: Agency, state: AgencyState) -> None:
    pid = state.project_id
    spec_networks = {network.name for network in agency.networks}
    networks = {}
    for network in snapshot.networks:
        if network.get("project_id") != pid:
            continue
        managed = _ours(network, agency.code)
        if not managed and network.get("name") not in spec_networks:
            state.warnings.append(
                f"network {network.get('name')} ({network['id']}) in the project is not managed"
            )
            continue
        networks[network["id"]] = network
        state.observed.append(
            Observed(
                Ref(NETWORK, network["name"]),
                network["id"],
                {"name": network["name"], "description": network.get("description")},
                managed=managed,
            )
        )
    subnet_names: dict[str, str] = {}
    for subnet in snapshot.subnets:
        parent = networks.get(subnet.get("network_id", ""))
        if parent is None:
            continue
        key = parent["name"]
        subnet_names[subnet["id"]] = key
        state.observed.append(
            Observed(
                Ref(SUBNET, key if subnet.get("name") == key else f"{key}/{subnet.get('name')}"),
                subnet["id"],
                {
                    "network": parent["name"],
                    "cidr": subnet.get("cidr"),
                    "ip_version": subnet.get("ip_version"),
                    "gateway_ip": subnet.get("gateway_ip"),
                    "enable_dhcp": subnet.get("enable_dhcp"),
                    "dns_nameservers": tuple(subnet.get("dns_nameservers") or ()),
                },
                managed=_ours(subnet, agency.code),
                depends_on=(Ref(NETWORK, parent["name"]),),
            )
        )
    external: JSON = snapshot.external_network or {}
    router_names: dict[str, str] = {}
    for router in snapshot.routers:
        if router.get("project_id") != pid:
            continue
        managed = _ours(router, agency.code)
        if not managed and router.get("name") != agency.router_name:
            state.warnings.append(f"router {router.get('name')} in the project is not managed")
            continue
        gateway = (router.get("external_gateway_info") or {}).get("network_id")
        router_names[router["id"]] = router["name"]
        state.observed.append(
            Observed(
                Ref(ROUTER, router["name"]),
                router["id"],
                {
                    "name": router["name"],
                    "external_network": external.get("name")
                    if gateway and gateway == external.get("id")
                    else gateway,
                },
                managed=managed,
            )
        )
    for port in snapshot.router_ports:
        router_name = router_names.get(port.get("device_id", ""))
        if router_name is None:
            continue
        for fixed in port.get("fixed_ips") or []:
            subnet_key = subnet_names.get(fixed.get("subnet_id", ""))
            if subnet_key is None:
                continue
            state.observed.append(
                Observed(
                    Ref(ROUTER_INTERFACE, f"{router_name}/{subnet_key}"),
                    f"{port['device_id']}/{fixed['subnet_id']}",
                    {"router": router_name, "subnet": subnet_key},
                    depends_on=(Ref(ROUTER, router_name), Ref(SUBNET, subnet_key)),
                )
            )


# -- security groups -----------------------------------------------------------------------------


def _security_groups(snapshot: Snapshot, agency: Agency, state: AgencyState) -> None:
    pid = state.project_id
    spec_groups = {group.name for group in agency.security_groups}
    groups: dict[str, JSON] = {}
    for group in snapshot.security_groups:
        if group.get("project_id") != pid:
            continue
        name = group.get("name")
        managed = name == DEFAULT_GROUP or _ours(group, agency.code)
        if not managed and name not in spec_groups:
            state.warnings.append(f"security group {name} ({group['id']}) is not managed")
            continue
        groups[group["id"]] = group
        attrs: dict[str, Any] = {"name": name}
        if name != DEFAULT_GROUP:
            attrs["description"] = group.get("description")
        state.observed.append(
            Observed(Ref(SECURITY_GROUP, str(name)), group["id"], attrs, managed=managed)
        )
    if not any(g.get("name") == DEFAULT_GROUP for g in groups.values()):
        _predicted_default_group(state)
    names = {group_id: str(group.get("name")) for group_id, group in groups.items()}
    for rule in snapshot.rules:
        group_name = names.get(rule.get("security_group_id", ""))
        if group_name is None:
            continue
        remote_id = rule.get("remote_group_id")
        normal = kinds.canonical_rule(
            NormalRule(
                direction=rule["direction"],
                ethertype=rule.get("ethertype", "IPv4"),
                protocol=_protocol(rule.get("protocol")),
                port_min=rule.get("port_range_min"),
                port_max=rule.get("port_range_max"),
                remote_ip_prefix=_prefix(rule.get("remote_ip_prefix")),
                remote_group=names.get(remote_id, remote_id) if remote_id else None,
            )
        )
        state.observed.append(
            Observed(
                Ref(RULE, kinds.rule_key(group_name, normal)),
                rule["id"],
                {"group": group_name, **normal._asdict()},
                depends_on=(Ref(SECURITY_GROUP, group_name),),
            )
        )


def _predicted_default_group(state: AgencyState) -> None:
    """Neutron creates ``default`` (with its four rules) on the project's first network call;
    the plan must count those rules as existing, not as something dcctl creates."""
    for rule in NEUTRON_DEFAULT_RULES:
        state.observed.append(
            Observed(
                Ref(RULE, kinds.rule_key(DEFAULT_GROUP, rule)),
                "",
                {"group": DEFAULT_GROUP, **rule._asdict()},
                depends_on=(Ref(SECURITY_GROUP, DEFAULT_GROUP),),
            )
        )


def predicted_rules_for_new_group(name: str) -> list[Observed]:
    """Neutron adds allow-all egress rules to every group it creates."""
    return [
        Observed(
            Ref(RULE, kinds.rule_key(name, rule)),
            "",
            {"group": name, **rule._asdict()},
            depends_on=(Ref(SECURITY_GROUP, name),),
        )
        for rule in EGRESS_ALL
    ]


def _protocol(value: Any) -> str | None:
    if value in (None, "", "any"):
        return None
    return str(value)


def _prefix(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return str(ipaddress.ip_network(str(value), strict=False))
