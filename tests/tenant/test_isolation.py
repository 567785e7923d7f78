"""An agency user sees its own project and nothing of another agency's (403/404)."""

from __future__ import annotations

import time

import pytest
from keystoneauth1 import exceptions as ka
from openstack import exceptions as sdk

from dcctl.cloud.rest import Apis
from tests.support.agency_users import NEW_PASSWORD, change_password, initial_passwords, login
from tests.support.sites import agency_doc
from tests.tenant.conftest import TenantWorld

pytestmark = pytest.mark.integration


def test_agency_user_is_confined_to_its_project(world: TenantWorld) -> None:
    mine, other_code = world.site.codes[0], f"{world.site.codes[0]}x"
    world.site.write(other_code, agency_doc(other_code, 7))
    world.site.codes.append(other_code)
    assert world.tenant("apply", "--all", "--yes").code == 0

    user = f"{mine}.user0"
    initial = initial_passwords(world.state)[user]
    identity = Apis(world.conn).identity
    user_id = identity.list_all("/users", "users", name=user)[0]["id"]
    # The sandbox's Keystone runs with change_password_upon_first_use: no token before a change.
    with pytest.raises((ka.Unauthorized, sdk.SDKException), match="expired"):
        login(world.entry, user, initial, mine)
    assert change_password(world.conn, world.entry, user_id, initial, NEW_PASSWORD) == 204
    password = NEW_PASSWORD
    # The change revokes the user's tokens issued before it, to the second: let a second pass.
    time.sleep(1.1)

    conn = login(world.entry, user, password, mine)
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
        login(world.entry, user, password, other_code)
