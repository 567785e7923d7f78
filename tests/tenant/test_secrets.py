"""Initial passwords reach exactly one place: the 0600 delivery file (or the one --show-passwords).

Everything else an operator or an attacker with log access could read is searched for them:
dcctl's output at debug verbosity, its JSON output, the audit log, dcctl's state directory, and
every log of the sandbox's OpenStack services, which the session fixture runs at debug level.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from tests.tenant.conftest import TenantWorld

pytestmark = pytest.mark.integration


def _delivered(state: Path) -> tuple[Path, dict[str, str]]:
    files = list((state / "credentials").glob("initial-passwords-*.txt"))
    assert len(files) == 1, files
    found: dict[str, str] = {}
    for line in files[0].read_text().splitlines():
        if line and not line.startswith("#"):
            _, user, password = line.split("\t")
            found[user] = password
    return files[0], found


def _log_tails(logs: Path, offsets: dict[Path, int]) -> dict[Path, str]:
    """What each service log gained since ``offsets`` (new logs in full)."""
    tails: dict[Path, str] = {}
    for path in sorted(logs.glob("*.log")):
        with path.open("rb") as handle:
            handle.seek(offsets.get(path, 0))
            tails[path] = handle.read().decode("utf-8", "replace")
    return tails


def test_initial_passwords_appear_only_in_the_delivery_file(
    world: TenantWorld, sandbox: Any
) -> None:
    logs = Path(sandbox.state_dir) / "logs"
    offsets = {path: path.stat().st_size for path in logs.glob("*.log")}
    code = world.site.codes[0]

    outputs = [
        world.dcctl("-vv", "tenant", "apply", "--all", "--yes", "--site", str(world.site.path)),
        world.dcctl("-vv", "tenant", "plan", "--all", "--site", str(world.site.path)),
        world.tenant("plan", "--all", "--output", "json"),
        world.tenant("show", code, "--output", "json"),
        world.dcctl("-vv", "tenant", "suspend", code, "--site", str(world.site.path)),
        world.dcctl("-vv", "tenant", "resume", code, "--site", str(world.site.path)),
    ]
    assert outputs[0].code == 0, outputs[0].stderr
    assert [result.code for result in outputs[1:]] == [0, 0, 0, 0, 0], [
        result.stderr for result in outputs
    ]

    delivery, passwords = _delivered(world.state)
    assert set(passwords) == {f"{code}.user{n}" for n in range(3)}
    assert stat.S_IMODE(delivery.stat().st_mode) == 0o600
    assert str(delivery) in outputs[0].stdout + outputs[0].stderr  # the operator is told where
    # -vv really logged the HTTP traffic, so the search below covers request logging.
    assert "POST" in outputs[0].stderr

    tails = _log_tails(logs, offsets)
    keystone = tails[logs / "keystone.log"]
    assert " DEBUG " in keystone and "/v3/users" in keystone  # the services log at debug level

    haystacks: dict[str, str] = {}
    for index, result in enumerate(outputs):
        haystacks[f"command {index} stdout"] = result.stdout
        haystacks[f"command {index} stderr"] = result.stderr
    haystacks["audit log"] = "\n".join(world.audit_lines())
    assert haystacks["audit log"], "the apply wrote no audit lines"
    for path in world.state.rglob("*"):
        if path.is_file() and path != delivery:
            haystacks[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    for path, text in tails.items():
        haystacks[str(path)] = text

    leaks = [
        (where, user)
        for user, password in passwords.items()
        for where, text in haystacks.items()
        if password in text
    ]
    assert leaks == []
