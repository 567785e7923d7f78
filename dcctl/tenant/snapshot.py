"""One consistent read of everything the site's tenants own, in as few requests as possible.

Collections are listed once for the whole site (projects, users, groups, role assignments,
networks, subnets, routers, router ports, security groups and rules); only quotas are read per
project, because nova and cinder have no bulk form. The snapshot holds plain JSON-like data so
that planner tests can load one from a file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dcctl.cloud.rest import JSON, Apis
from dcctl.cloud.retry import retry_read
from dcctl.errors import ConfigError
from dcctl.tenant import kinds

# Neutron's quota JSON names ↔ the spec's (openstacksdk's) attribute names.
NEUTRON_QUOTA_NAMES = {
    "networks": "network",
    "subnets": "subnet",
    "ports": "port",
    "routers": "router",
    "floating_ips": "floatingip",
    "security_groups": "security_group",
    "security_group_rules": "security_group_rule",
}


@dataclass
class Snapshot:
    domain: JSON
    external_network: JSON | None
    roles: list[JSON] = field(default_factory=list)
    projects: list[JSON] = field(default_factory=list)
    users: list[JSON] = field(default_factory=list)
    groups: list[JSON] = field(default_factory=list)
    assignments: list[JSON] = field(default_factory=list)
    memberships: list[JSON] = field(default_factory=list)  # {"group_id", "user_id"}
    # project id → {"compute"|"volume"|"network": {name: {"limit": n, "in_use": m}}}
    quotas: dict[str, dict[str, dict[str, JSON]]] = field(default_factory=dict)
    networks: list[JSON] = field(default_factory=list)
    subnets: list[JSON] = field(default_factory=list)
    routers: list[JSON] = field(default_factory=list)
    router_ports: list[JSON] = field(default_factory=list)
    security_groups: list[JSON] = field(default_factory=list)
    rules: list[JSON] = field(default_factory=list)

    # -- lookups ---------------------------------------------------------------------------------
    def project_for(self, code: str) -> JSON | None:
        """The agency's project: by dcctl's agency tag (never by name alone)."""
        tag = kinds.agency_tag(code)
        tagged = [p for p in self.projects if tag in (p.get("tags") or [])]
        tagged = [p for p in tagged if not str(p.get("name", "")).startswith("dcctl-lock-")]
        return tagged[0] if tagged else None

    def project_named(self, name: str) -> JSON | None:
        return next((p for p in self.projects if p.get("name") == name), None)

    def role_name(self, role_id: str) -> str | None:
        return next((r["name"] for r in self.roles if r["id"] == role_id), None)

    def role_id(self, name: str) -> str | None:
        return next((r["id"] for r in self.roles if r["name"] == name), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        return cls(**json.loads(text))

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        return cls.from_json(path.read_text(encoding="utf-8"))


def read_snapshot(
    apis: Apis,
    *,
    domain_name: str,
    external_network: str,
    codes: Iterable[str] | None = None,
    workers: int = 8,
) -> Snapshot:
    """Read the site's state. ``codes`` limits the per-project quota reads to those agencies."""
    domain = _domain(apis, domain_name)
    domain_id = domain["id"]
    listings: dict[str, Callable[[], Any]] = {
        "roles": lambda: apis.identity.list_all("/roles", "roles"),
        "projects": lambda: apis.identity.list_all("/projects", "projects", domain_id=domain_id),
        "users": lambda: apis.identity.list_all("/users", "users", domain_id=domain_id),
        "groups": lambda: apis.identity.list_all("/groups", "groups", domain_id=domain_id),
        "assignments": lambda: apis.identity.list_all("/role_assignments", "role_assignments"),
        "effective": lambda: apis.identity.list_all(
            "/role_assignments", "role_assignments", effective=""
        ),
        "networks": lambda: apis.network.list_all("/networks", "networks"),
        "subnets": lambda: apis.network.list_all("/subnets", "subnets"),
        "routers": lambda: apis.network.list_all("/routers", "routers"),
        "router_ports": lambda: apis.network.list_all(
            "/ports",
            "ports",
            device_owner="network:router_interface",
            fields=["id", "device_id", "fixed_ips", "project_id", "network_id"],
        ),
        "security_groups": lambda: apis.network.list_all(
            "/security-groups",
            "security_groups",
            fields=["id", "name", "description", "project_id", "tags"],
        ),
        "rules": lambda: apis.network.list_all("/security-group-rules", "security_group_rules"),
        "neutron_quotas": lambda: apis.network.list_all("/quotas", "quotas"),
    }
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read") as pool:
        futures = {
            name: pool.submit(retry_read, read, what=f"list {name}")
            for name, read in listings.items()
        }
        results = {name: future.result() for name, future in futures.items()}

    snapshot = Snapshot(
        domain={"id": domain_id, "name": domain["name"]},
        external_network=_external(results["networks"], external_network),
        roles=[{"id": r["id"], "name": r["name"]} for r in results["roles"]],
        projects=results["projects"],
        users=[_user(u) for u in results["users"]],
        groups=[_group(g) for g in results["groups"]],
        networks=results["networks"],
        subnets=results["subnets"],
        routers=results["routers"],
        router_ports=results["router_ports"],
        security_groups=results["security_groups"],
        rules=results["rules"],
    )
    project_ids = {p["id"] for p in snapshot.projects}
    snapshot.assignments = [
        _assignment(a) for a in results["assignments"] if _scope(a) in project_ids
    ]
    snapshot.memberships = _memberships(results["effective"], snapshot)
    wanted = set(codes) if codes is not None else None
    targets = [
        p["id"]
        for p in snapshot.projects
        if (code := kinds.agency_of_tags(p.get("tags"))) and (wanted is None or code in wanted)
    ]
    neutron = {q["project_id"]: q for q in results["neutron_quotas"] if "project_id" in q}
    snapshot.quotas = _quotas(apis, targets, neutron, workers=workers)
    return snapshot


def _domain(apis: Apis, name: str) -> JSON:
    found = retry_read(
        lambda: apis.identity.list_all("/domains", "domains", name=name), what="find domain"
    )
    if not found:
        raise ConfigError(
            f"domain '{name}' does not exist in the cloud",
            hint=f"create it once (openstack domain create {name}) or fix domain.name in site.yaml",
        )
    return found[0]


def _external(networks: list[JSON], name: str) -> JSON | None:
    for network in networks:
        if network.get("name") == name and network.get("router:external"):
            return {"id": network["id"], "name": name}
    return None


def _user(raw: JSON) -> JSON:
    return {
        "id": raw["id"],
        "name": raw["name"],
        "domain_id": raw.get("domain_id"),
        "email": raw.get("email"),
        "description": raw.get("description"),
        "enabled": raw.get("enabled", True),
        "default_project_id": raw.get("default_project_id"),
        kinds.AGENCY_ATTR: raw.get(kinds.AGENCY_ATTR),
        kinds.PASSWORD_ATTR: raw.get(kinds.PASSWORD_ATTR),
    }


def _group(raw: JSON) -> JSON:
    return {
        "id": raw["id"],
        "name": raw["name"],
        "description": raw.get("description"),
        kinds.AGENCY_ATTR: raw.get(kinds.AGENCY_ATTR),
    }


def _scope(assignment: JSON) -> str | None:
    project = assignment.get("scope", {}).get("project")
    return project.get("id") if isinstance(project, dict) else None


def _assignment(raw: JSON) -> JSON:
    return {
        "role_id": raw["role"]["id"],
        "project_id": _scope(raw),
        "user_id": raw.get("user", {}).get("id"),
        "group_id": raw.get("group", {}).get("id"),
    }


def _memberships(effective: list[JSON], snapshot: Snapshot) -> list[JSON]:
    """Group memberships, from the ``membership`` links of effective role assignments."""
    group_ids = {g["id"] for g in snapshot.groups}
    found: set[tuple[str, str]] = set()
    for item in effective:
        link = item.get("links", {}).get("membership")
        if not link:
            continue
        parts = str(link).rstrip("/").split("/")
        try:
            group_id = parts[parts.index("groups") + 1]
            user_id = parts[parts.index("users") + 1]
        except (ValueError, IndexError):
            continue
        if group_id in group_ids:
            found.add((group_id, user_id))
    return [{"group_id": g, "user_id": u} for g, u in sorted(found)]


def _quotas(
    apis: Apis, project_ids: list[str], neutron: dict[str, JSON], *, workers: int
) -> dict[str, dict[str, dict[str, JSON]]]:
    defaults: dict[str, Any] = {}
    lock = threading.Lock()

    def neutron_defaults() -> JSON:
        with lock:
            if not defaults and project_ids:
                body = retry_read(
                    lambda: apis.network.get(f"/quotas/{project_ids[0]}/default"),
                    what="network quota defaults",
                )
                defaults.update(body.get("quota", {}))
        return defaults

    def one(project_id: str) -> tuple[str, dict[str, dict[str, JSON]]]:
        compute = retry_read(
            lambda: apis.compute.get(f"/os-quota-sets/{project_id}/detail"),
            what="compute quota",
        )["quota_set"]
        volume = retry_read(
            lambda: apis.volume.get(f"/os-quota-sets/{project_id}", usage="True"),
            what="volume quota",
        )["quota_set"]
        network_raw = neutron.get(project_id) or neutron_defaults()
        return project_id, {
            "compute": {k: v for k, v in compute.items() if isinstance(v, dict)},
            "volume": {k: v for k, v in volume.items() if isinstance(v, dict)},
            "network": {
                ours: {"limit": network_raw.get(theirs)}
                for ours, theirs in NEUTRON_QUOTA_NAMES.items()
            },
        }

    if not project_ids:
        return {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="quota") as pool:
        return dict(pool.map(one, project_ids))
