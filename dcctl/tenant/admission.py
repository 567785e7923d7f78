"""Admission check: do the agencies' quotas fit in what the cloud really has?

Capacity comes from the cloud, never from configuration: placement inventories
((total − reserved) × allocation ratio) for vCPU, RAM and disk, cinder's pools for volume
gigabytes, and the external network's free addresses for router gateways and floating IPs.
Demand is every agency of the site at its spec quota, because that is what the site will be
once everything is applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from openstack import exceptions as sdk

from dcctl.cloud.rest import JSON, Apis
from dcctl.cloud.retry import retry_read
from dcctl.errors import DcctlError
from dcctl.spec.inventory import Site

log = logging.getLogger(__name__)


class AdmissionRefused(DcctlError):
    """Raising these quotas would promise more than the cloud has."""


@dataclass(frozen=True)
class Line:
    resource: str
    demand: float
    capacity: float | None  # None: the cloud does not report it
    unit: str

    @property
    def fits(self) -> bool:
        return self.capacity is None or self.demand <= self.capacity

    def describe(self) -> str:
        if self.capacity is None:
            return f"{self.resource}: {self.demand:g} {self.unit} requested, capacity unknown"
        return (
            f"{self.resource}: {self.demand:g} {self.unit} promised to agencies, "
            f"{self.capacity:g} available"
        )


@dataclass
class Admission:
    lines: list[Line] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return all(line.fits for line in self.lines)

    def over(self) -> list[Line]:
        return [line for line in self.lines if not line.fits]


def compute_capacity(apis: Apis) -> dict[str, float]:
    """Usable VCPU, MEMORY_MB and DISK_GB summed over every resource provider."""
    totals: dict[str, float] = {}
    providers = retry_read(
        lambda: apis.placement.list_all("/resource_providers", "resource_providers"),
        what="placement resource providers",
    )
    for provider in providers:
        path = f"/resource_providers/{provider['uuid']}/inventories"

        def read(path: str = path) -> JSON:
            return apis.placement.get(path)

        inventories = retry_read(read, what="placement inventories").get("inventories", {})
        for resource, inventory in inventories.items():
            usable = (inventory["total"] - inventory.get("reserved", 0)) * inventory.get(
                "allocation_ratio", 1.0
            )
            totals[resource] = totals.get(resource, 0.0) + usable
    return totals


def volume_capacity(apis: Apis) -> float | None:
    try:
        pools = retry_read(
            lambda: apis.volume.get("/scheduler-stats/get_pools", detail="True"),
            what="cinder pools",
        ).get("pools", [])
    except sdk.HttpException as error:
        log.info("cinder pools not readable: %s", error)
        return None
    total = 0.0
    for pool in pools:
        capabilities = pool.get("capabilities", {})
        size = capabilities.get("total_capacity_gb")
        if not isinstance(size, int | float):
            return None  # "infinite"/"unknown": the backend does not say
        ratio = float(capabilities.get("max_over_subscription_ratio", 1.0) or 1.0)
        thin = capabilities.get("thin_provisioning_support", False)
        total += size * (ratio if thin else 1.0)
    return total or None


def free_external_addresses(apis: Apis, network_id: str | None) -> float | None:
    if network_id is None:
        return None
    body = retry_read(
        lambda: apis.network.get(f"/network-ip-availabilities/{network_id}"),
        what="external network availability",
    )
    availability = body.get("network_ip_availability", {})
    return float(availability.get("total_ips", 0) - availability.get("used_ips", 0))


def check_admission(
    apis: Apis,
    site: Site,
    *,
    external_network_id: str | None,
    new_gateways: int,
    new_floating_ips: int,
) -> Admission:
    """Compare the whole site's quotas (and what this apply adds on the external network)."""
    capacity = compute_capacity(apis)
    cores = sum(site.effective_quota(a).compute.cores for a in site.agencies)
    ram = sum(site.effective_quota(a).compute.ram for a in site.agencies)
    gigabytes = sum(site.effective_quota(a).volume.gigabytes for a in site.agencies)
    admission = Admission(
        [
            Line("vcpu", cores, capacity.get("VCPU"), "cores"),
            Line("ram", ram, capacity.get("MEMORY_MB"), "MiB"),
            Line("volume", gigabytes, volume_capacity(apis), "GiB"),
        ]
    )
    if new_gateways or new_floating_ips:
        admission.lines.append(
            Line(
                "external addresses",
                new_gateways + new_floating_ips,
                free_external_addresses(apis, external_network_id),
                "addresses",
            )
        )
    return admission
