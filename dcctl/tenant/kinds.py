"""Resource kinds of an agency tenant, the markers dcctl puts on them, and their apply order."""

from __future__ import annotations

from dcctl.spec.secgroup import ANY_SOURCE_PREFIXES, NormalRule

PROJECT = "project"
USER = "user"
GROUP = "group"
MEMBERSHIP = "membership"
ROLE_ASSIGNMENT = "role_assignment"
QUOTA = "quota"
NETWORK = "network"
SUBNET = "subnet"
ROUTER = "router"
ROUTER_INTERFACE = "router_interface"
SECURITY_GROUP = "security_group"
RULE = "security_group_rule"

# Display and deletion order (deletes run in reverse of this).
ORDER = (
    PROJECT,
    USER,
    GROUP,
    MEMBERSHIP,
    ROLE_ASSIGNMENT,
    QUOTA,
    NETWORK,
    SUBNET,
    ROUTER,
    ROUTER_INTERFACE,
    SECURITY_GROUP,
    RULE,
)

MANAGED_TAG = "dcctl"
SUSPENDED_TAG = "dcctl:suspended"
AGENCY_TAG_PREFIX = "dcctl:agency="
# Keystone user/group extra attribute that names the owning agency (users and groups have no tags).
AGENCY_ATTR = "dcctl_agency"
# Keystone user extra attribute: "pending" while an initial password is not yet delivered.
PASSWORD_ATTR = "dcctl_password"  # noqa: S105 - an attribute name, not a secret
PASSWORD_PENDING = "pending"  # noqa: S105 - a state marker
PASSWORD_DELIVERED = "delivered"  # noqa: S105


def agency_tag(code: str) -> str:
    return f"{AGENCY_TAG_PREFIX}{code}"


def neutron_tags(code: str) -> list[str]:
    return [MANAGED_TAG, agency_tag(code)]


def agency_of_tags(tags: object) -> str | None:
    if not isinstance(tags, list | tuple | set | frozenset):
        return None
    for tag in tags:
        if isinstance(tag, str) and tag.startswith(AGENCY_TAG_PREFIX):
            return tag.removeprefix(AGENCY_TAG_PREFIX)
    return None


def rule_key(group: str, rule: NormalRule) -> str:
    """A readable identity for a rule (neutron rules have no name and no tags)."""
    protocol = rule.protocol or "any"
    if rule.port_min is None:
        ports = "all"
    elif rule.port_min == rule.port_max:
        ports = str(rule.port_min)
    else:
        ports = f"{rule.port_min}-{rule.port_max}"
    if rule.remote_group is not None:
        remote = f"group:{rule.remote_group}"
    else:
        remote = rule.remote_ip_prefix or "any"
    return f"{group} {rule.direction} {rule.ethertype} {protocol} {ports} from {remote}"


_PROTOCOL_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "ipv6-icmp"}
_IPV6_ICMP = frozenset({"icmp", "icmpv6", "ipv6-icmp", "58"})


def canonical_rule(rule: NormalRule) -> NormalRule:
    """One spelling per meaning, as neutron stores it: any-address prefixes become "no prefix",
    protocol numbers become names, ICMP on IPv6 is ``ipv6-icmp``."""
    protocol = rule.protocol
    if protocol is not None:
        protocol = protocol.lower()
        if rule.ethertype == "IPv6" and protocol in _IPV6_ICMP:
            protocol = "ipv6-icmp"
        protocol = _PROTOCOL_NUMBERS.get(protocol, protocol)
    prefix = rule.remote_ip_prefix
    if prefix in ANY_SOURCE_PREFIXES:
        prefix = None
    return rule._replace(protocol=protocol, remote_ip_prefix=prefix)
