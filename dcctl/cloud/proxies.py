"""Typed access to openstacksdk proxies whose static type is a union of API versions."""

from __future__ import annotations

from typing import Any

from keystoneauth1.identity.base import BaseIdentityPlugin
from openstack.connection import Connection
from openstack.identity.v3._proxy import Proxy as IdentityV3

from dcctl.errors import ConfigError


def identity(conn: Connection) -> IdentityV3:
    """Keystone v3: dcctl needs domains, which v2 never had."""
    proxy = conn.identity
    if not isinstance(proxy, IdentityV3):
        raise ConfigError(
            "the cloud's identity endpoint is not Keystone v3",
            hint="set identity_api_version: 3 in clouds.yaml",
        )
    return proxy


def access_info(conn: Connection) -> Any:
    """The token's access info (user, scope, roles, catalog); authenticates if needed."""
    auth = conn.session.auth
    if not isinstance(auth, BaseIdentityPlugin):
        raise ConfigError("the cloud's auth plugin does not expose a Keystone token")
    return auth.get_access(conn.session)
