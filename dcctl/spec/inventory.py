"""A loaded, valid site: its configuration, agencies and hosts, with the values a planner needs
resolved (effective quota, backup policy and default security group of each agency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dcctl.paths import state_dir
from dcctl.spec.agency import Agency, Volume
from dcctl.spec.hosts import HostInventory
from dcctl.spec.quota import Quota
from dcctl.spec.secgroup import DefaultSecurityGroup, NormalRule
from dcctl.spec.site import BackupPolicy, LevelDefaults, SiteConfig

# -- resolution rules, shared by Site and the offline checks -----------------------------------


def quota_template_name(config: SiteConfig, agency: Agency) -> str:
    """The agency's ``quota.template``, else its security level's ``quota_template``."""
    return agency.quota.template or config.security_levels[agency.security_level].quota_template


def backup_policy_name(config: SiteConfig, agency: Agency) -> str:
    """The agency's ``backup_policy``, else its security level's ``backup_policy``."""
    return agency.backup_policy or config.security_levels[agency.security_level].backup_policy


def effective_quota(config: SiteConfig, agency: Agency) -> Quota:
    """The template (see :func:`quota_template_name`) with the agency's overrides applied."""
    return config.quota_templates[quota_template_name(config, agency)].merged(
        agency.quota.overrides
    )


def default_security_group(config: SiteConfig, agency: Agency) -> DefaultSecurityGroup:
    """The agency's own ``default_security_group``, else its security level's."""
    if agency.default_security_group is not None:
        return agency.default_security_group
    return config.security_levels[agency.security_level].default_security_group


def volume_encrypted(config: SiteConfig, agency: Agency, volume: Volume) -> bool:
    """``volume.encrypted``, else what the agency's security level requires."""
    if volume.encrypted is not None:
        return volume.encrypted
    return config.security_levels[agency.security_level].encrypt_volumes


@dataclass(frozen=True)
class Site:
    """One ``inventory/<site>/`` directory after validation (every reference resolves).

    ``name`` is the directory name; agencies are in file-name order.
    """

    name: str
    path: Path
    config: SiteConfig
    agencies: tuple[Agency, ...]
    hosts: HostInventory = field(default_factory=HostInventory)

    def agency(self, code: str) -> Agency:
        for agency in self.agencies:
            if agency.code == code:
                return agency
        known = ", ".join(agency.code for agency in self.agencies) or "none"
        raise KeyError(f"no agency {code!r} in site {self.name!r}; known: {known}")

    def cloud_name(self, override: str | None = None) -> str:
        """The clouds.yaml entry to use: ``--cloud`` when given, else ``site.yaml``'s ``cloud``."""
        return override or self.config.cloud

    @property
    def audit_log_path(self) -> Path:
        """``audit_log`` (relative to the site directory) or ``<state dir>/audit/<site>.jsonl``."""
        if self.config.audit_log:
            return self.path / Path(self.config.audit_log).expanduser()
        return state_dir() / "audit" / f"{self.name}.jsonl"

    def level_defaults(self, agency: Agency) -> LevelDefaults:
        return self.config.security_levels[agency.security_level]

    def effective_quota(self, agency: Agency) -> Quota:
        return effective_quota(self.config, agency)

    def backup_policy(self, agency: Agency) -> tuple[str, BackupPolicy]:
        """The name and settings of the agency's backup policy."""
        name = backup_policy_name(self.config, agency)
        return name, self.config.backup_policies[name]

    def default_security_group(self, agency: Agency) -> DefaultSecurityGroup:
        return default_security_group(self.config, agency)

    def default_security_group_rules(self, agency: Agency) -> tuple[NormalRule, ...]:
        """The complete rule set of the agency project's ``default`` group."""
        return default_security_group(self.config, agency).normalised_rules()

    def volume_encrypted(self, agency: Agency, volume: Volume) -> bool:
        return volume_encrypted(self.config, agency, volume)
