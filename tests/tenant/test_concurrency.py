"""Two operators applying the same agency: one waits for the other; a dead holder's lock expires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cloudproxy import proxied_cloud
from tests.support.faultproxy import Fault, Hold
from tests.tenant.conftest import TenantWorld
from tests.tenant.invariants import assert_clean

pytestmark = pytest.mark.integration


def _apply(
    world: TenantWorld, *extra: str, env: dict[str, str] | None = None, cloud: str | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dcctl",
            "--cloud",
            cloud or world.cloud,
            "tenant",
            "apply",
            "--all",
            "--yes",
            "--site",
            str(world.site.path),
            *extra,
        ],
        env={**os.environ, **world.env, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_concurrent_applies_make_no_duplicates(world: TenantWorld) -> None:
    first = _apply(world, "--wait", "180")
    second = _apply(world, "--wait", "180")
    out_first, _ = first.communicate(timeout=300)
    out_second, _ = second.communicate(timeout=300)
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second
    combined = out_first + out_second
    # One of them found the other's lock, waited, and then had nothing (or less) left to do.
    assert "locked by" in combined or "Nothing to do" in combined
    assert world.tenant("plan", "--all").code == 0
    assert_clean(world.apis, world.site.codes[0])


def test_second_operator_without_wait_is_told_who_holds_the_lock(
    world: TenantWorld, tmp_path: Path
) -> None:
    with proxied_cloud(world.conn, world.entry, tmp_path) as cloud:
        hold = cloud.proxy.add_fault(
            Fault(Hold(20), label="identity", methods="POST", path=r"/v3/users$", times=1)
        )
        holder = _apply(world, env=cloud.env, cloud=cloud.cloud)
        try:
            assert hold.arrived.wait(120)
            refused = world.tenant("apply", "--all", "--yes")
            assert refused.code == 1
            assert "locked by" in refused.stdout
            assert "since" in refused.stdout
        finally:
            cloud.proxy.clear_faults()
            out, _ = holder.communicate(timeout=300)
    assert holder.returncode == 0, out
    assert world.tenant("plan", "--all").code == 0


def test_killed_holders_lock_expires(world: TenantWorld, tmp_path: Path) -> None:
    with proxied_cloud(world.conn, world.entry, tmp_path) as cloud:
        hold = cloud.proxy.add_fault(
            Fault(Hold(60), label="identity", methods="POST", path=r"/v3/users$", times=1)
        )
        holder = _apply(world, "--lock-lease", "6", env=cloud.env, cloud=cloud.cloud)
        try:
            assert hold.arrived.wait(120)
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=30)
        cloud.proxy.clear_faults()
    after = world.tenant("apply", "--all", "--yes", "--wait", "60")
    assert after.code == 0, after.stdout + after.stderr
    assert "expired; taking over" in after.stderr
    assert world.tenant("plan", "--all").code == 0
    assert_clean(world.apis, world.site.codes[0])
