"""What one agency's tenant should look like in the cloud, derived from its spec (pure).

Attributes use names, never ids (``default_project: soyte``), so plans read well and stay
stable across clouds; the handlers resolve names to ids when they write.
"""

from __future__ import annotations

from typing import Any

from dcctl.reconcile.model import Desired, Ref
from dcctl.spec.agency import Agency
from dcctl.spec.inventory import Site
from dcctl.spec.secgroup import DEFAULT_GROUP, NormalRule
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


def project_tags(site: Site, agency: Agency) -> frozenset[str]:
    return frozenset(
        {
            kinds.MANAGED_TAG,
            kinds.agency_tag(agency.code),
            f"dcctl:site={site.name}",
            f"dcctl:level={agency.security_level}",
            f"dcctl:owner={agency.owner}"[:255],
        }
    )


def project_description(agency: Agency) -> str:
    """The spec's ``project.description``, else the agency's name and code."""
    if agency.project.description:
        return agency.project.description
    return f"{agency.name} ({agency.code})"


def build_desired(site: Site, agency: Agency, *, suspended: bool = False) -> list[Desired]:
    """Every resource the agency's spec asks for. ``suspended`` keeps project and users disabled."""
    project = Ref(PROJECT, agency.code)
    items: list[Desired] = []
    tags = project_tags(site, agency)
    if suspended:
        tags |= {kinds.SUSPENDED_TAG}
    items.append(
        Desired(
            project,
            {
                "name": agency.project_name,
                "description": project_description(agency),
                "enabled": not suspended,
                "tags": tags,
            },
            create_only=frozenset({"domain"}),
        )
    )
    items += _identity(agency, project, suspended=suspended)
    items += _quotas(site, agency, project)
    items += _networking(site, agency, project)
    items += _security_groups(site, agency, project)
    return items


def _identity(agency: Agency, project: Ref, *, suspended: bool) -> list[Desired]:
    items: list[Desired] = []
    for user in agency.users:
        ref = Ref(USER, user.name)
        items.append(
            Desired(
                ref,
                {
                    "description": user.full_name,
                    "email": user.email,
                    "enabled": user.enabled and not suspended,
                    "default_project": agency.project_name,
                    "agency": agency.code,
                },
                depends_on=(project,),
            )
        )
        items += [
            Desired(Ref(ROLE_ASSIGNMENT, f"user:{user.name}/{role}"), {}, depends_on=(project, ref))
            for role in sorted(set(user.roles))
        ]
    for group in agency.groups:
        ref = Ref(GROUP, group.name)
        items.append(Desired(ref, {"description": group.description, "agency": agency.code}))
        items += [
            Desired(
                Ref(ROLE_ASSIGNMENT, f"group:{group.name}/{role}"), {}, depends_on=(project, ref)
            )
            for role in sorted(set(group.roles))
        ]
        items += [
            Desired(
                Ref(MEMBERSHIP, f"{group.name}/{member}"), {}, depends_on=(ref, Ref(USER, member))
            )
            for member in sorted(set(group.members))
        ]
    return items


def _quotas(site: Site, agency: Agency, project: Ref) -> list[Desired]:
    quota = site.effective_quota(agency)
    sections: dict[str, dict[str, Any]] = {
        "compute": quota.compute.values(),
        "volume": quota.volume.values(),
        "network": quota.network.values(),
    }
    return [
        Desired(Ref(QUOTA, name), values, depends_on=(project,))
        for name, values in sections.items()
    ]


#: Neutron resources are made after the project's network quota is set: neutron counts a create
#: in flight against the limit, so lowering it (routers 10 → 1) beside a create is refused.
NETWORK_QUOTA = Ref(QUOTA, "network")


def _networking(site: Site, agency: Agency, project: Ref) -> list[Desired]:
    items: list[Desired] = []
    for network in agency.networks:
        net_ref = Ref(NETWORK, network.name)
        items.append(
            Desired(
                net_ref,
                {"name": network.name, "description": network.description},
                depends_on=(project, NETWORK_QUOTA),
            )
        )
        dns = network.dns_servers if network.dns_servers is not None else site.config.dns_servers
        items.append(
            Desired(
                Ref(SUBNET, network.name),
                {
                    "network": network.name,
                    "cidr": str(network.cidr),
                    "ip_version": network.cidr.version,
                    "gateway_ip": str(network.effective_gateway),
                    "enable_dhcp": network.enable_dhcp,
                    "dns_nameservers": tuple(str(server) for server in dns),
                },
                create_only=frozenset({"network", "cidr", "ip_version"}),
                depends_on=(net_ref,),
            )
        )
    if agency.router is not None:
        router_ref = Ref(ROUTER, agency.router_name)
        gateway = site.config.external_network.name if agency.router.external_gateway else None
        items.append(
            Desired(
                router_ref,
                {"name": agency.router_name, "external_network": gateway},
                depends_on=(project, NETWORK_QUOTA),
            )
        )
        items += [
            Desired(
                Ref(ROUTER_INTERFACE, f"{agency.router_name}/{name}"),
                {"router": agency.router_name, "subnet": name},
                create_only=frozenset({"router", "subnet"}),
                depends_on=(router_ref, Ref(SUBNET, name)),
            )
            for name in agency.router.interfaces
        ]
    return items


def _security_groups(site: Site, agency: Agency, project: Ref) -> list[Desired]:
    items: list[Desired] = [
        Desired(Ref(SECURITY_GROUP, DEFAULT_GROUP), {"name": DEFAULT_GROUP}, depends_on=(project,))
    ]
    items += _rules(DEFAULT_GROUP, site.default_security_group_rules(agency))
    for group in agency.security_groups:
        items.append(
            Desired(
                Ref(SECURITY_GROUP, group.name),
                {"name": group.name, "description": group.description},
                depends_on=(project, NETWORK_QUOTA),
            )
        )
        items += _rules(group.name, group.normalised_rules())
    return items


def _rules(group: str, rules: tuple[NormalRule, ...]) -> list[Desired]:
    items = []
    for rule in dict.fromkeys(kinds.canonical_rule(rule) for rule in rules):
        deps = [Ref(SECURITY_GROUP, group), NETWORK_QUOTA]
        if rule.remote_group is not None and rule.remote_group != group:
            deps.append(Ref(SECURITY_GROUP, rule.remote_group))
        items.append(
            Desired(
                Ref(RULE, kinds.rule_key(group, rule)),
                {"group": group, **rule._asdict()},
                create_only=frozenset({"group", *rule._fields}),
                depends_on=tuple(deps),
            )
        )
    return items


def rule_descriptions(site: Site, agency: Agency) -> dict[str, str]:
    """Rule key → description. Sent with the create request only: neutron cannot update a
    rule, so descriptions are not compared."""
    found: dict[str, str] = {}
    for group in agency.security_groups:
        for rule in group.rules:
            if rule.description:
                key = kinds.rule_key(group.name, kinds.canonical_rule(rule.normalised()))
                found[key] = rule.description
    default = site.default_security_group(agency)
    for rule in default.rules:
        if rule.description:
            key = kinds.rule_key(DEFAULT_GROUP, kinds.canonical_rule(rule.normalised()))
            found[key] = rule.description
    return found
