"""playbooks/tenant.yml with the real ansible-playbook against the real sandbox: check mode is the
plan and writes nothing, a run converges (and `dcctl tenant plan` agrees), a second run changes
nothing, and dcctl's errors (invalid spec, lock busy) fail the task with dcctl's words."""

from __future__ import annotations

import stat

import pytest

from dcctl.cloud.lock import CloudLock
from tests.playbooks.conftest import run_playbook
from tests.tenant.conftest import TenantWorld

pytestmark = pytest.mark.integration


def _users(world: TenantWorld, code: str) -> list[str]:
    found = world.apis.identity.list_all("/users", "users")
    return sorted(user["name"] for user in found if user.get("dcctl_agency") == code)


def _cores(world: TenantWorld, code: str) -> int:
    project = world.project(code)
    assert project is not None
    return int(world.apis.compute.get(f"/os-quota-sets/{project['id']}")["quota_set"]["cores"])


def test_check_apply_idempotent_plan_and_lock(world: TenantWorld) -> None:
    code = world.site.codes[0]

    # --check --diff: the plan, as a diff; nothing reaches the cloud.
    check = run_playbook(world, "--check", "--diff")
    assert check.code == 0, check.output
    assert check.recap == {"ok": 1, "changed": 1, "unreachable": 0, "failed": 0}
    assert f"+++ after: {code} in site quangngai" in check.stdout
    assert f"+project {code}:" in check.stdout
    assert "+security_group_rule web ingress IPv4 tcp 443 from any:" in check.stdout
    assert world.project(code) is None
    assert _users(world, code) == []
    assert world.audit_lines() == []
    assert not (world.state / "credentials").exists()

    # A real run creates the tenant; dcctl's own plan then has nothing left to do.
    applied = run_playbook(world, "-v")
    assert applied.code == 0, applied.output
    assert applied.recap["changed"] == 1 and applied.recap["failed"] == 0
    project = world.project(code)
    assert project is not None and f"dcctl:agency={code}" in project["tags"]
    assert _users(world, code) == [f"{code}.user{n}" for n in range(3)]
    plan = world.tenant("plan", "--all")
    assert plan.code == 0, plan.stdout + plan.stderr  # 0 = no changes
    assert world.audit_lines(), "the module's changes are audited like the CLI's"

    # Initial passwords: in the 0600 file the result names, never in the output (-v shows the
    # whole module result).
    files = list((world.state / "credentials").glob("initial-passwords-*.txt"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert f'"initial_passwords_file": "{files[0]}"' in applied.stdout
    for n in range(3):
        assert f'"user": "{code}.user{n}"' in applied.stdout
    passwords = [line.split("\t")[2] for line in files[0].read_text().splitlines() if "\t" in line]
    assert len(passwords) == 3
    for password in passwords:
        assert password not in applied.output

    # Idempotent: the second run changes nothing.
    again = run_playbook(world)
    assert again.code == 0, again.output
    assert again.recap == {"ok": 1, "changed": 0, "unreachable": 0, "failed": 0}

    # An edit: --tags plan prints the plan only.
    doc = world.site.read(code)
    doc["quota"] = {"overrides": {"compute": {"cores": 6}}}
    world.site.write(code, doc)
    planned = run_playbook(world, "--tags", "plan")
    assert planned.code == 0, planned.output
    assert "~ quota compute" in planned.stdout and "cores: 4 → 6" in planned.stdout
    assert planned.recap["changed"] == 1  # would change
    assert _cores(world, code) == 4

    # Someone else holds the agency's lock: the task fails with dcctl's message and hint.
    domain = world.apis.identity.list_all("/domains", "domains", name="quangngai")[0]
    with CloudLock(world.conn, domain_id=domain["id"], key=f"quangngai.{code}", lease_s=60):
        busy = run_playbook(world)
    assert busy.code == 2, busy.output
    assert busy.recap["failed"] == 1
    assert f"{code}: quangngai.{code} is locked by" in busy.stdout
    assert "wait for that operation to finish" in busy.stdout
    assert _cores(world, code) == 4


def test_invalid_spec_fails_with_file_field_and_reason(world: TenantWorld) -> None:
    code = world.site.codes[0]
    world.site.edit(code, security_level=9)
    failed = run_playbook(world)
    assert failed.code == 2, failed.output
    assert failed.recap["failed"] == 1
    fatal = next(line for line in failed.stdout.splitlines() if line.startswith("fatal:"))
    assert f"{world.site.agency_file(code)}:" in fatal
    assert "security_level: security level (cấp độ) must be 1-5" in fatal
    assert '"error_kind": "SpecInvalid"' in fatal
    assert '"hint": ' in fatal
    assert world.project(code) is None
