"""Neutron security groups and their rules.

Rules have neither names nor tags: a rule is identified by its normalised tuple, and neutron
itself refuses a duplicate (409), which ``create_once`` turns into "already there".
"""

from __future__ import annotations

from dcctl.cloud.rest import JSON
from dcctl.cloud.retry import create_once, is_conflict, retry_read
from dcctl.reconcile.model import Change, Ref
from dcctl.spec.secgroup import DEFAULT_GROUP, NormalRule
from dcctl.tenant import kinds
from dcctl.tenant.context import ApplyContext
from dcctl.tenant.handlers.base import HANDLERS
from dcctl.tenant.handlers.common import first, ignore_missing
from dcctl.tenant.handlers.networking import create_tagged, tag


class SecurityGroupHandler:
    def create(self, ctx: ApplyContext, change: Change) -> str:
        name = change.ref.key
        project_id = ctx.project_id
        api = ctx.apis.network
        if name == DEFAULT_GROUP:
            # Listing with a project filter makes neutron create the project's default group.
            found = retry_read(
                lambda: first(
                    api.list_all(
                        "/security-groups",
                        "security_groups",
                        project_id=project_id,
                        name=DEFAULT_GROUP,
                    )
                ),
                what="default security group",
            )
            if found is None:
                raise RuntimeError("neutron did not create the project's default group")
            group_id = str(found["id"])
        else:
            after = change.after or {}
            group_id = create_tagged(
                ctx,
                collection="security-groups",
                key="security_group",
                body={
                    "name": name,
                    "project_id": project_id,
                    "description": after.get("description") or "",
                },
                find=lambda: first(
                    api.list_all(
                        "/security-groups", "security_groups", project_id=project_id, name=name
                    )
                ),
                what=str(change.ref),
            )
        ctx.ids[change.ref] = group_id
        return group_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        body = {f.field: f.new or "" for f in change.fields if f.field != "name"}
        if body:
            ctx.apis.network.put(f"/security-groups/{change.resource_id}", {"security_group": body})

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        tag(ctx.apis.network, "security-groups", str(change.resource_id), ctx.agency.code)
        self.update(ctx, change)

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        ignore_missing(lambda: ctx.apis.network.delete(f"/security-groups/{change.resource_id}"))


class RuleHandler:
    def _rule(self, change: Change) -> NormalRule:
        attrs = dict(change.after or change.before or {})
        return NormalRule(
            direction=str(attrs["direction"]),
            ethertype=str(attrs["ethertype"]),
            protocol=attrs.get("protocol"),
            port_min=attrs.get("port_min"),
            port_max=attrs.get("port_max"),
            remote_ip_prefix=attrs.get("remote_ip_prefix"),
            remote_group=attrs.get("remote_group"),
        )

    def _group_id(self, ctx: ApplyContext, name: str) -> str:
        return ctx.ids.require(Ref(kinds.SECURITY_GROUP, name))

    def _find(self, ctx: ApplyContext, group_id: str, rule: NormalRule) -> str | None:
        remote = self._group_id(ctx, rule.remote_group) if rule.remote_group is not None else None
        for candidate in ctx.apis.network.list_all(
            "/security-group-rules", "security_group_rules", security_group_id=group_id
        ):
            observed = kinds.canonical_rule(
                NormalRule(
                    candidate["direction"],
                    candidate.get("ethertype", "IPv4"),
                    candidate.get("protocol"),
                    candidate.get("port_range_min"),
                    candidate.get("port_range_max"),
                    candidate.get("remote_ip_prefix"),
                    candidate.get("remote_group_id"),
                )
            )
            if observed == rule._replace(remote_group=remote):
                return str(candidate["id"])
        return None

    def _body(self, ctx: ApplyContext, change: Change) -> JSON:
        rule = self._rule(change)
        body: JSON = {
            "security_group_id": self._group_id(ctx, self.batch_key(change)),
            # Without it the rule belongs to the operator's project and uses up its quota.
            "project_id": ctx.project_id,
            "direction": rule.direction,
            "ethertype": rule.ethertype,
            "protocol": rule.protocol,
            "port_range_min": rule.port_min,
            "port_range_max": rule.port_max,
            "remote_ip_prefix": rule.remote_ip_prefix,
            "remote_group_id": (
                self._group_id(ctx, rule.remote_group) if rule.remote_group else None
            ),
            "description": ctx.rule_descriptions.get(change.ref.key, ""),
        }
        return {key: value for key, value in body.items() if value is not None}

    def create(self, ctx: ApplyContext, change: Change) -> str:
        body = self._body(ctx, change)
        return create_once(
            lambda: str(
                ctx.apis.network.post("/security-group-rules", {"security_group_rule": body})[
                    "security_group_rule"
                ]["id"]
            ),
            lambda: self._find(ctx, body["security_group_id"], self._rule(change)),
            what=str(change.ref),
        )

    @staticmethod
    def batch_key(change: Change) -> str:
        """Rules are created in one request per security group (neutron's bulk create takes
        one group at a time and writes all its rules in one transaction, or none)."""
        return str((change.after or change.before or {})["group"])

    def create_many(self, ctx: ApplyContext, changes: list[Change]) -> list[str]:
        bodies = [self._body(ctx, change) for change in changes]
        what = f"{len(changes)} rules of security group {self.batch_key(changes[0])}"

        def post() -> list[str]:
            created = ctx.apis.network.post(
                "/security-group-rules", {"security_group_rules": bodies}
            )["security_group_rules"]
            return [str(rule["id"]) for rule in created]

        def find_all() -> list[str] | None:
            found = [
                self._find(ctx, body["security_group_id"], self._rule(change))
                for body, change in zip(bodies, changes, strict=True)
            ]
            return [rule_id for rule_id in found if rule_id] if all(found) else None

        try:
            return create_once(post, find_all, what=what)
        except Exception as error:
            if not is_conflict(error):
                raise
        # Some of them exist already (409 for the whole request): one at a time, each of
        # which takes "already there" as done.
        return [self.create(ctx, change) for change in changes]

    def update(self, ctx: ApplyContext, change: Change) -> None:
        self.create(ctx, change)

    adopt = update

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        rule_id = change.resource_id
        if not rule_id:  # a rule neutron made with a group created in this same run
            group = str((change.before or {})["group"])
            rule_id = self._find(ctx, self._group_id(ctx, group), self._rule(change))
        if rule_id:
            ignore_missing(lambda: ctx.apis.network.delete(f"/security-group-rules/{rule_id}"))


HANDLERS.register(kinds.SECURITY_GROUP, SecurityGroupHandler())
HANDLERS.register(kinds.RULE, RuleHandler())
