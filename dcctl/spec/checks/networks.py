"""Network CIDRs do not overlap (within an agency, across agencies, with the external network)
and gateways lie inside their subnet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dcctl.spec.checks import CheckContext, check
from dcctl.spec.problems import FieldPath, Kind, Problem, format_path
from dcctl.spec.types import IPNetwork
from dcctl.spec.yamldoc import Document


@dataclass(frozen=True)
class _Placed:
    cidr: IPNetwork
    doc: Document
    path: FieldPath
    label: str


@check("cidr-overlap", "No two networks of the site overlap, nor any with the external network")
def cidr_overlap(context: CheckContext) -> Iterator[Problem]:
    placed: list[_Placed] = []
    config = context.config
    if config is not None and config.external_network.cidr is not None and context.site_doc:
        placed.append(
            _Placed(
                config.external_network.cidr,
                context.site_doc,
                ("external_network", "cidr"),
                f"the external network {config.external_network.name!r} (site.yaml)",
            )
        )
    for loaded in context.agencies:
        for index, network in enumerate(loaded.agency.networks):
            path = ("networks", index, "cidr")
            candidate = _Placed(
                network.cidr, loaded.doc, path, f"network {network.name!r} ({loaded.doc.file})"
            )
            for other in placed:
                if other.cidr.version == candidate.cidr.version and other.cidr.overlaps(
                    candidate.cidr
                ):
                    label = other.label
                    if other.doc is loaded.doc:
                        label = f"network at {format_path(other.path)}"
                    yield loaded.problem(
                        path, f"{network.cidr} overlaps {other.cidr} of {label}", Kind.CIDR_OVERLAP
                    )
                    break
            placed.append(candidate)


@check("gateway-in-subnet", "A network's gateway_ip is a host address of its CIDR")
def gateway_in_subnet(context: CheckContext) -> Iterator[Problem]:
    for loaded in context.agencies:
        for index, network in enumerate(loaded.agency.networks):
            gateway = network.gateway_ip
            if gateway is None:
                continue
            path = ("networks", index, "gateway_ip")
            cidr = network.cidr
            if gateway.version != cidr.version or gateway not in cidr:
                reason = f"gateway {gateway} is outside {cidr}"
            elif cidr.num_addresses > 2 and gateway in (
                cidr.network_address,
                cidr.broadcast_address,
            ):
                reason = f"gateway {gateway} is the network or broadcast address of {cidr}"
            else:
                continue
            yield loaded.problem(path, reason, Kind.INVALID_GATEWAY)
