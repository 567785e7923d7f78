"""Security groups, their rules, and the normalised rule tuple a planner compares with neutron."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import StrictBool

from dcctl.spec.base import SpecModel
from dcctl.spec.types import (
    Cidr,
    Day,
    Direction,
    Ethertype,
    Name,
    PortRangeField,
    Protocol,
    Text,
)

DEFAULT_GROUP = "default"
"""Neutron's group created with every project; ``remote_group: default`` names it."""

ANY_SOURCE_PREFIXES = frozenset({"0.0.0.0/0", "::/0"})


class Waiver(SpecModel):
    """An accepted exception to the any-source rule for admin or database ports."""

    reason: Text
    approved_by: Text
    expires: Day
    ticket: Text | None = None


class NormalRule(NamedTuple):
    """A rule exactly as neutron stores it, for comparing desired with observed.

    ``protocol`` None means any protocol; ``port_min``/``port_max`` None mean every port;
    ``remote_ip_prefix`` is the canonical CIDR text; ``remote_group`` is a security-group *name* in
    the same project (the planner resolves it to an id). Both remotes None means any source.
    """

    direction: str
    ethertype: str
    protocol: str | None
    port_min: int | None
    port_max: int | None
    remote_ip_prefix: str | None
    remote_group: str | None

    @property
    def any_source(self) -> bool:
        """True when this ingress rule admits every address (Prowler's any-source definition)."""
        if self.remote_ip_prefix is not None:
            return self.remote_ip_prefix in ANY_SOURCE_PREFIXES
        return self.remote_group is None


class Rule(SpecModel):
    """One security-group rule.

    ``protocol`` omitted or ``any`` means every protocol; ``port_range`` (``443`` or
    ``"8000-8080"``) only goes with tcp/udp and omitted means every port. ``ethertype`` follows
    ``remote_ip_prefix`` when that is given, else defaults to IPv4. At most one of
    ``remote_ip_prefix`` and ``remote_group`` is given; with neither, the rule admits any source.
    """

    direction: Direction = "ingress"
    ethertype: Ethertype | None = None
    protocol: Protocol | None = None
    port_range: PortRangeField | None = None
    remote_ip_prefix: Cidr | None = None
    remote_group: Name | None = None
    description: Text | None = None
    waiver: Waiver | None = None

    @property
    def effective_ethertype(self) -> str:
        if self.remote_ip_prefix is not None:
            return "IPv6" if self.remote_ip_prefix.version == 6 else "IPv4"
        return self.ethertype or "IPv4"

    def normalised(self) -> NormalRule:
        return NormalRule(
            direction=self.direction,
            ethertype=self.effective_ethertype,
            protocol=None if self.protocol in (None, "any") else self.protocol,
            port_min=self.port_range.low if self.port_range else None,
            port_max=self.port_range.high if self.port_range else None,
            remote_ip_prefix=str(self.remote_ip_prefix) if self.remote_ip_prefix else None,
            remote_group=self.remote_group,
        )


EGRESS_ALL: tuple[NormalRule, ...] = (
    NormalRule("egress", "IPv4", None, None, None, None, None),
    NormalRule("egress", "IPv6", None, None, None, None, None),
)
"""The two rules neutron adds to every new group (all outbound traffic)."""


class RuleSet(SpecModel):
    """Rules of a group. ``egress_all`` (default true) keeps neutron's allow-all-outbound rules."""

    rules: tuple[Rule, ...] = ()
    egress_all: StrictBool = True

    def normalised_rules(self) -> tuple[NormalRule, ...]:
        """The complete desired rule set, in spec order, egress-all rules last, no duplicates."""
        wanted = [rule.normalised() for rule in self.rules]
        if self.egress_all:
            wanted += EGRESS_ALL
        return tuple(dict.fromkeys(wanted))


class SecurityGroup(RuleSet):
    """A named group of an agency's project (any name but ``default``)."""

    name: Name
    description: Text | None = None


class DefaultSecurityGroup(RuleSet):
    """The rules of the ``default`` group neutron creates with every project."""
