"""Thin JSON REST calls through openstacksdk's service proxies.

dcctl reads in bulk (one list per resource type for the whole site) and writes exact bodies
(tags and Keystone extra attributes in the create request itself, so a crash can never leave
an unmarked resource). The proxies still do endpoint discovery, auth and microversions.
"""

from __future__ import annotations

from typing import Any

from openstack import exceptions as sdk
from openstack.connection import Connection
from openstack.proxy import Proxy

JSON = dict[str, Any]


class Rest:
    """JSON in, JSON out, HttpException on any 4xx/5xx."""

    def __init__(self, proxy: Proxy, *, microversion: str | None = None) -> None:
        self._proxy = proxy
        self._microversion = microversion

    def _call(self, method: str, path: str, **kwargs: Any) -> JSON:
        if self._microversion is not None:
            kwargs.setdefault("microversion", self._microversion)
        response = self._proxy.request(path, method, raise_exc=False, **kwargs)
        sdk.raise_from_response(response, error_message=f"{method} {path}")
        if response.status_code == 204 or not response.content:
            return {}
        body = response.json()
        return body if isinstance(body, dict) else {"body": body}

    def get(self, path: str, **params: Any) -> JSON:
        return self._call("GET", path, params=params or None)

    def post(self, path: str, body: JSON | None = None) -> JSON:
        return self._call("POST", path, json=body)

    def put(self, path: str, body: JSON | None = None) -> JSON:
        return self._call("PUT", path, json=body)

    def patch(self, path: str, body: JSON) -> JSON:
        return self._call("PATCH", path, json=body)

    def delete(self, path: str) -> JSON:
        return self._call("DELETE", path)

    def list_all(self, path: str, key: str, **params: Any) -> list[JSON]:
        """GET a collection, following ``<key>_links`` pagination when the service uses it."""
        items: list[JSON] = []
        body = self.get(path, **params)
        items += body.get(key, [])
        while True:
            links = body.get(f"{key}_links") or []
            following = next((link["href"] for link in links if link.get("rel") == "next"), None)
            if not following:
                return items
            body = self._call("GET", following)
            items += body.get(key, [])


class Apis:
    """One ``Rest`` per service dcctl talks to."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.identity = Rest(conn.identity)
        self.network = Rest(conn.network)
        # 2.87: the last microversion whose quota-set detail and hypervisor views dcctl reads.
        self.compute = Rest(conn.compute, microversion="2.87")
        self.volume = Rest(conn.block_storage)
        self.placement = Rest(conn.placement, microversion="1.10")
