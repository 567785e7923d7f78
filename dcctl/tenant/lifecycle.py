"""Suspend and resume an agency's tenant.

Suspending disables the project and every user of the agency (Keystone users whose
``dcctl_agency`` is the code) and tags the project ``dcctl:suspended``; ``tenant apply`` reads
that tag and keeps the tenant disabled. Resuming re-enables the users the spec says are enabled
and then the project. Both run under the agency's cloud lock, audit every change and are
idempotent: a second run, or a run after an interrupted one, changes only what is still left.

The order makes an interrupted run safe: suspend marks the project first (tag and ``enabled:
false`` in one request), so an apply in between already keeps the users disabled; resume opens
the project last, so no user can work in it before the spec's enabled state is restored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dcctl.cloud.rest import JSON
from dcctl.cloud.retry import retry_read
from dcctl.errors import DcctlError
from dcctl.tenant import kinds
from dcctl.tenant.session import AgencyIdentity, TenantSession


class NotCreated(DcctlError):
    """The agency has no project in the cloud."""


@dataclass
class LifecycleResult:
    code: str
    action: str  # suspend / resume
    project_id: str
    project_changed: bool = False
    users_changed: list[str] = field(default_factory=list)
    users_kept_disabled: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.project_changed or bool(self.users_changed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.code,
            "action": self.action,
            "project_id": self.project_id,
            "changed": self.changed,
            "project_changed": self.project_changed,
            "users_changed": self.users_changed,
            "users_kept_disabled": self.users_kept_disabled,
        }


def users_to_enable(identity: AgencyIdentity, spec_enabled: dict[str, bool]) -> list[JSON]:
    """On resume: the disabled users whose spec says enabled (users not in the spec stay off)."""
    return [
        user
        for user in identity.users
        if not user.get("enabled", True) and spec_enabled.get(str(user["name"]), False)
    ]


class Lifecycle:
    def __init__(self, session: TenantSession) -> None:
        self.session = session

    def suspend(self, code: str, *, reason: str = "", wait_s: float = 0.0) -> LifecycleResult:
        session = self.session
        with session.locked(code, wait_s=wait_s) as lock:
            identity = self._existing(code)
            project = identity.project or {}
            result = LifecycleResult(code, "suspend", str(project["id"]))
            tags = list(project.get("tags") or [])
            if kinds.SUSPENDED_TAG not in tags or project.get("enabled", True):
                lock.check()
                after = {"enabled": False, "tags": sorted({*tags, kinds.SUSPENDED_TAG})}
                self._set_project(code, project, after, reason, result)
            for user in identity.users:
                if not user.get("enabled", True):
                    continue
                lock.check()
                self._set_user_enabled(code, user, False, reason, result)
        return result

    def resume(self, code: str, *, reason: str = "", wait_s: float = 0.0) -> LifecycleResult:
        session = self.session
        agency = session.spec_agency(code)
        if agency is None:
            raise DcctlError(
                f"agency '{code}' is not in the spec of site {session.site.name}",
                hint="resume follows the spec (which users are enabled); restore its file first",
            )
        spec_enabled = {user.name: user.enabled for user in agency.users}
        with session.locked(code, wait_s=wait_s) as lock:
            identity = self._existing(code)
            project = identity.project or {}
            result = LifecycleResult(code, "resume", str(project["id"]))
            result.users_kept_disabled = sorted(
                str(user["name"])
                for user in identity.users
                if not spec_enabled.get(str(user["name"]), False)
            )
            tags = list(project.get("tags") or [])
            if kinds.SUSPENDED_TAG not in tags and project.get("enabled", True):
                return result  # not suspended: nothing to resume (apply converges the rest)
            for user in users_to_enable(identity, spec_enabled):
                lock.check()
                self._set_user_enabled(code, user, True, reason, result)
            lock.check()
            after = {"enabled": True, "tags": sorted(set(tags) - {kinds.SUSPENDED_TAG})}
            self._set_project(code, project, after, reason, result)
        return result

    # -- internals -------------------------------------------------------------------------------
    def _existing(self, code: str) -> AgencyIdentity:
        identity = self.session.identity(code)
        self.session.require_known(code, identity)
        if identity.project is None:
            raise NotCreated(
                f"agency '{code}' has no project in the cloud",
                hint=f"create it first: dcctl tenant apply {code}",
            )
        return identity

    def _set_project(
        self, code: str, project: JSON, after: JSON, reason: str, result: LifecycleResult
    ) -> None:
        """One PATCH of the project's enabled flag and tags, audited as the result's action."""
        self._patch("projects", result.project_id, "project", after)
        tags = sorted(project.get("tags") or [])
        before = {"enabled": project.get("enabled", True), "tags": tags}
        self.session.audit(
            result.action,
            f"project {project.get('name')}",
            code=code,
            before=before,
            after=after,
            detail={"id": result.project_id, "reason": reason},
        )
        result.project_changed = True
        done = "enabled, suspension lifted" if after["enabled"] else "disabled, tagged suspended"
        self.session.reporter.step(f"{code} project", "updated", done)

    def _set_user_enabled(
        self, code: str, user: JSON, enabled: bool, reason: str, result: LifecycleResult
    ) -> None:
        self._patch("users", str(user["id"]), "user", {"enabled": enabled})
        self.session.audit(
            result.action,
            f"user {user['name']}",
            code=code,
            before={"enabled": not enabled},
            after={"enabled": enabled},
            detail={"id": user["id"], "reason": reason},
        )
        result.users_changed.append(str(user["name"]))
        self.session.reporter.step(
            f"{code} user {user['name']}", "updated", "enabled" if enabled else "disabled"
        )

    def _patch(self, collection: str, resource_id: str, key: str, body: JSON) -> None:
        """PATCH is idempotent: safe to retry after a transient fault."""
        identity = self.session.apis.identity
        retry_read(
            lambda: identity.patch(f"/{collection}/{resource_id}", {key: body}),
            what=f"update {key} {resource_id}",
        )
