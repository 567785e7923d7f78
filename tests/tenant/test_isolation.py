"""An agency user sees its own project and nothing of another agency's (403/404)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from keystoneauth1 import exceptions as ka
from openstack import connection
from openstack import exceptions as sdk

from dcctl.cloud.rest import Apis
from tests.support.sites import agency_doc
from tests.tenant.conftest import TenantWorld

pytestmark = pytest.mark.integration


def _initial_passwords(state: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for file in (state / "credentials").glob("initial-passwords-*.txt"):
        for line in file.read_text().splitlines():
            if line and not line.startswith("#"):
                _, user, password = line.split("\t")
                found[user] = password
    return found


def _login(world: TenantWorld, user: str, password: str, project: str) -> connection.Connection:
    auth = dict(world.entry["auth"])
    auth.update(
        username=user,
        password=password,
        user_domain_name="quangngai",
        project_name=project,
        project_domain_name="quangngai",
    )
    conn = connection.Connection(
        auth=auth, region_name=world.entry.get("region_name"), identity_api_version="3"
    )
    conn.authorize()
    return conn


def test_agency_user_is_confined_to_its_project(world: TenantWorld) -> None:
    mine, other_code = world.site.codes[0], f"{world.site.codes[0]}x"
    world.site.write(other_code, agency_doc(other_code, 7))
    world.site.codes.append(other_code)
    assert world.tenant("apply", "--all", "--yes").code == 0

    user = f"{mine}.user0"
    initial = _initial_passwords(world.state)[user]
    new_password = "Ch4nged-at-first-login!"
    identity = Apis(world.conn).identity
    user_id = identity.list_all("/users", "users", name=user)[0]["id"]
    # The sandbox's Keystone runs with change_password_upon_first_use: no token before a change.
    with pytest.raises((ka.Unauthorized, sdk.SDKException), match="expired"):
        _login(world, user, initial, mine)
    changed = world.conn.session.post(
        f"{world.entry['auth']['auth_url'].rstrip('/')}/users/{user_id}/password",
        json={"user": {"password": new_password, "original_password": initial}},
        authenticated=False,
        raise_exc=False,
    )
    assert changed.status_code == 204, changed.text
    password = new_password
    # The change revokes the user's tokens issued before it, to the second: let a second pass.
    time.sleep(1.1)

    conn = _login(world, user, password, mine)
    own = Apis(conn)
    visible = own.identity.get("/auth/projects")["projects"]
    assert [p["name"] for p in visible] == [mine]
    networks = own.network.list_all("/networks", "networks")
    assert {n["name"] for n in networks if not n.get("router:external")} == {f"{mine}-app"}

    other = world.project(other_code)
    assert other is not None
    other_net = world.apis.network.list_all("/networks", "networks", project_id=other["id"])[0]
    with pytest.raises(sdk.NotFoundException):
        own.network.get(f"/networks/{other_net['id']}")
    with pytest.raises(sdk.ForbiddenException):
        own.compute.get(f"/os-quota-sets/{other['id']}")
    with pytest.raises((ka.Unauthorized, sdk.SDKException), match="401"):
        _login(world, user, password, other_code)
