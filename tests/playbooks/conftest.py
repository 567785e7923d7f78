"""Fixtures for the playbook tests: the tenant tests' generated site on the real sandbox, and a
runner for the real ``ansible-playbook``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.sites import REPO
from tests.tenant.conftest import TenantWorld, world

__all__ = ["PLAYBOOK", "Run", "ansible_tool", "run_playbook", "world"]

PLAYBOOK = REPO / "playbooks" / "tenant.yml"
LIBRARY = REPO / "playbooks" / "library"
_RECAP = re.compile(
    r"^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def ansible_tool(name: str) -> str:
    """``ansible-playbook`` / ``ansible-doc`` of the venv that runs the tests (dcctl's own)."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} not found next to {sys.executable} nor on PATH"
    return found


def ansible_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without its Ansible settings: default callback, JSON results,
    no colours, no ansible.cfg of the caller's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def recap(self) -> dict[str, int]:
        """PLAY RECAP of localhost: ok, changed, unreachable, failed."""
        found = _RECAP.findall(self.stdout)
        assert len(found) == 1, f"expected one PLAY RECAP line for localhost:\n{self.output}"
        ok, changed, unreachable, failed = (int(value) for value in found[0])
        return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}


def run_playbook(world: TenantWorld, *args: str, timeout: float = 600) -> Run:
    """``ansible-playbook playbooks/tenant.yml`` from the repository root, as docs/playbooks.md
    says, on the world's site and cloud."""
    completed = subprocess.run(
        [
            ansible_tool("ansible-playbook"),
            str(PLAYBOOK.relative_to(REPO)),
            "-e",
            f"dcctl_site={world.site.path}",
            "-e",
            f"dcctl_cloud={world.cloud}",
            *args,
        ],
        cwd=REPO,
        env=ansible_env(world.env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)
