"""kill -9 at unsafe points (between a create and its marker, before a password is delivered…),
then re-run: the tenant converges with no duplicates and no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cloudproxy import proxied_cloud
from tests.support.faultproxy import Fault, Hold
from tests.tenant.conftest import TenantWorld
from tests.tenant.invariants import assert_clean

pytestmark = pytest.mark.integration

# (name, label, method, path regex of the request to freeze the client at)
KILL_POINTS = [
    ("after the project, before any user", "identity", "POST", r"/v3/users$"),
    ("user created, password not yet delivered", "identity", "PATCH", r"/v3/users/[0-9a-f]+$"),
    ("network created, not yet tagged", "network", "PUT", r"/networks/[-0-9a-f]+/tags$"),
    ("router created with gateway, not tagged", "network", "PUT", r"/routers/[-0-9a-f]+/tags$"),
    ("group created, not tagged", "network", "PUT", r"/security-groups/[-0-9a-f]+/tags$"),
    ("between two groups' rule batches", "network", "POST", r"/security-group-rules$"),
    ("before a router interface", "network", "PUT", r"/add_router_interface$"),
    ("before a role assignment", "identity", "PUT", r"/v3/projects/[0-9a-f]+/users/.*/roles/"),
]


def _start_apply(world: TenantWorld, cloud: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dcctl",
            "--cloud",
            cloud,
            "tenant",
            "apply",
            "--all",
            "--yes",
            "--site",
            str(world.site.path),
            "--lock-lease",
            "3",
        ],
        env={**os.environ, **world.env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize(
    ("point", "label", "method", "path"), KILL_POINTS, ids=[k[0] for k in KILL_POINTS]
)
def test_kill_at_unsafe_point_then_rerun_converges(
    world: TenantWorld, tmp_path: Path, point: str, label: str, method: str, path: str
) -> None:
    code = world.site.codes[0]
    with proxied_cloud(world.conn, world.entry, tmp_path) as cloud:
        freeze = cloud.proxy.add_fault(
            Fault(Hold(30), label=label, methods=method, path=path, times=1)
        )
        process = _start_apply(world, cloud.cloud, cloud.env)
        try:
            assert freeze.arrived.wait(120), f"never reached: {point}"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        cloud.proxy.clear_faults()
    assert process.returncode == -signal.SIGKILL

    time.sleep(3.5)  # the dead holder's lock lease runs out
    rerun = world.tenant("apply", "--all", "--yes", "--wait", "30")
    assert rerun.code == 0, rerun.stdout + rerun.stderr
    again = world.tenant("plan", "--all")
    assert again.code == 0, again.stdout
    assert_clean(world.apis, code)


@pytest.mark.parametrize("delay", [0.6, 1.5, 2.5, 4.0])
def test_kill_at_arbitrary_moments(world: TenantWorld, delay: float) -> None:
    process = _start_apply(world, world.cloud, {})
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    time.sleep(3.5)
    rerun = world.tenant("apply", "--all", "--yes", "--wait", "30")
    assert rerun.code == 0, rerun.stdout + rerun.stderr
    assert world.tenant("plan", "--all").code == 0
    assert_clean(world.apis, world.site.codes[0])
