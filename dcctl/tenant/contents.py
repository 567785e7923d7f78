"""What one project holds in the cloud: servers, volumes, snapshots, backups, images and its
networking, read as admin in one parallel batch of listings.

Security groups are listed for the whole cloud and filtered here: neutron creates a project's
``default`` group whenever groups are listed with that project as filter, which would bring
back the group a decommission just deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any

from dcctl.cloud.rest import JSON, Rest
from dcctl.cloud.retry import retry_read
from dcctl.tenant.session import TenantSession

ROUTER_INTERFACE_OWNERS = frozenset(
    {
        "network:router_interface",
        "network:router_interface_distributed",
        "network:ha_router_replicated_interface",
    }
)
ROUTER_GATEWAY_OWNER = "network:router_gateway"


@dataclass
class ProjectContents:
    project_id: str
    servers: list[JSON] = field(default_factory=list)
    volumes: list[JSON] = field(default_factory=list)
    snapshots: list[JSON] = field(default_factory=list)
    backups: list[JSON] = field(default_factory=list)  # owned by the project (made by the agency)
    images: list[JSON] = field(default_factory=list)
    floating_ips: list[JSON] = field(default_factory=list)
    routers: list[JSON] = field(default_factory=list)
    ports: list[JSON] = field(default_factory=list)
    networks: list[JSON] = field(default_factory=list)
    subnets: list[JSON] = field(default_factory=list)
    security_groups: list[JSON] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            item.name: len(getattr(self, item.name))
            for item in fields(self)
            if item.name != "project_id"
        }

    @property
    def empty(self) -> bool:
        return not any(self.counts().values())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProjectContents:
        """For tests: contents from a fixture file."""
        return cls(**data)


def owner_of_volume(volume: JSON) -> str | None:
    return volume.get("os-vol-tenant-attr:tenant_id") or volume.get("project_id")


def owner_of_snapshot(snapshot: JSON) -> str | None:
    return snapshot.get("os-extended-snapshot-attributes:project_id") or snapshot.get("project_id")


def owner_of_backup(backup: JSON) -> str | None:
    return backup.get("os-backup-project-attr:project_id") or backup.get("project_id")


def owner_of_server(server: JSON) -> str | None:
    return server.get("tenant_id") or server.get("project_id")


def list_images(image: Rest, **params: Any) -> list[JSON]:
    """Glance pages by marker (its ``next`` link is not relative to the endpoint)."""
    items: list[JSON] = []
    page = 500
    while True:
        marker = {"marker": items[-1]["id"]} if items else {}
        batch = image.get("/images", limit=page, **params, **marker).get("images", [])
        items += batch
        if len(batch) < page:
            return items


def read_contents(session: TenantSession, project_id: str, *, workers: int = 6) -> ProjectContents:
    """Everything ``project_id`` owns (as admin: works for a disabled or deleted project too)."""
    compute, network, volume = session.apis.compute, session.apis.network, session.volume
    pid = project_id
    listings: dict[str, Callable[[], list[JSON]]] = {
        "servers": lambda: compute.list_all(
            "/servers/detail", "servers", all_tenants=1, project_id=pid
        ),
        "volumes": lambda: volume.list_all(
            "/volumes/detail", "volumes", all_tenants=1, project_id=pid
        ),
        "snapshots": lambda: volume.list_all(
            "/snapshots/detail", "snapshots", all_tenants=1, project_id=pid
        ),
        # Cinder filters backups by owner only client-side (project_id is not a backup filter).
        "backups": lambda: [
            backup
            for backup in volume.list_all("/backups/detail", "backups", all_tenants=1)
            if owner_of_backup(backup) == pid
        ],
        "images": lambda: list_images(session.image, owner=pid),
        "floating_ips": lambda: network.list_all("/floatingips", "floatingips", project_id=pid),
        "routers": lambda: network.list_all("/routers", "routers", project_id=pid),
        "ports": lambda: network.list_all("/ports", "ports", project_id=pid),
        "networks": lambda: network.list_all("/networks", "networks", project_id=pid),
        "subnets": lambda: network.list_all("/subnets", "subnets", project_id=pid),
        "security_groups": lambda: [
            group
            for group in network.list_all(
                "/security-groups",
                "security_groups",
                fields=["id", "name", "project_id", "tags"],
            )
            if group.get("project_id") == pid
        ],
    }
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="contents") as pool:
        futures = {
            name: pool.submit(retry_read, read, what=f"list {name}")
            for name, read in listings.items()
        }
        results = {name: future.result() for name, future in futures.items()}
    contents = ProjectContents(project_id=pid, **results)
    # Nova and cinder ignore an unknown filter rather than fail: keep only what is really ours.
    contents.servers = [s for s in contents.servers if owner_of_server(s) == pid]
    contents.volumes = [v for v in contents.volumes if owner_of_volume(v) == pid]
    contents.snapshots = [s for s in contents.snapshots if owner_of_snapshot(s) == pid]
    contents.images = [i for i in contents.images if i.get("owner") == pid]
    return contents
