"""``agencies/<code>.yaml``: one government agency, onboarded as one tenant (project)."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from pydantic import Field, StrictBool

from dcctl.spec.base import SpecModel
from dcctl.spec.quota import QuotaOverrides
from dcctl.spec.secgroup import DefaultSecurityGroup, SecurityGroup
from dcctl.spec.types import (
    IP,
    AgencyRole,
    Cidr,
    Code,
    Day,
    Email,
    IPAddress,
    Level,
    Name,
    Positive,
    Text,
)

NonEmpty = Field(min_length=1)


class Source(SpecModel):
    """The decision that asked for the agency's systems, e.g. 172/QĐ-UBND, items II.2.b.4–b.5."""

    decision: Text
    date: Day | None = None
    items: Annotated[tuple[Text, ...], NonEmpty]


class System(SpecModel):
    """An information system the tenant hosts, and the plan item it comes from."""

    name: Text
    item: Text
    description: Text | None = None


class Contact(SpecModel):
    name: Text
    role: Literal["owner", "technical", "security", "operations"]
    email: Email | None = None
    phone: Text | None = None


class Project(SpecModel):
    """The keystone project; ``name`` defaults to the agency code."""

    name: Name | None = None
    description: Text | None = None


class User(SpecModel):
    """A keystone user of the site's domain with roles on the agency's project."""

    name: Name
    full_name: Text
    email: Email | None = None
    roles: Annotated[tuple[AgencyRole, ...], NonEmpty]
    enabled: StrictBool = True


class Group(SpecModel):
    """A keystone group with roles on the agency's project; members are this agency's users."""

    name: Name
    description: Text | None = None
    roles: Annotated[tuple[AgencyRole, ...], NonEmpty]
    members: tuple[Name, ...] = ()


class Network(SpecModel):
    """A tenant network with one subnet. ``gateway_ip`` defaults to the first host address."""

    name: Name
    cidr: Cidr
    gateway_ip: IP | None = None
    enable_dhcp: StrictBool = True
    dns_servers: tuple[IP, ...] | None = None
    description: Text | None = None

    @property
    def effective_gateway(self) -> IPAddress:
        if self.gateway_ip is not None:
            return self.gateway_ip
        return cast(IPAddress, next(self.cidr.hosts()))


class Router(SpecModel):
    """The agency's router: SNAT gateway on the site's external network and one interface per
    network listed. ``name`` defaults to ``<code>-router``."""

    name: Name | None = None
    external_gateway: StrictBool = True
    interfaces: tuple[Name, ...] = ()


class QuotaSpec(SpecModel):
    """``template`` defaults to the security level's; ``overrides`` replace single limits."""

    template: Name | None = None
    overrides: QuotaOverrides = QuotaOverrides()


# -- placeholders: validated, documented, NOT yet applied by the planner ------------------------


class Server(SpecModel):
    """Placeholder (not applied yet): a server of the agency."""

    name: Name
    flavor: Name
    image: Name
    networks: Annotated[tuple[Name, ...], NonEmpty]
    security_groups: tuple[Name, ...] = ("default",)
    description: Text | None = None


class Volume(SpecModel):
    """Placeholder (not applied yet): a volume (``size`` in GiB), optionally attached to a server.
    ``encrypted`` defaults to the security level's ``encrypt_volumes``."""

    name: Name
    size: Positive
    server: Name | None = None
    encrypted: StrictBool | None = None
    description: Text | None = None


class Database(SpecModel):
    """Placeholder (not applied yet): a database on a host of ``hosts.yml``."""

    name: Name
    engine: Literal["postgresql", "mariadb", "mysql"]
    host: Name
    description: Text | None = None


class Agency(SpecModel):
    """The whole of ``agencies/<code>.yaml``. See docs/spec.md for every field with an example."""

    code: Code
    name: Text
    name_en: Text | None = None
    source: Source
    systems: Annotated[tuple[System, ...], NonEmpty]
    owner: Text
    operator: Text
    contacts: Annotated[tuple[Contact, ...], NonEmpty]
    security_level: Level
    project: Project = Project()
    quota: QuotaSpec = QuotaSpec()
    backup_policy: Name | None = None
    users: tuple[User, ...] = ()
    groups: tuple[Group, ...] = ()
    networks: tuple[Network, ...] = ()
    router: Router | None = None
    security_groups: tuple[SecurityGroup, ...] = ()
    default_security_group: DefaultSecurityGroup | None = None
    servers: tuple[Server, ...] = ()
    volumes: tuple[Volume, ...] = ()
    databases: tuple[Database, ...] = ()

    @property
    def project_name(self) -> str:
        """The keystone project name: ``project.name`` or the agency code."""
        return self.project.name or self.code

    @property
    def router_name(self) -> str:
        return (self.router.name if self.router else None) or f"{self.code}-router"

    def security_group(self, name: str) -> SecurityGroup | None:
        return next((group for group in self.security_groups if group.name == name), None)

    def network(self, name: str) -> Network | None:
        return next((network for network in self.networks if network.name == name), None)
