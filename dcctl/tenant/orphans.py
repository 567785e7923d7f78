"""The orphan scan: resources whose project no longer exists, and dcctl's agency users and
groups whose agency has no project any more.

The scan lists the whole cloud as admin (one listing per resource type), resources first and
Keystone projects last, so a project created during the scan can never make its resources look
orphaned. Backups that a decommission kept on purpose (its record lists them) are not findings.
The filter itself is pure (``find_orphans``) and tested on fixture data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dcctl.cloud.rest import JSON
from dcctl.cloud.retry import retry_read
from dcctl.tenant import kinds
from dcctl.tenant.contents import (
    owner_of_backup,
    owner_of_server,
    owner_of_snapshot,
    owner_of_volume,
)
from dcctl.tenant.session import TenantSession, is_lock_project

# Kinds in the order findings are shown.
PROJECT_OWNED = (
    "server",
    "volume",
    "snapshot",
    "backup",
    "floating_ip",
    "router",
    "port",
    "subnet",
    "network",
    "security_group",
)
OWNERS: dict[str, Callable[[JSON], str | None]] = {
    "server": owner_of_server,
    "volume": owner_of_volume,
    "snapshot": owner_of_snapshot,
    "backup": owner_of_backup,
}


@dataclass
class CloudInventory:
    """What the scan read: resources by kind, every project id, the site domain's agency
    projects and dcctl's users and groups. Plain JSON, so tests load it from a file."""

    resources: dict[str, list[JSON]] = field(default_factory=dict)
    project_ids: set[str] = field(default_factory=set)
    agency_codes: set[str] = field(default_factory=set)  # codes with a project in the domain
    users: list[JSON] = field(default_factory=list)
    groups: list[JSON] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CloudInventory:
        return cls(
            resources={kind: list(items) for kind, items in data.get("resources", {}).items()},
            project_ids=set(data.get("project_ids", [])),
            agency_codes=set(data.get("agency_codes", [])),
            users=list(data.get("users", [])),
            groups=list(data.get("groups", [])),
        )


@dataclass(frozen=True)
class Orphan:
    kind: str
    id: str
    name: str
    project_id: str | None
    agency: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "project_id": self.project_id,
            "agency": self.agency,
            "reason": self.reason,
        }


@dataclass
class OrphanReport:
    findings: list[Orphan]
    excluded_backups: list[str]  # kept by a decommission record
    scanned: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for orphan in self.findings:
            counts[orphan.kind] = counts.get(orphan.kind, 0) + 1
        return {
            "findings": [orphan.as_dict() for orphan in self.findings],
            "counts": counts,
            "excluded_backups": self.excluded_backups,
            "scanned": self.scanned,
        }


def _neutron_owner(item: JSON) -> str | None:
    return item.get("project_id") or item.get("tenant_id")


def owner(kind: str, item: JSON) -> str | None:
    found = OWNERS.get(kind, _neutron_owner)(item)
    return str(found) if found else None


def find_orphans(inventory: CloudInventory, kept_backups: Iterable[str] = ()) -> OrphanReport:
    """Findings in ``PROJECT_OWNED`` order, then users and groups; kept backups excluded."""
    kept = set(kept_backups)
    findings: list[Orphan] = []
    excluded: list[str] = []
    for kind in PROJECT_OWNED:
        for item in inventory.resources.get(kind, []):
            project_id = owner(kind, item)
            if not project_id or project_id in inventory.project_ids:
                continue  # no owner (router gateway and floating IP ports) or owner alive
            if kind == "backup" and str(item.get("id")) in kept:
                excluded.append(str(item["id"]))
                continue
            findings.append(
                Orphan(
                    kind=kind,
                    id=str(item.get("id")),
                    name=str(item.get("name") or item.get("floating_ip_address") or ""),
                    project_id=project_id,
                    agency=kinds.agency_of_tags(item.get("tags")),
                    reason=f"project {project_id} no longer exists",
                )
            )
    for kind, items in (("user", inventory.users), ("group", inventory.groups)):
        for item in items:
            code = item.get(kinds.AGENCY_ATTR)
            if not code or code in inventory.agency_codes:
                continue
            findings.append(
                Orphan(
                    kind=kind,
                    id=str(item.get("id")),
                    name=str(item.get("name") or ""),
                    project_id=None,
                    agency=str(code),
                    reason=f"agency {code} has no project any more",
                )
            )
    scanned = {kind: len(items) for kind, items in inventory.resources.items()}
    scanned["user"] = len(inventory.users)
    scanned["group"] = len(inventory.groups)
    return OrphanReport(findings, sorted(excluded), scanned)


def read_inventory(session: TenantSession, *, workers: int = 6) -> CloudInventory:
    apis, volume = session.apis, session.volume
    listings: dict[str, Callable[[], list[JSON]]] = {
        "server": lambda: apis.compute.list_all("/servers/detail", "servers", all_tenants=1),
        "volume": lambda: volume.list_all("/volumes/detail", "volumes", all_tenants=1),
        "snapshot": lambda: volume.list_all("/snapshots/detail", "snapshots", all_tenants=1),
        "backup": lambda: volume.list_all("/backups/detail", "backups", all_tenants=1),
        "floating_ip": lambda: apis.network.list_all("/floatingips", "floatingips"),
        "router": lambda: apis.network.list_all("/routers", "routers"),
        "port": lambda: apis.network.list_all(
            "/ports", "ports", fields=["id", "name", "project_id", "device_owner", "tags"]
        ),
        "subnet": lambda: apis.network.list_all("/subnets", "subnets"),
        "network": lambda: apis.network.list_all("/networks", "networks"),
        "security_group": lambda: apis.network.list_all(
            "/security-groups", "security_groups", fields=["id", "name", "project_id", "tags"]
        ),
    }
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orphans") as pool:
        futures = {
            kind: pool.submit(retry_read, read, what=f"list {kind}s")
            for kind, read in listings.items()
        }
        resources = {kind: future.result() for kind, future in futures.items()}
    # Projects last: a resource listed above belongs to a project that existed before this.
    domain_id = session.domain_id
    identity = apis.identity
    projects = retry_read(lambda: identity.list_all("/projects", "projects"), what="projects")
    users = retry_read(
        lambda: identity.list_all("/users", "users", domain_id=domain_id), what="list users"
    )
    groups = retry_read(
        lambda: identity.list_all("/groups", "groups", domain_id=domain_id), what="list groups"
    )
    codes = {
        code
        for project in projects
        if project.get("domain_id") == domain_id
        and not is_lock_project(project)
        and (code := kinds.agency_of_tags(project.get("tags")))
    }
    return CloudInventory(
        resources=resources,
        project_ids={str(project["id"]) for project in projects},
        agency_codes=codes,
        users=[u for u in users if u.get(kinds.AGENCY_ATTR)],
        groups=[g for g in groups if g.get(kinds.AGENCY_ATTR)],
    )


def scan(session: TenantSession, kept_backups: Iterable[str] = ()) -> OrphanReport:
    return find_orphans(read_inventory(session), kept_backups)
