"""The desired state of the site's agency tenants: models, offline validation and loading.

Public API::

    load_site(path, *, today=None) -> Site            # one inventory/<site>/ directory
    load_inventory(path="inventory", *, today=None) -> list[Site]
    check_inventory(path, *, today=None) -> Report     # sites and problems, never raises them

``load_*`` raise :class:`SpecInvalid` (a DataError, exit 65) whose ``problems`` lists every
:class:`Problem` (file, line, path, reason, kind). ``today`` decides which waivers have expired.
The domain never prints or exits; ``dcctl spec validate`` renders reports.
"""

from __future__ import annotations

from dcctl.spec.agency import (
    Agency,
    Contact,
    Database,
    Group,
    Network,
    Project,
    Router,
    Server,
    Source,
    System,
    User,
    Volume,
)
from dcctl.spec.hosts import HostInventory
from dcctl.spec.inventory import Site
from dcctl.spec.loader import Report, check_inventory, check_site, load_inventory, load_site
from dcctl.spec.problems import Kind, Problem, SpecInvalid, format_path
from dcctl.spec.quota import ComputeQuota, NetworkQuota, Quota, QuotaOverrides, VolumeQuota
from dcctl.spec.secgroup import (
    DEFAULT_GROUP,
    DefaultSecurityGroup,
    NormalRule,
    Rule,
    SecurityGroup,
    Waiver,
)
from dcctl.spec.site import (
    BackupPolicy,
    Domain,
    ExternalNetwork,
    Flavor,
    Image,
    LevelDefaults,
    SiteConfig,
)

__all__ = [
    "DEFAULT_GROUP",
    "Agency",
    "BackupPolicy",
    "ComputeQuota",
    "Contact",
    "Database",
    "DefaultSecurityGroup",
    "Domain",
    "ExternalNetwork",
    "Flavor",
    "Group",
    "HostInventory",
    "Image",
    "Kind",
    "LevelDefaults",
    "Network",
    "NetworkQuota",
    "NormalRule",
    "Problem",
    "Project",
    "Quota",
    "QuotaOverrides",
    "Report",
    "Router",
    "Rule",
    "SecurityGroup",
    "Server",
    "Site",
    "SiteConfig",
    "Source",
    "SpecInvalid",
    "System",
    "User",
    "Volume",
    "VolumeQuota",
    "Waiver",
    "check_inventory",
    "check_site",
    "format_path",
    "load_inventory",
    "load_site",
]
