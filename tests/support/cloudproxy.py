"""Put a FaultProxy in front of a whole cloud and write a clouds.yaml that goes through it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openstack.connection import Connection

from tests.support.cli import write_clouds_yaml
from tests.support.faultproxy import FaultProxy, clouds_entry


@dataclass(frozen=True)
class ProxiedCloud:
    proxy: FaultProxy
    cloud: str
    clouds_file: Path

    @property
    def env(self) -> dict[str, str]:
        return {"OS_CLIENT_CONFIG_FILE": str(self.clouds_file)}


def catalog_origins(conn: Connection) -> dict[str, str]:
    """service type → scheme://host:port of its public endpoint (one upstream per origin)."""
    access = conn.session.auth.get_access(conn.session)
    origins: dict[str, str] = {}
    for service_type, endpoints in access.service_catalog.get_endpoints(interface="public").items():
        for endpoint in endpoints:
            parts = urlsplit(endpoint["url"])
            origins.setdefault(service_type, f"{parts.scheme}://{parts.netloc}")
    unique: dict[str, str] = {}
    for service_type, origin in sorted(origins.items()):
        if origin not in unique.values():
            unique[service_type] = origin
    return unique


@contextmanager
def proxied_cloud(
    conn: Connection, entry: dict[str, Any], tmp: Path, *, name: str = "proxied", **options: Any
) -> Iterator[ProxiedCloud]:
    with FaultProxy(catalog_origins(conn), **options) as proxy:
        clouds = write_clouds_yaml(tmp / "clouds-proxied.yaml", {name: clouds_entry(proxy, entry)})
        yield ProxiedCloud(proxy, name, clouds)
