"""What the operator sees of the site's tenants: ``list`` (every agency and its state, from one
project listing) and ``show`` (one agency: project, users, quota usage, what it holds)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dcctl.cloud.rest import JSON
from dcctl.cloud.retry import retry_read
from dcctl.spec.agency import Agency
from dcctl.tenant import kinds
from dcctl.tenant.contents import read_contents
from dcctl.tenant.session import TenantSession, agency_project, is_lock_project

ACTIVE = "active"
SUSPENDED = "suspended"
NOT_CREATED = "not created"
NOT_IN_SPEC = "in cloud but not in spec"

LEVEL_TAG_PREFIX = "dcctl:level="


@dataclass(frozen=True)
class TenantStatus:
    code: str
    name: str
    security_level: int | None
    status: str
    project_id: str | None = None
    project_name: str | None = None
    enabled: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "security_level": self.security_level,
            "status": self.status,
            "project_id": self.project_id,
            "project_name": self.project_name,
            "enabled": self.enabled,
        }


def project_status(project: JSON) -> str:
    return SUSPENDED if kinds.SUSPENDED_TAG in (project.get("tags") or []) else ACTIVE


def _level_of(project: JSON) -> int | None:
    for tag in project.get("tags") or []:
        if isinstance(tag, str) and tag.startswith(LEVEL_TAG_PREFIX):
            value = tag.removeprefix(LEVEL_TAG_PREFIX)
            return int(value) if value.isdigit() else None
    return None


def _name_of(project: JSON, code: str) -> str:
    """The agency's name from the project description dcctl writes: ``<name> (<code>)``."""
    description = str(project.get("description") or "")
    return description.removesuffix(f" ({code})") if description else str(project.get("name"))


def classify(agencies: Iterable[Agency], projects: list[JSON]) -> list[TenantStatus]:
    """Spec agencies in spec order, then dcctl projects whose agency the spec no longer has."""
    rows: list[TenantStatus] = []
    known: set[str] = set()
    for agency in agencies:
        known.add(agency.code)
        project = agency_project(projects, agency.code)
        if project is None:
            rows.append(TenantStatus(agency.code, agency.name, agency.security_level, NOT_CREATED))
            continue
        rows.append(
            TenantStatus(
                agency.code,
                agency.name,
                agency.security_level,
                project_status(project),
                project_id=str(project["id"]),
                project_name=str(project.get("name")),
                enabled=bool(project.get("enabled", True)),
            )
        )
    extra: list[TenantStatus] = []
    for project in projects:
        code = kinds.agency_of_tags(project.get("tags"))
        if code is None or code in known or is_lock_project(project):
            continue
        extra.append(
            TenantStatus(
                code,
                _name_of(project, code),
                _level_of(project),
                NOT_IN_SPEC,
                project_id=str(project["id"]),
                project_name=str(project.get("name")),
                enabled=bool(project.get("enabled", True)),
            )
        )
    return rows + sorted(extra, key=lambda row: row.code)


def list_tenants(session: TenantSession) -> list[TenantStatus]:
    return classify(session.site.agencies, session.projects())


# -- show ----------------------------------------------------------------------------------------


@dataclass
class TenantDetails:
    status: TenantStatus
    project: JSON | None
    users: list[JSON] = field(default_factory=list)
    groups: list[JSON] = field(default_factory=list)
    # section → resource → {"limit": n, "in_use": m}
    quotas: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.status.as_dict(),
            "project": self.project,
            "users": self.users,
            "groups": self.groups,
            "quotas": self.quotas,
            "resources": self.counts,
        }


def quota_usage(raw_compute: JSON, raw_volume: JSON, raw_network: JSON) -> dict[str, Any]:
    """Nova's, cinder's and neutron's usage documents in one shape (volume-type-specific
    cinder entries such as ``gigabytes___DEFAULT__`` are left out)."""

    def pick(values: JSON, used_key: str) -> dict[str, dict[str, Any]]:
        return {
            name: {"limit": value.get("limit"), "in_use": value.get(used_key)}
            for name, value in sorted(values.items())
            if isinstance(value, dict) and "___" not in name
        }

    return {
        "compute": pick(raw_compute.get("quota_set", {}), "in_use"),
        "volume": pick(raw_volume.get("quota_set", {}), "in_use"),
        "network": pick(raw_network.get("quota", {}), "used"),
    }


def show_tenant(session: TenantSession, code: str) -> TenantDetails:
    identity = session.identity(code)
    session.require_known(code, identity)
    agency = session.spec_agency(code)
    projects = [identity.project] if identity.project else []
    rows = classify([agency] if agency else [], projects)
    # Only users or groups left (an interrupted delete): the agency is still "in the cloud".
    status = rows[0] if rows else TenantStatus(code, code, None, NOT_IN_SPEC)
    spec_users = {user.name: user.enabled for user in agency.users} if agency else {}
    details = TenantDetails(
        status=status,
        project=_project_view(identity.project) if identity.project else None,
        users=[
            {
                "name": user["name"],
                "id": user["id"],
                "enabled": bool(user.get("enabled", True)),
                "in_spec": user["name"] in spec_users,
                "spec_enabled": spec_users.get(str(user["name"])),
                "email": user.get("email"),
            }
            for user in sorted(identity.users, key=lambda u: str(u["name"]))
        ],
        groups=[
            {"name": group["name"], "id": group["id"]}
            for group in sorted(identity.groups, key=lambda g: str(g["name"]))
        ],
    )
    pid = identity.project_id
    if pid is None:
        return details
    apis = session.apis
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="show") as pool:
        compute = pool.submit(
            retry_read,
            lambda: apis.compute.get(f"/os-quota-sets/{pid}/detail"),
            what="compute quota",
        )
        volume = pool.submit(
            retry_read,
            lambda: session.volume.get(f"/os-quota-sets/{pid}", usage="True"),
            what="volume quota",
        )
        network = pool.submit(
            retry_read, lambda: apis.network.get(f"/quotas/{pid}/details"), what="network quota"
        )
        contents = read_contents(session, pid)
        details.quotas = quota_usage(compute.result(), volume.result(), network.result())
    details.counts = contents.counts()
    return details


def _project_view(project: JSON) -> JSON:
    return {
        "id": project["id"],
        "name": project.get("name"),
        "description": project.get("description"),
        "enabled": project.get("enabled", True),
        "tags": sorted(project.get("tags") or []),
    }
