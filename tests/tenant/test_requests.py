"""What dcctl asks the cloud, seen by a recording proxy in front of the real sandbox: a plan of
one agency reads only that agency's networking (and the rules inside the security-group
listing), and an apply sends the new rules of each security group in one request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.support.cli import run_dcctl
from tests.support.cloudproxy import proxied_cloud
from tests.support.sites import make_site
from tests.tenant.conftest import TenantWorld, purge_agencies
from tests.tenant.invariants import assert_clean

pytestmark = pytest.mark.integration

#: neutron collections read per project, and those read per parent resource
BY_PROJECT = ("/v2.0/networks", "/v2.0/routers", "/v2.0/security-groups")
BY_PARENT = {"/v2.0/subnets": "network_id", "/v2.0/ports": "device_id"}


@pytest.fixture
def pair(sandbox: Any, tmp_path: Path) -> Iterator[TenantWorld]:
    """Two agencies in one site (the ``world`` fixture has one)."""
    clouds_file = Path(sandbox.clouds_file)
    entry = yaml.safe_load(clouds_file.read_text())["clouds"][sandbox.cloud]
    env = {
        "OS_CLIENT_CONFIG_FILE": str(clouds_file),
        "DCCTL_STATE_DIR": str(tmp_path / "state"),
        "OS_CLOUD": "",
    }
    site = make_site(tmp_path, count=2, prefix="rq")
    world = TenantWorld(site, sandbox.cloud, env, sandbox.connect(), tmp_path / "state", entry)
    yield world
    purge_agencies(world.apis, site.codes)


def test_rules_of_a_group_go_out_in_one_request(pair: TenantWorld, tmp_path: Path) -> None:
    with proxied_cloud(pair.conn, pair.entry, tmp_path, record_bodies=True) as cloud:
        result = run_dcctl(
            "--cloud", cloud.cloud, "tenant", "apply", "--all", "--yes",
            "--site", str(pair.site.path), env={**pair.env, **cloud.env},
        )  # fmt: skip
        assert result.code == 0, result.stdout + result.stderr
        posts = cloud.proxy.select("POST", "network", path=r"/security-group-rules$")
    groups_posted: list[str] = []
    batched = 0
    for record in posts:
        assert record.request_body is not None
        body = json.loads(record.request_body)
        rules = body.get("security_group_rules") or [body["security_group_rule"]]
        assert len({rule["security_group_id"] for rule in rules}) == 1
        groups_posted.append(rules[0]["security_group_id"])
        batched += len(rules) > 1
    # web (3 rules) and db (2 rules) of each agency: one request each, nothing sent twice.
    assert batched >= 4
    assert len(groups_posted) == len(set(groups_posted))
    for code in pair.site.codes:
        assert_clean(pair.apis, code)
    assert pair.tenant("plan", "--all").code == 0


def test_a_one_agency_plan_reads_only_that_agencys_networking(
    pair: TenantWorld, tmp_path: Path
) -> None:
    assert pair.tenant("apply", "--all", "--yes").code == 0
    mine, other = pair.site.codes
    own_project = pair.project(mine)
    other_project = pair.project(other)
    assert own_project is not None and other_project is not None
    with proxied_cloud(pair.conn, pair.entry, tmp_path) as cloud:
        result = run_dcctl(
            "--cloud", cloud.cloud, "tenant", "plan", mine, "--site", str(pair.site.path),
            env={**pair.env, **cloud.env},
        )  # fmt: skip
        assert result.code == 0, result.stdout + result.stderr  # and it still sees everything
        reads = cloud.proxy.select("GET", "network")
    seen: set[str] = set()
    for record in reads:
        parts = urlsplit(record.path)
        query = parse_qs(parts.query)
        assert other_project["id"] not in record.path
        if parts.path in BY_PROJECT and "name" not in query:  # name=: the external network
            assert query.get("project_id") == [own_project["id"]], record.path
            seen.add(parts.path)
        if parts.path in BY_PARENT:
            assert query.get(BY_PARENT[parts.path]), record.path
            seen.add(parts.path)
        assert parts.path != "/v2.0/security-group-rules", "rules come with their groups"
    assert seen == {*BY_PROJECT, *BY_PARENT}
