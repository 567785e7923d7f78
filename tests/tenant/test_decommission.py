"""``tenant delete``: two phases, nothing holding data deleted without --purge, final backups
taken and kept, dependency order, and an interrupted (kill -9) delete finished by a re-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dcctl.cloud.rest import Rest
from dcctl.tenant import removal
from dcctl.tenant.decommission import DeletePreview, HoldsData, NotSuspended
from dcctl.tenant.removal import Step
from tests.support.cloudproxy import proxied_cloud
from tests.support.faultproxy import Fault, Hold
from tests.tenant.conftest import TenantWorld
from tests.tenant.workload import agency_user, final_backups, make_workload, remove_workload


@pytest.fixture
def tenant(world: TenantWorld) -> Iterator[TenantWorld]:
    """The world, with whatever the test made inside the agency removed afterwards."""
    yield world
    for code in world.site.codes:
        remove_workload(world, code)


def _preview(**changes: Any) -> DeletePreview:
    base: dict[str, Any] = {
        "code": "soyte",
        "name": "Sở Y tế",
        "project_id": "p1",
        "project_exists": True,
        "suspended": True,
        "steps": [Step("network", "n1", "net"), Step("project", "p1", "soyte")],
    }
    return DeletePreview(**{**base, **changes})


@pytest.mark.unit
def test_refusals() -> None:
    assert isinstance(_preview(suspended=False).refusal(purge=True), NotSuspended)
    assert "suspend it first: dcctl tenant suspend soyte" in str(
        _preview(suspended=False).refusal(purge=True)
    )
    data = _preview(steps=[Step("volume", "v1", "data", size_gb=1), Step("project", "p1", "x")])
    refusal = data.refusal(purge=False)
    assert isinstance(refusal, HoldsData)
    assert "1 volume (1 GiB)" in refusal.message and "--purge" in (refusal.hint or "")
    assert data.refusal(purge=True) is None
    assert _preview().refusal(purge=False) is None  # no data: no --purge needed
    # The project is gone (an interrupted run): nothing to check any more.
    assert _preview(project_exists=False, suspended=False).refusal(purge=True) is None


def _project_state(world: TenantWorld, pid: str) -> dict[str, int]:
    apis = world.apis
    volume_api = Rest(world.conn.block_storage, microversion="3.50")
    return {
        "servers": len(
            apis.compute.list_all("/servers/detail", "servers", all_tenants=1, project_id=pid)
        ),
        "volumes": len(
            [
                v
                for v in volume_api.list_all(
                    "/volumes/detail", "volumes", all_tenants=1, project_id=pid
                )
                if v.get("os-vol-tenant-attr:tenant_id") == pid
            ]
        ),
        "snapshots": len(
            volume_api.list_all("/snapshots/detail", "snapshots", all_tenants=1, project_id=pid)
        ),
        "networks": len(apis.network.list_all("/networks", "networks", project_id=pid)),
        "ports": len(apis.network.list_all("/ports", "ports", project_id=pid)),
        "routers": len(apis.network.list_all("/routers", "routers", project_id=pid)),
        "security_groups": len(
            [
                g
                for g in apis.network.list_all("/security-groups", "security_groups")
                if g["project_id"] == pid
            ]
        ),
    }


def _records(world: TenantWorld) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text())
        for path in sorted((world.state / "decommissions").glob("*.json"))
    ]


@pytest.mark.integration
def test_delete_a_tenant_that_holds_data(tenant: TenantWorld) -> None:
    world = tenant
    code = world.site.codes[0]
    assert world.tenant("apply", code, "--yes").code == 0
    work = make_workload(agency_user(world, code).connect(), code)
    pid = world.project(code)["id"]
    before = _project_state(world, pid)
    assert before["servers"] == 1 and before["volumes"] == 1 and before["snapshots"] == 1

    refused = world.tenant("delete", code, "--purge", "--yes")
    assert refused.code == 1
    assert f"suspend it first: dcctl tenant suspend {code}" in refused.stderr
    assert world.tenant("suspend", code).code == 0

    dry = world.tenant("delete", code, "--dry-run", "--output", "json")
    assert dry.code == 0, dry.stderr
    shown = dry.json()
    assert shown["holds_data"] == ["1 server", "1 snapshot (1 GiB)", "1 volume (1 GiB)"]
    assert [(b["volume_id"], b["in_use"], b["backup_id"]) for b in shown["final_backups"]] == [
        (work.volume_id, True, None)
    ]
    kinds_shown = [step["kind"] for step in shown["remove"]]
    assert kinds_shown == sorted(kinds_shown, key=removal.ORDER.index)
    assert {"server", "volume", "snapshot", "router", "network", "user", "project"} <= set(
        kinds_shown
    )
    text = world.tenant("delete", code, "--dry-run")
    assert text.code == 0 and f"server {code}-vm" in text.stdout
    assert _project_state(world, pid) == before and not final_backups(world.apis, code)

    no_purge = world.tenant("delete", code, "--yes")
    assert no_purge.code == 1
    assert "holds data: 1 server, 1 snapshot (1 GiB), 1 volume (1 GiB)" in no_purge.stderr
    assert "--purge" in no_purge.stderr
    unconfirmed = world.tenant("delete", code, "--purge")  # stdin is not a terminal
    assert unconfirmed.code == 1 and "confirmation needed" in unconfirmed.stderr
    assert _project_state(world, pid) == before and not final_backups(world.apis, code)
    assert not (world.state / "decommissions").exists()

    started = time.monotonic()
    deleted = world.tenant("delete", code, "--purge", "--yes", "--output", "json")
    assert deleted.code == 0, deleted.stderr
    elapsed = time.monotonic() - started
    result = deleted.json()
    removed = [step["kind"] for step in result["removed"]]
    assert removed == sorted(removed, key=removal.ORDER.index)  # dependency order
    assert removed[0] == "server" and removed[-1] == "project"

    # Gone: the project, its users and groups, and everything it held.
    assert world.project(code) is None
    assert not [
        u for u in world.apis.identity.list_all("/users", "users") if u.get("dcctl_agency") == code
    ]
    assert set(_project_state(world, pid).values()) == {0}

    # Kept: exactly one final backup of the volume, with its data.
    (backup,) = final_backups(world.apis, code)
    assert backup["volume_id"] == work.volume_id
    assert backup["status"] == "available" and backup["size"] == 1
    assert backup["object_count"] > 0
    (record,) = _records(world)
    assert record["status"] == "completed" and record["project"]["id"] == pid
    assert [b["id"] for b in record["final_backups"]] == [backup["id"]]
    assert record["final_backups"][0]["volume_name"] == f"{code}-data"
    assert result["record"] == str(next((world.state / "decommissions").glob("*.json")))
    audit = [json.loads(line) for line in world.audit_lines()]
    assert [r["detail"]["id"] for r in audit if r["action"] == "backup"] == [backup["id"]]
    assert any(r["action"] == "decommission" for r in audit)

    # Nothing of the agency is an orphan, and the kept backup is not counted.
    scan = world.tenant("orphans", "--output", "json")
    assert scan.code in (0, 2), scan.stderr
    mine = [
        f
        for f in scan.json()["findings"]
        if f["project_id"] == pid or f["agency"] == code or code in f["name"]
    ]
    assert mine == []

    again = world.tenant("delete", code, "--purge", "--yes")
    assert again.code == 0 and "nothing of this agency is left" in again.stdout
    listed = {r["code"]: r for r in world.tenant("list", "--output", "json").json()["agencies"]}
    assert listed[code]["status"] == "not created"
    print(f"delete --purge took {elapsed:.1f} s")


def _delete_via(world: TenantWorld, cloud: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dcctl",
            "--cloud",
            cloud,
            "tenant",
            "delete",
            world.site.codes[0],
            "--purge",
            "--yes",
            "--lock-lease",
            "3",
            "--wait",
            "30",
            "--site",
            str(world.site.path),
        ],
        env={**os.environ, **world.env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _kill_at(world: TenantWorld, tmp: Path, method: str, path: str) -> str:
    """Run delete through the fault proxy and kill -9 it when it sends that request."""
    tmp.mkdir(parents=True, exist_ok=True)
    with proxied_cloud(world.conn, world.entry, tmp) as cloud:
        freeze = cloud.proxy.add_fault(Fault(Hold(20), methods=method, path=path, times=1))
        process = _delete_via(world, cloud.cloud, cloud.env)
        try:
            assert freeze.arrived.wait(180), "the delete never got there"
        finally:
            process.send_signal(signal.SIGKILL)
            output = process.communicate(timeout=30)[0]
        cloud.proxy.clear_faults()
    assert process.returncode == -signal.SIGKILL, output
    time.sleep(3.5)  # the dead run's lock lease runs out
    return output


@pytest.mark.integration
def test_killed_delete_is_finished_by_a_rerun(tenant: TenantWorld, tmp_path: Path) -> None:
    world = tenant
    code = world.site.codes[0]
    assert world.tenant("apply", code, "--yes").code == 0
    work = make_workload(agency_user(world, code).connect(), code, server=False)
    pid = world.project(code)["id"]
    assert world.tenant("suspend", code).code == 0

    # 1. Killed once the final backup is created, while the run waits for it.
    first = _kill_at(world, tmp_path / "one", "GET", r"/backups/[-0-9a-f]{36}$")
    (started,) = final_backups(world.apis, code)
    assert f"backup {started['id']} started" in first
    assert world.project(code) is not None  # nothing deleted yet

    # 2. Killed half-way through the deletions (the subnet, after router and ports).
    second = _kill_at(world, tmp_path / "two", "DELETE", r"/subnets/[-0-9a-f]+$")
    assert f"final backup {started['id']} already" in second  # found by its marker
    assert world.project(code) is not None
    assert not world.apis.network.list_all("/routers", "routers", project_id=pid)

    # 3. The same command again finishes the job.
    rerun = world.tenant("delete", code, "--purge", "--yes", "--wait", "30", "--output", "json")
    assert rerun.code == 0, rerun.stdout + rerun.stderr
    assert world.project(code) is None
    assert set(_project_state(world, pid).values()) == {0}
    backups = final_backups(world.apis, code)
    assert [b["id"] for b in backups] == [started["id"]]  # reused, never taken twice
    assert backups[0]["status"] == "available" and backups[0]["volume_id"] == work.volume_id
    (record,) = _records(world)  # the interrupted record was continued, not duplicated
    assert record["status"] == "completed"
    assert [b["id"] for b in record["final_backups"]] == [started["id"]]
