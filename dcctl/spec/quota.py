"""Per-project quotas: the named templates of ``site.yaml`` and an agency's overrides.

Field names are openstacksdk's attribute names, so a planner can pass a section straight to the
SDK: ``conn.compute.update_quota_set(project, **quota.compute.values())``,
``conn.block_storage.update_quota_set(project, **quota.volume.values())`` and
``conn.network.update_quota(project, **quota.network.values())``. (The network API's own JSON
names are singular: ``network``, ``floatingip``, ``security_group_rule`` …)

Units: ``ram`` in MiB; ``gigabytes`` and ``backup_gigabytes`` in GiB; everything else is a count.
Every value is ≥ 0; -1 (unlimited) is never written by dcctl.
"""

from __future__ import annotations

from dcctl.spec.base import SpecModel
from dcctl.spec.types import Count


class ComputeQuota(SpecModel):
    """Nova limits."""

    instances: Count
    cores: Count
    ram: Count  # MiB
    key_pairs: Count
    server_groups: Count
    server_group_members: Count

    def values(self) -> dict[str, int]:
        return self.model_dump()


class VolumeQuota(SpecModel):
    """Cinder limits."""

    volumes: Count
    gigabytes: Count  # GiB
    snapshots: Count
    backups: Count
    backup_gigabytes: Count  # GiB

    def values(self) -> dict[str, int]:
        return self.model_dump()


class NetworkQuota(SpecModel):
    """Neutron limits (openstacksdk attribute names; see the module docstring)."""

    networks: Count
    subnets: Count
    ports: Count
    routers: Count
    floating_ips: Count
    security_groups: Count
    security_group_rules: Count

    def values(self) -> dict[str, int]:
        return self.model_dump()


class ComputeOverrides(SpecModel):
    instances: Count | None = None
    cores: Count | None = None
    ram: Count | None = None
    key_pairs: Count | None = None
    server_groups: Count | None = None
    server_group_members: Count | None = None


class VolumeOverrides(SpecModel):
    volumes: Count | None = None
    gigabytes: Count | None = None
    snapshots: Count | None = None
    backups: Count | None = None
    backup_gigabytes: Count | None = None


class NetworkOverrides(SpecModel):
    networks: Count | None = None
    subnets: Count | None = None
    ports: Count | None = None
    routers: Count | None = None
    floating_ips: Count | None = None
    security_groups: Count | None = None
    security_group_rules: Count | None = None


class QuotaOverrides(SpecModel):
    """Some limits of a template replaced for one agency; what is not named stays."""

    compute: ComputeOverrides = ComputeOverrides()
    volume: VolumeOverrides = VolumeOverrides()
    network: NetworkOverrides = NetworkOverrides()


class Quota(SpecModel):
    """A complete set of per-project limits (a template, or an agency's effective quota)."""

    compute: ComputeQuota
    volume: VolumeQuota
    network: NetworkQuota

    def merged(self, overrides: QuotaOverrides) -> Quota:
        """This quota with every limit that ``overrides`` names replaced."""
        return Quota(
            compute=self.compute.model_copy(update=overrides.compute.model_dump(exclude_none=True)),
            volume=self.volume.model_copy(update=overrides.volume.model_dump(exclude_none=True)),
            network=self.network.model_copy(update=overrides.network.model_dump(exclude_none=True)),
        )
