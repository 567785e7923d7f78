"""Keystone: project, users, groups, memberships and role assignments."""

from __future__ import annotations

import logging
from typing import Any

from dcctl.cloud.rest import JSON
from dcctl.cloud.retry import create_once, retry_read
from dcctl.errors import CloudError
from dcctl.reconcile.model import Change, Ref
from dcctl.tenant import kinds
from dcctl.tenant.context import ApplyContext
from dcctl.tenant.credentials import generate_password
from dcctl.tenant.handlers.base import HANDLERS
from dcctl.tenant.handlers.common import first, ignore_missing

log = logging.getLogger(__name__)


class ProjectHandler:
    def create(self, ctx: ApplyContext, change: Change) -> str:
        after = change.after or {}
        body = {
            "project": {
                "name": after["name"],
                "domain_id": ctx.domain_id,
                "description": after.get("description") or "",
                "enabled": after.get("enabled", True),
                "tags": sorted(after.get("tags", ())),  # marker set atomically with the create
            }
        }

        def find() -> str | None:
            found = ctx.apis.identity.list_all(
                "/projects", "projects", domain_id=ctx.domain_id, name=after["name"]
            )
            mine = [p for p in found if kinds.agency_tag(ctx.agency.code) in p.get("tags", [])]
            return str(mine[0]["id"]) if mine else None

        project_id = create_once(
            lambda: str(ctx.apis.identity.post("/projects", body)["project"]["id"]),
            find,
            what=f"project {after['name']}",
        )
        ctx.ids[change.ref] = project_id
        return project_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        patch: JSON = {}
        for field in change.fields:
            patch[field.field] = sorted(field.new) if field.field == "tags" else field.new
        ctx.apis.identity.patch(f"/projects/{change.resource_id}", {"project": patch})

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        after = change.after or {}
        patch = {name: after[name] for name in ("description", "enabled") if name in after}
        patch["tags"] = sorted(after.get("tags", ()))
        ctx.apis.identity.patch(f"/projects/{change.resource_id}", {"project": patch})

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        raise CloudError(
            f"{change.ref}: projects are removed only by 'dcctl tenant delete --purge'"
        )


class UserHandler:
    """Users carry ``dcctl_agency`` and a password-delivery state in Keystone itself."""

    def _find(self, ctx: ApplyContext, name: str) -> JSON | None:
        return first(
            ctx.apis.identity.list_all("/users", "users", domain_id=ctx.domain_id, name=name)
        )

    def create(self, ctx: ApplyContext, change: Change) -> str:
        after = change.after or {}
        name = change.ref.key
        password = generate_password()
        body = {
            "user": {
                "name": name,
                "domain_id": ctx.domain_id,
                "default_project_id": ctx.project_id,
                "description": after.get("description") or "",
                "email": after.get("email"),
                "enabled": after.get("enabled", True),
                "password": password,
                kinds.AGENCY_ATTR: ctx.agency.code,
                kinds.PASSWORD_ATTR: kinds.PASSWORD_PENDING,
            }
        }
        created_here = True

        def find() -> str | None:
            nonlocal created_here
            found = self._find(ctx, name)
            if found is None or found.get(kinds.AGENCY_ATTR) != ctx.agency.code:
                return None
            created_here = False
            return str(found["id"])

        user_id = create_once(
            lambda: str(ctx.apis.identity.post("/users", body)["user"]["id"]),
            find,
            what=f"user {name}",
        )
        ctx.ids[change.ref] = user_id
        if not created_here:
            # Found after a lost answer: make sure the password we deliver is the one it has.
            self._set_password(ctx, user_id, password)
        self._deliver(ctx, user_id, name, password)
        return user_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        user_id = str(change.resource_id)
        patch = self._patch(ctx, change)
        if patch:
            ctx.apis.identity.patch(f"/users/{user_id}", {"user": patch})
        if any(field.field == "password" for field in change.fields):
            password = generate_password()
            self._set_password(ctx, user_id, password)
            self._deliver(ctx, user_id, change.ref.key, password)

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        patch = self._patch(ctx, change)
        patch[kinds.AGENCY_ATTR] = ctx.agency.code
        ctx.apis.identity.patch(f"/users/{change.resource_id}", {"user": patch})

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        ignore_missing(lambda: ctx.apis.identity.delete(f"/users/{change.resource_id}"))

    def _patch(self, ctx: ApplyContext, change: Change) -> JSON:
        patch: JSON = {}
        for field in change.fields:
            if field.field == "password":
                continue
            if field.field == "default_project":
                patch["default_project_id"] = ctx.project_id
            elif field.field == "agency":
                patch[kinds.AGENCY_ATTR] = field.new
            else:
                patch[field.field] = field.new
        return patch

    def _set_password(self, ctx: ApplyContext, user_id: str, password: str) -> None:
        ctx.apis.identity.patch(
            f"/users/{user_id}",
            {"user": {"password": password, kinds.PASSWORD_ATTR: kinds.PASSWORD_PENDING}},
        )

    def _deliver(self, ctx: ApplyContext, user_id: str, name: str, password: str) -> None:
        """Write the password to the 0600 file first, then record the delivery in Keystone."""
        ctx.delivery.deliver(agency=ctx.agency.code, user=name, password=password)
        ctx.apis.identity.patch(
            f"/users/{user_id}", {"user": {kinds.PASSWORD_ATTR: kinds.PASSWORD_DELIVERED}}
        )


class GroupHandler:
    def create(self, ctx: ApplyContext, change: Change) -> str:
        after = change.after or {}
        name = change.ref.key
        body = {
            "group": {
                "name": name,
                "domain_id": ctx.domain_id,
                "description": after.get("description") or "",
                kinds.AGENCY_ATTR: ctx.agency.code,
            }
        }

        def find() -> str | None:
            found = first(
                ctx.apis.identity.list_all("/groups", "groups", domain_id=ctx.domain_id, name=name)
            )
            if found is None or found.get(kinds.AGENCY_ATTR) != ctx.agency.code:
                return None
            return str(found["id"])

        group_id = create_once(
            lambda: str(ctx.apis.identity.post("/groups", body)["group"]["id"]),
            find,
            what=f"group {name}",
        )
        ctx.ids[change.ref] = group_id
        return group_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        patch: JSON = {}
        for field in change.fields:
            patch[kinds.AGENCY_ATTR if field.field == "agency" else field.field] = field.new
        ctx.apis.identity.patch(f"/groups/{change.resource_id}", {"group": patch})

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        after = change.after or {}
        ctx.apis.identity.patch(
            f"/groups/{change.resource_id}",
            {
                "group": {
                    "description": after.get("description") or "",
                    kinds.AGENCY_ATTR: ctx.agency.code,
                }
            },
        )

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        ignore_missing(lambda: ctx.apis.identity.delete(f"/groups/{change.resource_id}"))


class _PutDeleteHandler:
    """A relation that exists iff its URL does: PUT creates it, DELETE removes it, both
    idempotent by nature, so a retry after a lost answer is always safe."""

    def _path(self, ctx: ApplyContext, change: Change) -> str:
        raise NotImplementedError

    def create(self, ctx: ApplyContext, change: Change) -> str:
        path = self._path(ctx, change)
        retry_read(lambda: ctx.apis.identity.put(path), what=str(change.ref))
        return path

    def update(self, ctx: ApplyContext, change: Change) -> None:
        self.create(ctx, change)

    adopt = update

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        path = self._path(ctx, change)
        ignore_missing(lambda: ctx.apis.identity.delete(path))


class MembershipHandler(_PutDeleteHandler):
    def _path(self, ctx: ApplyContext, change: Change) -> str:
        if change.resource_id:
            group_id, user_id = change.resource_id.split("/", 1)
        else:
            group, user = change.ref.key.split("/", 1)
            group_id = ctx.ids.require(Ref(kinds.GROUP, group))
            user_id = ctx.ids.require(Ref(kinds.USER, user))
        return f"/groups/{group_id}/users/{user_id}"


class RoleAssignmentHandler(_PutDeleteHandler):
    def _path(self, ctx: ApplyContext, change: Change) -> str:
        if change.resource_id:
            actor, role_id = change.resource_id.rsplit("/", 1)
            actor_kind, actor_id = actor.split(":", 1)
        else:
            actor, role = change.ref.key.rsplit("/", 1)
            actor_kind, actor_name = actor.split(":", 1)
            kind = kinds.USER if actor_kind == "user" else kinds.GROUP
            actor_id = ctx.ids.require(Ref(kind, actor_name))
            role_id = ctx.role_id(role)
        collection = "users" if actor_kind == "user" else "groups"
        return f"/projects/{ctx.project_id}/{collection}/{actor_id}/roles/{role_id}"


def _register(kind: str, handler: Any) -> None:
    HANDLERS.register(kind, handler)


_register(kinds.PROJECT, ProjectHandler())
_register(kinds.USER, UserHandler())
_register(kinds.GROUP, GroupHandler())
_register(kinds.MEMBERSHIP, MembershipHandler())
_register(kinds.ROLE_ASSIGNMENT, RoleAssignmentHandler())
