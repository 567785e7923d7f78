"""Through a misbehaving network (503s, slow answers, connections dropped after the cloud has
applied a create), one apply still converges with no duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import Result, run_dcctl
from tests.support.cloudproxy import proxied_cloud
from tests.support.faultproxy import Delay, DropAfterForward, Fault, Status
from tests.tenant.conftest import TenantWorld
from tests.tenant.invariants import assert_clean

pytestmark = pytest.mark.integration

CREATES = [
    ("identity", r"/v3/projects$"),
    ("identity", r"/v3/users$"),
    ("network", r"/networks$"),
    ("network", r"/subnets$"),
    ("network", r"/routers$"),
    ("network", r"/security-groups$"),
    ("network", r"/security-group-rules$"),
]


def test_lost_answers_after_creates_do_not_duplicate(world: TenantWorld, tmp_path: Path) -> None:
    with proxied_cloud(world.conn, world.entry, tmp_path) as cloud:
        drops = [
            cloud.proxy.add_fault(
                Fault(DropAfterForward(), label=label, methods="POST", path=path, times=1)
            )
            for label, path in CREATES
        ]
        drops.append(
            cloud.proxy.add_fault(
                Fault(
                    DropAfterForward(),
                    label="network",
                    methods="PUT",
                    path=r"/add_router_interface$",
                    times=1,
                )
            )
        )
        result = _apply(world, cloud.cloud, cloud.env)
        assert result.code == 0, result.stdout + result.stderr
        assert all(drop.fired == 1 for drop in drops), [(d.rule.path, d.fired) for d in drops]
        # Each dropped create was looked up, not blindly re-sent.
        assert cloud.proxy.count("POST", "network", path=r"/networks$") == 1
        assert cloud.proxy.count("POST", "identity", path=r"/v3/projects$") >= 1
    assert world.tenant("plan", "--all").code == 0
    assert_clean(world.apis, world.site.codes[0])


def test_503s_and_slow_answers_are_retried(world: TenantWorld, tmp_path: Path) -> None:
    with proxied_cloud(world.conn, world.entry, tmp_path) as cloud:
        unavailable = [
            cloud.proxy.add_fault(
                Fault(Status(503), label=label, methods="POST", path=path, times=2)
            )
            for label, path in CREATES
        ]
        reads = cloud.proxy.add_fault(Fault(Status(503), methods="GET", every=7))
        slow = cloud.proxy.add_fault(Fault(Delay(1.5), label="network", methods="GET", every=5))
        result = _apply(world, cloud.cloud, cloud.env)
        assert result.code == 0, result.stdout + result.stderr
        assert all(fault.fired == 2 for fault in unavailable)
        assert reads.fired > 0 and slow.fired > 0
    assert world.tenant("plan", "--all").code == 0
    assert_clean(world.apis, world.site.codes[0])


def _apply(world: TenantWorld, cloud: str, env: dict[str, str]) -> Result:
    return run_dcctl(
        "--cloud",
        cloud,
        "tenant",
        "apply",
        "--all",
        "--yes",
        "--site",
        str(world.site.path),
        env={**world.env, **env},
    )
