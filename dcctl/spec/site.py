"""``site.yaml``: what one cloud site offers and the policies every agency on it inherits."""

from __future__ import annotations

from pydantic import StrictBool

from dcctl.spec.base import SpecModel
from dcctl.spec.quota import Quota
from dcctl.spec.secgroup import DefaultSecurityGroup
from dcctl.spec.types import IP, Cidr, Count, Level, Name, Positive, Text


class Domain(SpecModel):
    """The keystone domain that holds every agency's project, users and groups."""

    name: Name
    description: Text | None = None


class ExternalNetwork(SpecModel):
    """The provider network routers use as gateway. ``cidr``, when given, is kept out of agency
    networks."""

    name: Name
    cidr: Cidr | None = None


class BackupPolicy(SpecModel):
    """How often an agency's volumes are backed up and for how long backups are kept."""

    interval_hours: Positive
    retention_days: Positive
    offsite: StrictBool = False
    description: Text | None = None


class LevelDefaults(SpecModel):
    """What a security level (cấp độ, Decree 85/2016) implies for an agency.

    ``rpo_hours`` is the most data (in hours) the agency may lose: its backup policy must run at
    least that often. ``encrypt_volumes`` is a policy value: every volume of the agency must be
    encrypted. ``default_security_group`` is the rule set of each project's ``default`` group.
    """

    description: Text | None = None
    quota_template: Name
    backup_policy: Name
    rpo_hours: Positive
    encrypt_volumes: StrictBool
    default_security_group: DefaultSecurityGroup


class Flavor(SpecModel):
    """A flavor the site offers: ``ram`` in MiB, ``disk`` in GiB."""

    name: Name
    vcpus: Positive
    ram: Positive
    disk: Count
    description: Text | None = None


class Image(SpecModel):
    """An image the site offers (uploaded by the platform team).

    ``min_disk`` in GiB, ``min_ram`` in MiB."""

    name: Name
    os_distro: Name | None = None
    os_version: Text | None = None
    min_disk: Count = 0
    min_ram: Count = 0
    description: Text | None = None


class SiteConfig(SpecModel):
    """The whole of ``site.yaml``. See docs/spec.md for every field with an example."""

    display_name: Text
    cloud: Name
    domain: Domain
    external_network: ExternalNetwork
    dns_servers: tuple[IP, ...] = ()
    audit_log: Text | None = None
    quota_templates: dict[Name, Quota]
    backup_policies: dict[Name, BackupPolicy]
    security_levels: dict[Level, LevelDefaults]
    flavors: tuple[Flavor, ...] = ()
    images: tuple[Image, ...] = ()
