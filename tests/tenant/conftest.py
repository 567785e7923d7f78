"""Fixtures for tenant tests against the real sandbox cloud."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from openstack.connection import Connection

from dcctl.cloud.rest import Apis
from tests.support.cli import Result, run_dcctl
from tests.support.sites import TestSite, make_site


@dataclass
class TenantWorld:
    """A generated site, the environment to run dcctl on it, and an admin API handle."""

    site: TestSite
    cloud: str
    env: dict[str, str]
    conn: Connection
    state: Path
    entry: dict[str, Any]

    @property
    def apis(self) -> Apis:
        return Apis(self.conn)

    def dcctl(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Result:
        return run_dcctl(
            "--cloud", self.cloud, *args, env={**self.env, **(env or {})}, timeout=timeout
        )

    def tenant(self, command: str, *args: str, **kwargs: Any) -> Result:
        return self.dcctl("tenant", command, *args, "--site", str(self.site.path), **kwargs)

    def project(self, code: str) -> dict[str, Any] | None:
        found = self.apis.identity.list_all("/projects", "projects", name=code)
        return found[0] if found else None

    def audit_lines(self) -> list[str]:
        path = self.site.path.parent / "audit.jsonl"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def world(sandbox: Any, tmp_path: Path) -> Iterator[TenantWorld]:
    clouds_file = Path(sandbox.clouds_file)
    entry = yaml.safe_load(clouds_file.read_text())["clouds"][sandbox.cloud]
    state = tmp_path / "state"
    site = make_site(tmp_path)
    env = {
        "OS_CLIENT_CONFIG_FILE": str(clouds_file),
        "DCCTL_STATE_DIR": str(state),
        "OS_CLOUD": "",
    }
    conn = sandbox.connect()
    world = TenantWorld(site, sandbox.cloud, env, conn, state, entry)
    yield world
    purge_agencies(world.apis, site.codes)


def purge_agencies(apis: Apis, codes: list[str]) -> None:
    """Remove what the tests created (the product's own delete path is tested separately)."""
    for code in codes:
        for project in apis.identity.list_all("/projects", "projects", name=code):
            pid = project["id"]
            for router in apis.network.list_all("/routers", "routers", project_id=pid):
                for port in apis.network.list_all(
                    "/ports",
                    "ports",
                    device_id=router["id"],
                    device_owner="network:router_interface",
                ):
                    apis.network.put(
                        f"/routers/{router['id']}/remove_router_interface", {"port_id": port["id"]}
                    )
                apis.network.delete(f"/routers/{router['id']}")
            for network in apis.network.list_all("/networks", "networks", project_id=pid):
                apis.network.delete(f"/networks/{network['id']}")
            for group in apis.network.list_all(
                "/security-groups", "security_groups", project_id=pid
            ):
                apis.network.delete(f"/security-groups/{group['id']}")
            apis.identity.delete(f"/projects/{pid}")
        for user in apis.identity.list_all("/users", "users"):
            if user.get("dcctl_agency") == code:
                apis.identity.delete(f"/users/{user['id']}")
        for group in apis.identity.list_all("/groups", "groups"):
            if group.get("dcctl_agency") == code:
                apis.identity.delete(f"/groups/{group['id']}")
