"""A quota lowered below what the agency uses is refused by the plan, on the real cloud: dcctl
reads usage only where the spec lowers a limit, so this proves that read happens."""

from __future__ import annotations

import time

import pytest

from dcctl.cloud.rest import Apis
from tests.support.agency_users import first_login
from tests.tenant.conftest import TenantWorld

pytestmark = pytest.mark.integration


def test_lowering_volume_gigabytes_below_usage_is_a_plan_problem(world: TenantWorld) -> None:
    code = world.site.codes[0]
    assert world.tenant("apply", "--all", "--yes").code == 0
    member = Apis(first_login(world.conn, world.entry, world.state, f"{code}.user0", code))
    volume = member.volume.post("/volumes", {"volume": {"size": 2, "name": "data"}})["volume"]
    try:
        deadline = time.monotonic() + 60
        while member.volume.get(f"/volumes/{volume['id']}")["volume"]["status"] != "available":
            assert time.monotonic() < deadline, "volume never became available"
            time.sleep(0.5)

        doc = world.site.read(code)
        doc["quota"] = {"overrides": {"volume": {"gigabytes": 1}}}
        world.site.write(code, doc)
        lowered = world.tenant("plan", "--all", "--output", "json")
        assert lowered.code == 1, lowered.stdout + lowered.stderr
        problems = [p["reason"] for a in lowered.json()["agencies"] for p in a["problems"]]
        assert problems == ["new limit 1 is below current usage 2"]

        doc["quota"] = {"overrides": {"volume": {"gigabytes": 2}}}  # down to exactly the usage
        world.site.write(code, doc)
        assert world.tenant("apply", "--all", "--yes").code == 0
        assert world.tenant("plan", "--all").code == 0
    finally:
        world.apis.volume.delete(f"/volumes/{volume['id']}")
