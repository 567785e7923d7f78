"""What the tenant lifecycle operations (list, show, suspend, resume, delete, orphans) share:
the site, the cloud's APIs, the agency's identity as Keystone holds it, the per-agency cloud lock
and the audit log.

The lock key is the one ``TenantEngine`` takes for ``apply`` (``<site>.<code>``), so an apply and
a suspend or delete of the same agency never run at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from openstack.connection import Connection

from dcctl.audit import AuditEvent, AuditLog
from dcctl.cloud.lock import LOCK_PREFIX, LOCK_TAG, CloudLock, LockInfo
from dcctl.cloud.proxies import access_info
from dcctl.cloud.rest import JSON, Apis, Rest
from dcctl.cloud.retry import retry_read
from dcctl.errors import ConfigError, UsageError
from dcctl.progress import NullReporter, Reporter
from dcctl.spec.agency import Agency
from dcctl.spec.inventory import Site
from dcctl.tenant import kinds

# Cinder microversion for backups with metadata and the owner attribute of backups (3.43+).
VOLUME_MICROVERSION = "3.50"


@dataclass(frozen=True)
class AgencyIdentity:
    """The agency as Keystone holds it: its project (if any), users and groups."""

    code: str
    project: JSON | None
    users: tuple[JSON, ...] = ()
    groups: tuple[JSON, ...] = ()

    @property
    def project_id(self) -> str | None:
        return str(self.project["id"]) if self.project else None

    @property
    def project_name(self) -> str | None:
        return str(self.project.get("name")) if self.project else None

    @property
    def suspended(self) -> bool:
        return bool(self.project) and kinds.SUSPENDED_TAG in (self.project or {}).get("tags", [])

    @property
    def exists(self) -> bool:
        return self.project is not None or bool(self.users) or bool(self.groups)


def is_lock_project(project: Mapping[str, Any]) -> bool:
    return LOCK_TAG in (project.get("tags") or []) or str(project.get("name", "")).startswith(
        LOCK_PREFIX
    )


def agency_project(projects: list[JSON], code: str) -> JSON | None:
    """The agency's project among ``projects``: by dcctl's agency tag, never by name alone."""
    tag = kinds.agency_tag(code)
    for project in projects:
        if tag in (project.get("tags") or []) and not is_lock_project(project):
            return project
    return None


class TenantSession:
    def __init__(
        self,
        site: Site,
        conn: Connection,
        *,
        cloud: str,
        reporter: Reporter | None = None,
        audit_log: AuditLog | None = None,
    ) -> None:
        self.site = site
        self.conn = conn
        self.cloud = cloud
        self.reporter = reporter or NullReporter()
        self.audit_log = audit_log or AuditLog(site.audit_log_path)

    # -- APIs ----------------------------------------------------------------------------------
    @cached_property
    def apis(self) -> Apis:
        return Apis(self.conn)

    @cached_property
    def volume(self) -> Rest:
        """Cinder at a microversion that shows backup owners and takes backup metadata."""
        return Rest(self.conn.block_storage, microversion=VOLUME_MICROVERSION)

    @cached_property
    def image(self) -> Rest:
        return Rest(self.conn.image)

    @cached_property
    def cloud_user(self) -> str:
        access = access_info(self.conn)
        return f"{access.username}@{access.user_domain_name}"

    @cached_property
    def domain_id(self) -> str:
        name = self.site.config.domain.name
        found = retry_read(
            lambda: self.apis.identity.list_all("/domains", "domains", name=name),
            what="find domain",
        )
        if not found:
            raise ConfigError(
                f"domain '{name}' does not exist in the cloud",
                hint=f"create it once (openstack domain create {name}) or fix site.yaml",
            )
        return str(found[0]["id"])

    # -- the site's agencies ---------------------------------------------------------------------
    def spec_agency(self, code: str) -> Agency | None:
        return next((agency for agency in self.site.agencies if agency.code == code), None)

    def projects(self) -> list[JSON]:
        """Every project of the site's domain except dcctl's lock projects (one request)."""
        domain_id = self.domain_id
        found = retry_read(
            lambda: self.apis.identity.list_all("/projects", "projects", domain_id=domain_id),
            what="list projects",
        )
        return [project for project in found if not is_lock_project(project)]

    def identity(self, code: str) -> AgencyIdentity:
        """The agency's project, users and groups (by dcctl's markers)."""
        domain_id = self.domain_id
        identity = self.apis.identity
        projects = retry_read(
            lambda: identity.list_all(
                "/projects", "projects", domain_id=domain_id, tags=kinds.agency_tag(code)
            ),
            what="find project",
        )
        users = retry_read(
            lambda: identity.list_all("/users", "users", domain_id=domain_id), what="list users"
        )
        groups = retry_read(
            lambda: identity.list_all("/groups", "groups", domain_id=domain_id),
            what="list groups",
        )
        return AgencyIdentity(
            code=code,
            project=agency_project(projects, code),
            users=tuple(
                sorted(
                    (u for u in users if u.get(kinds.AGENCY_ATTR) == code),
                    key=lambda u: str(u.get("name")),
                )
            ),
            groups=tuple(
                sorted(
                    (g for g in groups if g.get(kinds.AGENCY_ATTR) == code),
                    key=lambda g: str(g.get("name")),
                )
            ),
        )

    def require_known(self, code: str, identity: AgencyIdentity) -> None:
        if identity.exists or self.spec_agency(code) is not None:
            return
        known = ", ".join(agency.code for agency in self.site.agencies) or "none"
        raise UsageError(
            f"no agency '{code}' in site {self.site.name} or in the cloud",
            hint=f"agencies in the spec: {known}; 'dcctl tenant list' shows the cloud's",
        )

    # -- lock and audit --------------------------------------------------------------------------
    @contextmanager
    def locked(
        self, code: str, *, wait_s: float = 0.0, lease_s: float = 60.0
    ) -> Iterator[CloudLock]:
        """Hold the agency's cloud lock (the same one ``tenant apply`` takes)."""

        def waiting(info: LockInfo) -> None:
            self.reporter.step(code, "waiting", f"locked by {info.describe()}")

        lock = CloudLock(
            self.conn,
            domain_id=self.domain_id,
            key=f"{self.site.name}.{code}",
            lease_s=lease_s,
            wait_s=wait_s,
            on_wait=waiting,
        )
        lock.acquire()
        try:
            yield lock
        finally:
            lock.release()

    def audit(
        self,
        action: str,
        resource: str,
        *,
        code: str,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        self.audit_log.append(
            AuditEvent(
                action=action,
                resource=resource,
                agency=code,
                cloud=self.cloud,
                cloud_user=self.cloud_user,
                before=before,
                after=after,
                detail=dict(detail or {}),
            )
        )
