"""One consistent read of everything the site's tenants own, in as few requests as possible.

Keystone's collections are listed once for the site's domain (projects, users, groups, role
assignments); neutron's (networks, subnets, routers, router ports, security groups with their
rules) once for the selected agencies' projects, filtered by id, so the cost of a plan follows
the agencies it is about, not the size of the cloud. Only quotas are read per project, because
nova and cinder have no bulk form. The snapshot holds plain JSON-like data so that planner
tests can load one from a file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
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


GROUP_FIELDS = ("id", "name", "description", "project_id", "tags")
#: Ids per filtered request: 100 UUIDs keep a URL below the 8 KiB request line of common
#: proxies (Apache's LimitRequestLine, haproxy's default buffer).
IDS_PER_REQUEST = 100


@dataclass(frozen=True)
class Scope:
    """Which agencies a reading is for: their networking is read for their projects only, so a
    one-agency plan costs the same in a cloud of 5 agencies as in one of 500."""

    codes: frozenset[str]
    project_names: frozenset[str] = frozenset()
    #: code → "compute"|"volume" → limit name → the spec's limit. Usage is read only where a
    #: limit is lowered (the one case the planner checks it for): counting it costs nova and
    #: cinder twice as much as the limits alone. None: read usage everywhere.
    limits: Mapping[str, Mapping[str, Mapping[str, int]]] | None = None

    def wants(self, project: JSON) -> bool:
        code = kinds.agency_of_tags(project.get("tags"))
        return code in self.codes or (not code and project.get("name") in self.project_names)


def read_snapshot(
    apis: Apis,
    *,
    domain_name: str,
    external_network: str,
    scope: Scope | None = None,
    domain: JSON | None = None,
    workers: int = 8,
) -> Snapshot:
    """Read the site's state in three waves: Keystone's collections (and the external network),
    then the networks, routers and security groups (rules inside) of the agencies' projects with
    their quotas, then the subnets and router interfaces hanging on those. ``scope`` None:
    every project of the domain. ``domain``: already looked up by the caller."""
    domain = domain or find_domain(apis, domain_name)
    domain_id = domain["id"]
    identity: dict[str, Read] = {
        "roles": lambda: apis.identity.list_all("/roles", "roles"),
        "projects": lambda: apis.identity.list_all("/projects", "projects", domain_id=domain_id),
        "users": lambda: apis.identity.list_all("/users", "users", domain_id=domain_id),
        "groups": lambda: apis.identity.list_all("/groups", "groups", domain_id=domain_id),
        "assignments": lambda: apis.identity.list_all("/role_assignments", "role_assignments"),
        "effective": lambda: apis.identity.list_all(
            "/role_assignments", "role_assignments", effective=""
        ),
        "external": lambda: apis.network.list_all(
            "/networks",
            "networks",
            name=external_network,
            fields=["id", "name", "router:external"],
        ),
        "neutron_quotas": lambda: apis.network.list_all("/quotas", "quotas"),
    }
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read") as pool:
        first = _gather(pool, identity)
        projects = [p for p in first["projects"] if scope is None or scope.wants(p)]
        project_ids = [p["id"] for p in projects]
        neutron = {q["project_id"]: q for q in first["neutron_quotas"] if "project_id" in q}
        targets = {p["id"]: code for p in projects if (code := kinds.agency_of_tags(p.get("tags")))}
        limits = scope.limits if scope is not None else None
        quotas = pool.submit(_quotas, apis, targets, neutron, limits, workers=workers)
        second = _gather(
            pool,
            {
                "networks": _by_ids(apis, "/networks", "networks", "project_id", project_ids),
                "routers": _by_ids(apis, "/routers", "routers", "project_id", project_ids),
                # with their rules inside: ~7x cheaper for neutron than listing the rules
                "security_groups": _by_ids(
                    apis,
                    "/security-groups",
                    "security_groups",
                    "project_id",
                    project_ids,
                    fields=[*GROUP_FIELDS, "security_group_rules"],
                ),
            },
        )
        third = _gather(
            pool,
            {
                "subnets": _by_ids(
                    apis, "/subnets", "subnets", "network_id", _ids(second["networks"])
                ),
                "router_ports": _by_ids(
                    apis,
                    "/ports",
                    "ports",
                    "device_id",
                    _ids(second["routers"]),
                    device_owner="network:router_interface",
                    fields=["id", "device_id", "fixed_ips", "project_id", "network_id"],
                ),
            },
        )
        quota_map = quotas.result()

    snapshot = Snapshot(
        domain={"id": domain_id, "name": domain["name"]},
        external_network=_external(first["external"], external_network),
        roles=[{"id": r["id"], "name": r["name"]} for r in first["roles"]],
        projects=first["projects"],
        users=[_user(u) for u in first["users"]],
        groups=[_group(g) for g in first["groups"]],
        networks=second["networks"],
        subnets=third["subnets"],
        routers=second["routers"],
        router_ports=third["router_ports"],
        security_groups=[
            {key: group.get(key) for key in GROUP_FIELDS} for group in second["security_groups"]
        ],
        rules=[
            rule for group in second["security_groups"] for rule in group["security_group_rules"]
        ],
        quotas=quota_map,
    )
    domain_projects = {p["id"] for p in snapshot.projects}
    snapshot.assignments = [
        _assignment(a) for a in first["assignments"] if _scope(a) in domain_projects
    ]
    snapshot.memberships = _memberships(first["effective"], snapshot)
    return snapshot


#: One read, or the chunks of one listing (joined in order).
Read = Callable[[], Any] | list[Callable[[], list[JSON]]]


def _gather(pool: ThreadPoolExecutor, reads: dict[str, Read]) -> dict[str, Any]:
    """Run every read, and every chunk of a chunked one, at once."""
    futures = {
        name: [
            pool.submit(retry_read, part, what=f"list {name}")
            for part in (parts if isinstance(parts, list) else [parts])
        ]
        for name, parts in reads.items()
    }
    joined: dict[str, Any] = {}
    for name, parts in futures.items():
        results = [future.result() for future in parts]
        joined[name] = results[0] if len(results) == 1 else [i for r in results for i in r]
    return joined


def _ids(items: list[JSON]) -> list[str]:
    return [str(item["id"]) for item in items]


def _by_ids(
    apis: Apis, path: str, key: str, field_name: str, ids: list[str], **params: Any
) -> list[Callable[[], list[JSON]]]:
    """A listing filtered to ``ids`` (neutron takes a repeated filter as "any of"), as one
    read per IDS_PER_REQUEST ids, run in parallel; no ids, no request."""

    def chunk(part: list[str]) -> Callable[[], list[JSON]]:
        return lambda: apis.network.list_all(path, key, **{field_name: part}, **params)

    return [
        chunk(ids[start : start + IDS_PER_REQUEST]) for start in range(0, len(ids), IDS_PER_REQUEST)
    ] or [list]


def find_domain(apis: Apis, name: str) -> JSON:
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
    apis: Apis,
    targets: dict[str, str],
    neutron: dict[str, JSON],
    limits: Mapping[str, Mapping[str, Mapping[str, int]]] | None,
    *,
    workers: int,
) -> dict[str, dict[str, dict[str, JSON]]]:
    """project id → section → name → {"limit": n[, "in_use": m]}; ``targets``: id → code."""
    defaults: dict[str, Any] = {}
    lock = threading.Lock()
    project_ids = list(targets)

    def neutron_defaults() -> JSON:
        with lock:
            if not defaults and project_ids:
                body = retry_read(
                    lambda: apis.network.get(f"/quotas/{project_ids[0]}/default"),
                    what="network quota defaults",
                )
                defaults.update(body.get("quota", {}))
        return defaults

    def read(section: str, project_id: str, usage: bool) -> dict[str, JSON]:
        if section == "compute":
            path = f"/os-quota-sets/{project_id}" + ("/detail" if usage else "")
            body = retry_read(lambda: apis.compute.get(path), what="compute quota")
        else:
            params = {"usage": "True"} if usage else {}
            body = retry_read(
                lambda: apis.volume.get(f"/os-quota-sets/{project_id}", **params),
                what="volume quota",
            )
        return _quota_values(body["quota_set"])

    def wanted_usage(project_id: str, section: str, current: dict[str, JSON]) -> bool:
        if limits is None:
            return True
        spec = limits.get(targets[project_id], {}).get(section, {})
        return any(
            _lowers(current.get(name, {}).get("limit"), limit) for name, limit in spec.items()
        )

    def read_section(project_id: str, section: str) -> dict[str, JSON]:
        usage = limits is None
        found = read(section, project_id, usage)
        if not usage and wanted_usage(project_id, section, found):
            found = read(section, project_id, True)
        return found

    if not project_ids:
        return {}
    # nova's and cinder's reads interleaved, so both services work from the first moment.
    with ThreadPoolExecutor(max_workers=2 * workers, thread_name_prefix="quota") as pool:
        reads = [
            (
                pid,
                pool.submit(read_section, pid, "compute"),
                pool.submit(read_section, pid, "volume"),
            )
            for pid in project_ids
        ]
        result: dict[str, dict[str, dict[str, JSON]]] = {}
        for pid, compute, volume in reads:
            network_raw = neutron.get(pid) or neutron_defaults()
            result[pid] = {
                "compute": compute.result(),
                "volume": volume.result(),
                "network": {
                    ours: {"limit": network_raw.get(theirs)}
                    for ours, theirs in NEUTRON_QUOTA_NAMES.items()
                },
            }
        return result


def _quota_values(quota_set: JSON) -> dict[str, JSON]:
    """Both shapes nova and cinder answer in: ``name: n`` and, with usage, ``name: {limit,
    in_use, …}``."""
    values: dict[str, JSON] = {}
    for name, value in quota_set.items():
        if isinstance(value, dict):
            values[name] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            values[name] = {"limit": value}
    return values


def _lowers(current: Any, wanted: int) -> bool:
    """Whether setting ``wanted`` lowers the limit (-1 is unlimited)."""
    if not isinstance(current, int):
        return True  # unknown: check against usage
    return current < 0 <= wanted or 0 <= wanted < current
