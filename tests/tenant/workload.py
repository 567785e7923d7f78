"""Data inside an agency's tenant, made the way the agency itself would (as one of its users):
dcctl does not create servers or volumes yet, but decommission must handle them."""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack
from keystoneauth1 import exceptions as ka
from keystoneauth1 import session as ka_session
from keystoneauth1.identity import v3
from openstack import exceptions as sdk
from openstack.connection import Connection

from dcctl.cloud.rest import Apis
from tests.tenant.conftest import TenantWorld

DOMAIN = "quangngai"


def initial_password(state: Path, user: str) -> str:
    """The password dcctl delivered for ``user`` (the 0600 file under the state dir)."""
    for path in sorted((state / "credentials").glob("initial-passwords-*.txt")):
        for line in path.read_text().splitlines():
            fields = line.split("\t")
            if len(fields) == 3 and fields[1] == user:
                return fields[2]
    raise AssertionError(f"no delivered password for {user}")


@dataclass
class AgencyUser:
    world: TenantWorld
    code: str
    name: str
    password: str

    @property
    def auth_url(self) -> str:
        return str(self.world.entry["auth"]["auth_url"])

    def token(self) -> str:
        """A token scoped to the agency's project; raises ka.Unauthorized when refused."""
        auth = v3.Password(
            auth_url=self.auth_url,
            username=self.name,
            password=self.password,
            user_domain_name=DOMAIN,
            project_name=self.code,
            project_domain_name=DOMAIN,
        )
        try:
            return str(ka_session.Session(auth=auth).get_token())
        except ka.Unauthorized as error:
            if "password is expired" not in str(error).lower():
                raise
        self._change_password()  # Keystone forces a change at first use
        return self.token()

    def _change_password(self) -> None:
        users = self.world.apis.identity.list_all("/users", "users", name=self.name)
        new = f"Aa1-{secrets.token_urlsafe(16)}"
        session = ka_session.Session()
        session.post(
            f"{self.auth_url}/users/{users[0]['id']}/password",
            json={"user": {"password": new, "original_password": self.password}},
            authenticated=False,
        )
        self.password = new

    def connect(self) -> Connection:
        self.token()  # settles a forced password change first
        return openstack.connect(
            auth_url=self.auth_url,
            username=self.name,
            password=self.password,
            user_domain_name=DOMAIN,
            project_name=self.code,
            project_domain_name=DOMAIN,
            region_name="RegionOne",
            identity_api_version=3,
        )


def agency_user(world: TenantWorld, code: str, n: int = 0) -> AgencyUser:
    name = f"{code}.user{n}"
    return AgencyUser(world, code, name, initial_password(world.state, name))


@dataclass
class Workload:
    server_id: str | None
    volume_id: str
    snapshot_id: str | None


def make_workload(conn: Connection, code: str, *, server: bool = True) -> Workload:
    """A 1 GiB volume; with ``server``, an m1.tiny server it is attached to and a snapshot."""
    volume = conn.block_storage.create_volume(name=f"{code}-data", size=1)
    if not server:
        conn.block_storage.wait_for_status(volume, "available", wait=180)
        return Workload(None, volume.id, None)
    image = next(conn.image.images(name="sandbox-tiny"))
    flavor = conn.compute.find_flavor("m1.tiny")
    network = conn.network.find_network(f"{code}-app")
    vm = conn.compute.create_server(
        name=f"{code}-vm",
        flavor_id=flavor.id,
        image_id=image.id,
        networks=[{"uuid": network.id}],
    )
    conn.block_storage.wait_for_status(volume, "available", wait=180)
    vm = conn.compute.wait_for_server(vm, wait=300)
    conn.compute.create_volume_attachment(vm, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, "in-use", wait=180)
    snapshot = conn.block_storage.create_snapshot(
        volume_id=volume.id, name=f"{code}-data-snap", force=True
    )
    conn.block_storage.wait_for_status(snapshot, "available", wait=180)
    return Workload(vm.id, volume.id, snapshot.id)


def remove_workload(world: TenantWorld, code: str) -> None:
    """Test cleanup (admin): servers, snapshots, volumes of the agency, and its final backups."""
    apis = world.apis
    conn = world.conn
    volume = _volume_rest(apis)
    for project in apis.identity.list_all("/projects", "projects", name=code):
        pid = project["id"]
        for vm in apis.compute.list_all(
            "/servers/detail", "servers", all_tenants=1, project_id=pid
        ):
            if vm.get("tenant_id") == pid:
                with contextlib.suppress(sdk.NotFoundException):
                    conn.compute.delete_server(vm["id"], force=True)
                    conn.compute.wait_for_delete(conn.compute.get_server(vm["id"]), wait=180)
        snaps = volume.list_all("/snapshots/detail", "snapshots", all_tenants=1, project_id=pid)
        for snap in snaps:
            with contextlib.suppress(sdk.NotFoundException):
                volume.delete(f"/snapshots/{snap['id']}")
        deadline = time.monotonic() + 120
        while snaps and time.monotonic() < deadline:
            left = volume.list_all("/snapshots/detail", "snapshots", all_tenants=1, project_id=pid)
            if not left:
                break
            time.sleep(1)
        for vol in volume.list_all("/volumes/detail", "volumes", all_tenants=1, project_id=pid):
            if vol.get("os-vol-tenant-attr:tenant_id") != pid:
                continue
            with contextlib.suppress(sdk.HttpException):
                volume.post(f"/volumes/{vol['id']}/action", {"os-force_delete": {}})
    for backup in final_backups(apis, code):
        with contextlib.suppress(sdk.HttpException):
            volume.delete(f"/backups/{backup['id']}")


def final_backups(apis: Apis, code: str) -> list[dict[str, Any]]:
    """Every backup named as a final backup of ``code`` (any status)."""
    found = _volume_rest(apis).list_all("/backups/detail", "backups", all_tenants=1)
    return [b for b in found if str(b.get("name", "")).startswith(f"dcctl-final-{code}-")]


def _volume_rest(apis: Apis) -> Any:
    from dcctl.cloud.rest import Rest

    return Rest(apis.conn.block_storage, microversion="3.50")
