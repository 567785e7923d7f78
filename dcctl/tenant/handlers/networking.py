"""Neutron networks, subnets, routers and router interfaces.

Neutron refuses tags in create requests, so a resource is created first and tagged right
after. If dcctl dies in between, the untagged resource still has its spec name inside the
agency's project: the next plan finds it there and adopts it (tags it) instead of creating a
second one — the same lookup ``create_once`` does after a lost answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dcctl.cloud.rest import JSON, Rest
from dcctl.cloud.retry import create_once, retry_read
from dcctl.reconcile.model import Change, Ref
from dcctl.tenant import kinds
from dcctl.tenant.context import ApplyContext
from dcctl.tenant.handlers.base import HANDLERS
from dcctl.tenant.handlers.common import first, ignore_missing


def tag(api: Rest, collection: str, resource_id: str, code: str) -> None:
    """Add dcctl's tags (idempotent PUT per tag; existing tags are kept)."""
    for value in kinds.neutron_tags(code):
        path = f"/{collection}/{resource_id}/tags/{value}"

        def put(path: str = path) -> JSON:
            return api.put(path)

        retry_read(put, what=f"tag {collection} {resource_id}")


def create_tagged(
    ctx: ApplyContext,
    *,
    collection: str,
    key: str,
    body: JSON,
    find: Callable[[], JSON | None],
    what: str,
) -> str:
    api = ctx.apis.network

    def lookup() -> str | None:
        found = find()
        return str(found["id"]) if found else None

    resource_id = create_once(
        lambda: str(api.post(f"/{collection}", {key: body})[key]["id"]), lookup, what=what
    )
    # Just created, so it has no tags yet: one request sets them all (PUT replaces the set).
    tags = {"tags": list(kinds.neutron_tags(ctx.agency.code))}
    retry_read(
        lambda: api.put(f"/{collection}/{resource_id}/tags", tags),
        what=f"tag {collection} {resource_id}",
    )
    return resource_id


class NetworkHandler:
    def create(self, ctx: ApplyContext, change: Change) -> str:
        after = change.after or {}
        name = change.ref.key
        project_id = ctx.project_id
        network_id = create_tagged(
            ctx,
            collection="networks",
            key="network",
            body={
                "name": name,
                "project_id": project_id,
                "description": after.get("description") or "",
            },
            find=lambda: first(
                ctx.apis.network.list_all("/networks", "networks", project_id=project_id, name=name)
            ),
            what=str(change.ref),
        )
        ctx.ids[change.ref] = network_id
        return network_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        body = {f.field: f.new or "" for f in change.fields}
        ctx.apis.network.put(f"/networks/{change.resource_id}", {"network": body})

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        tag(ctx.apis.network, "networks", str(change.resource_id), ctx.agency.code)
        if change.fields:
            self.update(ctx, change)

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        ignore_missing(lambda: ctx.apis.network.delete(f"/networks/{change.resource_id}"))


class SubnetHandler:
    def create(self, ctx: ApplyContext, change: Change) -> str:
        after = change.after or {}
        network_id = ctx.ids.require(Ref(kinds.NETWORK, str(after["network"])))
        name = change.ref.key
        subnet_id = create_tagged(
            ctx,
            collection="subnets",
            key="subnet",
            body={
                "name": name,
                "network_id": network_id,
                "project_id": ctx.project_id,
                "cidr": after["cidr"],
                "ip_version": after["ip_version"],
                "gateway_ip": after.get("gateway_ip"),
                "enable_dhcp": after.get("enable_dhcp", True),
                "dns_nameservers": list(after.get("dns_nameservers") or []),
            },
            find=lambda: first(
                ctx.apis.network.list_all("/subnets", "subnets", network_id=network_id, name=name)
            ),
            what=str(change.ref),
        )
        ctx.ids[change.ref] = subnet_id
        return subnet_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        body: JSON = {}
        for field in change.fields:
            value: Any = field.new
            body[field.field] = list(value) if field.field == "dns_nameservers" else value
        ctx.apis.network.put(f"/subnets/{change.resource_id}", {"subnet": body})

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        tag(ctx.apis.network, "subnets", str(change.resource_id), ctx.agency.code)
        if change.fields:
            self.update(ctx, change)

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        ignore_missing(lambda: ctx.apis.network.delete(f"/subnets/{change.resource_id}"))


class RouterHandler:
    def _gateway(self, ctx: ApplyContext, external: object) -> JSON:
        if not external:
            return {}
        return {"network_id": ctx.external_network_id()}

    def create(self, ctx: ApplyContext, change: Change) -> str:
        after = change.after or {}
        name = change.ref.key
        project_id = ctx.project_id
        body: JSON = {"name": name, "project_id": project_id}
        if after.get("external_network"):
            body["external_gateway_info"] = self._gateway(ctx, after["external_network"])
        router_id = create_tagged(
            ctx,
            collection="routers",
            key="router",
            body=body,
            find=lambda: first(
                ctx.apis.network.list_all("/routers", "routers", project_id=project_id, name=name)
            ),
            what=str(change.ref),
        )
        ctx.ids[change.ref] = router_id
        return router_id

    def update(self, ctx: ApplyContext, change: Change) -> None:
        body: JSON = {}
        for field in change.fields:
            if field.field == "external_network":
                body["external_gateway_info"] = self._gateway(ctx, field.new)
            else:
                body[field.field] = field.new
        ctx.apis.network.put(f"/routers/{change.resource_id}", {"router": body})

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        tag(ctx.apis.network, "routers", str(change.resource_id), ctx.agency.code)
        if change.fields:
            self.update(ctx, change)

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        api = ctx.apis.network
        router_id = str(change.resource_id)
        ports = retry_read(
            lambda: api.list_all(
                "/ports", "ports", device_id=router_id, device_owner="network:router_interface"
            ),
            what=f"interfaces of router {router_id}",
        )
        for port in ports:
            body = {"port_id": port["id"]}

            def remove(body: JSON = body) -> JSON:
                return api.put(f"/routers/{router_id}/remove_router_interface", body)

            ignore_missing(remove)
        ignore_missing(lambda: api.delete(f"/routers/{router_id}"))


class RouterInterfaceHandler:
    """add_router_interface is not idempotent (400 when it exists): look before adding."""

    def _ids(self, ctx: ApplyContext, change: Change) -> tuple[str, str]:
        if change.resource_id:
            router_id, subnet_id = change.resource_id.split("/", 1)
            return router_id, subnet_id
        router, subnet = change.ref.key.split("/", 1)
        return (
            ctx.ids.require(Ref(kinds.ROUTER, router)),
            ctx.ids.require(Ref(kinds.SUBNET, subnet)),
        )

    def _exists(self, ctx: ApplyContext, router_id: str, subnet_id: str) -> bool:
        ports = retry_read(
            lambda: ctx.apis.network.list_all(
                "/ports", "ports", device_id=router_id, device_owner="network:router_interface"
            ),
            what=f"interfaces of router {router_id}",
        )
        return any(
            fixed.get("subnet_id") == subnet_id
            for port in ports
            for fixed in port.get("fixed_ips") or []
        )

    def create(self, ctx: ApplyContext, change: Change) -> str:
        router_id, subnet_id = self._ids(ctx, change)
        api = ctx.apis.network

        def add() -> str:
            api.put(f"/routers/{router_id}/add_router_interface", {"subnet_id": subnet_id})
            return subnet_id

        def find() -> str | None:
            return subnet_id if self._exists(ctx, router_id, subnet_id) else None

        if find() is None:
            create_once(add, find, what=str(change.ref))
        return f"{router_id}/{subnet_id}"

    def update(self, ctx: ApplyContext, change: Change) -> None:
        self.create(ctx, change)

    adopt = update

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        router_id, subnet_id = self._ids(ctx, change)
        if self._exists(ctx, router_id, subnet_id):
            ctx.apis.network.put(
                f"/routers/{router_id}/remove_router_interface", {"subnet_id": subnet_id}
            )


HANDLERS.register(kinds.NETWORK, NetworkHandler())
HANDLERS.register(kinds.SUBNET, SubnetHandler())
HANDLERS.register(kinds.ROUTER, RouterHandler())
HANDLERS.register(kinds.ROUTER_INTERFACE, RouterInterfaceHandler())
