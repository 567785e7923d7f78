"""The removal plan of a decommission: everything an agency's tenant has, in the order it can
be deleted (pure: project contents and Keystone identity in, ordered steps out).

Dependents go first: servers (they hold ports and volume attachments), floating IPs, router
interfaces and the gateway, routers, the remaining ports, subnets, networks, security groups,
snapshots (a volume with snapshots cannot be deleted), volumes, images, the project's quota
overrides, then the agency's groups, users and finally the project itself — so an interrupted
run always leaves a project a re-run can still find.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dcctl.cloud.rest import JSON
from dcctl.tenant.contents import ROUTER_GATEWAY_OWNER, ROUTER_INTERFACE_OWNERS, ProjectContents
from dcctl.tenant.session import AgencyIdentity

SERVER = "server"
FLOATING_IP = "floating_ip"
ROUTER_INTERFACE = "router_interface"
ROUTER_GATEWAY = "router_gateway"
ROUTER = "router"
PORT = "port"
SUBNET = "subnet"
NETWORK = "network"
SECURITY_GROUP = "security_group"
SNAPSHOT = "snapshot"
VOLUME = "volume"
IMAGE = "image"
QUOTA = "quota"
GROUP = "group"
USER = "user"
PROJECT = "project"

ORDER: tuple[str, ...] = (
    SERVER,
    FLOATING_IP,
    ROUTER_INTERFACE,
    ROUTER_GATEWAY,
    ROUTER,
    PORT,
    SUBNET,
    NETWORK,
    SECURITY_GROUP,
    SNAPSHOT,
    VOLUME,
    IMAGE,
    QUOTA,
    GROUP,
    USER,
    PROJECT,
)
# Kinds whose deletion destroys data: never without --purge (volumes get a final backup first).
HOLDS_DATA = frozenset({SERVER, SNAPSHOT, VOLUME, IMAGE})
# Kinds whose deletion is asynchronous: the next phase starts only once they are gone.
WAITED = frozenset({SERVER, SNAPSHOT, VOLUME, IMAGE})


@dataclass(frozen=True)
class Step:
    kind: str
    id: str
    name: str
    parent: str | None = None  # the router of an interface
    size_gb: int | None = None  # volumes and snapshots

    @property
    def holds_data(self) -> bool:
        return self.kind in HOLDS_DATA

    def describe(self) -> str:
        label = self.name or self.id
        size = f" ({self.size_gb} GiB)" if self.size_gb is not None else ""
        return f"{self.kind.replace('_', ' ')} {label}{size}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "parent": self.parent,
            "size_gb": self.size_gb,
            "holds_data": self.holds_data,
        }


def _name(item: JSON) -> str:
    return str(item.get("name") or item.get("display_name") or "")


def _size(item: JSON) -> int | None:
    size = item.get("size")
    return int(size) if isinstance(size, int) else None


def plan_removal(contents: ProjectContents | None, identity: AgencyIdentity) -> list[Step]:
    """Every deletion, in dependency order (``ORDER``, then by name within a kind)."""
    steps: list[Step] = []
    if contents is not None:
        steps += _project_contents(contents)
        if identity.project is not None or not contents.empty:
            steps.append(Step(QUOTA, contents.project_id, "compute, volume and network limits"))
    steps += [Step(GROUP, str(g["id"]), _name(g)) for g in identity.groups]
    steps += [Step(USER, str(u["id"]), _name(u)) for u in identity.users]
    if identity.project is not None:
        steps.append(Step(PROJECT, str(identity.project["id"]), _name(identity.project)))
    rank = {kind: index for index, kind in enumerate(ORDER)}
    return sorted(steps, key=lambda step: (rank[step.kind], step.name, step.id))


def _project_contents(contents: ProjectContents) -> list[Step]:
    steps = [Step(SERVER, str(s["id"]), _name(s)) for s in contents.servers]
    steps += [
        Step(FLOATING_IP, str(f["id"]), str(f.get("floating_ip_address") or ""))
        for f in contents.floating_ips
    ]
    routers = {str(r["id"]): r for r in contents.routers}
    subnet_names = {str(s["id"]): _name(s) or str(s["id"]) for s in contents.subnets}
    for port in contents.ports:
        if port.get("device_owner") in ROUTER_INTERFACE_OWNERS:
            router = routers.get(str(port.get("device_id")))
            label = _name(router) if router else str(port.get("device_id"))
            subnets = ",".join(
                subnet_names.get(str(ip.get("subnet_id")), str(ip.get("subnet_id")))
                for ip in port.get("fixed_ips") or []
            )
            steps.append(
                Step(
                    ROUTER_INTERFACE,
                    str(port["id"]),
                    f"{label}/{subnets}",
                    parent=str(port.get("device_id")),
                )
            )
    for router in contents.routers:
        if router.get("external_gateway_info"):
            steps.append(Step(ROUTER_GATEWAY, str(router["id"]), _name(router)))
        steps.append(Step(ROUTER, str(router["id"]), _name(router)))
    steps += [
        Step(PORT, str(p["id"]), _name(p) or str(p.get("device_owner") or ""))
        for p in remaining_ports(contents.ports)
    ]
    steps += [Step(SUBNET, str(s["id"]), _name(s)) for s in contents.subnets]
    steps += [Step(NETWORK, str(n["id"]), _name(n)) for n in contents.networks]
    steps += [Step(SECURITY_GROUP, str(g["id"]), _name(g)) for g in contents.security_groups]
    steps += [Step(SNAPSHOT, str(s["id"]), _name(s), size_gb=_size(s)) for s in contents.snapshots]
    steps += [Step(VOLUME, str(v["id"]), _name(v), size_gb=_size(v)) for v in contents.volumes]
    steps += [Step(IMAGE, str(i["id"]), _name(i)) for i in contents.images]
    return steps


def remaining_ports(ports: Iterable[JSON]) -> list[JSON]:
    """Ports that neither a router nor a floating IP owns (servers' ports nova leaves behind,
    ports made by hand, DHCP ports)."""
    return [
        port
        for port in ports
        if port.get("device_owner") not in ROUTER_INTERFACE_OWNERS
        and port.get("device_owner") != ROUTER_GATEWAY_OWNER
        and port.get("device_owner") != "network:floatingip"
    ]


def data_summary(steps: Iterable[Step]) -> list[str]:
    """ "2 servers", "1 volume (1 GiB)" … for the steps that destroy data."""
    counts: dict[str, list[Step]] = {}
    for step in steps:
        if step.holds_data:
            counts.setdefault(step.kind, []).append(step)
    lines = []
    for kind in ORDER:
        found = counts.get(kind)
        if not found:
            continue
        noun = kind.replace("_", " ") + ("s" if len(found) != 1 else "")
        size = sum(step.size_gb or 0 for step in found)
        lines.append(f"{len(found)} {noun}" + (f" ({size} GiB)" if size else ""))
    return lines
