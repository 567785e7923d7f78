"""What a security level and a quota demand: backups meet the RPO, volumes are encrypted where
required, and the resources an agency declares fit in its effective quota."""

from __future__ import annotations

from collections.abc import Iterator

from dcctl.spec.checks import CheckContext, LoadedAgency, check
from dcctl.spec.inventory import (
    default_security_group,
    effective_quota,
    quota_template_name,
    volume_encrypted,
)
from dcctl.spec.problems import FieldPath, Kind, Problem
from dcctl.spec.site import SiteConfig


@check("backup-rpo", "A backup policy runs at least as often as the security level's RPO")
def backup_rpo(context: CheckContext) -> Iterator[Problem]:
    config = context.config
    if config is None:
        return
    for level, defaults in config.security_levels.items():
        policy = config.backup_policies.get(defaults.backup_policy)
        if policy is not None and policy.interval_hours > defaults.rpo_hours:
            yield context.site_problem(
                ("security_levels", level, "backup_policy"),
                f"backup policy {defaults.backup_policy!r} runs every {policy.interval_hours} h, "
                f"longer than the level's RPO of {defaults.rpo_hours} h",
                Kind.RPO_NOT_MET,
            )
    for loaded in context.agencies:
        agency = loaded.agency
        required = config.security_levels.get(agency.security_level)
        if agency.backup_policy is None or required is None:
            continue
        policy = config.backup_policies.get(agency.backup_policy)
        if policy is not None and policy.interval_hours > required.rpo_hours:
            yield loaded.problem(
                ("backup_policy",),
                f"backup policy {agency.backup_policy!r} runs every {policy.interval_hours} h, "
                f"longer than the RPO of security level {agency.security_level} "
                f"({required.rpo_hours} h)",
                Kind.RPO_NOT_MET,
            )


@check("volume-encryption", "Volumes are encrypted where the security level requires it")
def volume_encryption(context: CheckContext) -> Iterator[Problem]:
    config = context.config
    if config is None:
        return
    for loaded in context.agencies:
        agency = loaded.agency
        defaults = config.security_levels.get(agency.security_level)
        if defaults is None or not defaults.encrypt_volumes:
            continue
        for index, volume in enumerate(agency.volumes):
            if not volume_encrypted(config, agency, volume):
                yield loaded.problem(
                    ("volumes", index, "encrypted"),
                    f"security level {agency.security_level} requires encrypted volumes "
                    "(encrypt_volumes in site.yaml)",
                    Kind.ENCRYPTION_REQUIRED,
                )


def _quota_resolves(config: SiteConfig, loaded: LoadedAgency) -> bool:
    """The agency's level and quota template exist (else another check reports them)."""
    agency = loaded.agency
    if agency.security_level not in config.security_levels:
        return False
    return quota_template_name(config, agency) in config.quota_templates


@check("quota-fit", "What an agency declares fits in its effective quota")
def quota_fit(context: CheckContext) -> Iterator[Problem]:
    config = context.config
    if config is None:
        return
    flavors = {flavor.name: flavor for flavor in config.flavors}
    for loaded in context.agencies:
        if not _quota_resolves(config, loaded):
            continue
        agency = loaded.agency
        quota = effective_quota(config, agency)
        template = quota_template_name(config, agency)
        server_flavors = [flavors[s.flavor] for s in agency.servers if s.flavor in flavors]
        groups = [default_security_group(config, agency), *agency.security_groups]
        needs: list[tuple[FieldPath, str, int, int, str]] = [
            (
                ("servers",),
                "compute.instances",
                len(agency.servers),
                quota.compute.instances,
                "servers",
            ),
            (
                ("servers",),
                "compute.cores",
                sum(f.vcpus for f in server_flavors),
                quota.compute.cores,
                "vCPUs",
            ),
            (
                ("servers",),
                "compute.ram",
                sum(f.ram for f in server_flavors),
                quota.compute.ram,
                "MiB of RAM",
            ),
            (("volumes",), "volume.volumes", len(agency.volumes), quota.volume.volumes, "volumes"),
            (
                ("volumes",),
                "volume.gigabytes",
                sum(v.size for v in agency.volumes),
                quota.volume.gigabytes,
                "GiB of volumes",
            ),
            (
                ("networks",),
                "network.networks",
                len(agency.networks),
                quota.network.networks,
                "networks",
            ),
            (
                ("networks",),
                "network.subnets",
                len(agency.networks),
                quota.network.subnets,
                "subnets",
            ),
            (
                ("router",),
                "network.routers",
                1 if agency.router else 0,
                quota.network.routers,
                "routers",
            ),
            (
                ("security_groups",),
                "network.security_groups",
                len(groups),
                quota.network.security_groups,
                "security groups (with default)",
            ),
            (
                ("security_groups",),
                "network.security_group_rules",
                sum(len(group.normalised_rules()) for group in groups),
                quota.network.security_group_rules,
                "security-group rules (with default and egress)",
            ),
        ]
        for path, limit, needed, allowed, what in needs:
            if needed > allowed:
                yield loaded.problem(
                    path,
                    f"needs {needed} {what} but quota {limit} is {allowed} (template "
                    f"{template!r} with overrides)",
                    Kind.QUOTA_EXCEEDED,
                )
