"""``dcctl sandbox`` as an operator runs it, on a sandbox that does not exist (no services)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcctl.errors import ExitCode
from tests.support.cli import run_dcctl

pytestmark = pytest.mark.unit


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DCCTL_STATE_DIR": str(tmp_path / "state"), "DCCTL_CACHE_DIR": str(tmp_path / "c")}


@pytest.mark.parametrize("command", ["up", "down", "status", "env", "logs", "reset"])
def test_every_subcommand_has_help(command: str) -> None:
    result = run_dcctl("sandbox", command, "--help")
    assert result.code == 0, result.stderr
    assert "--name" in result.stdout


def test_status_of_a_sandbox_that_never_ran(env: dict[str, str]) -> None:
    result = run_dcctl("sandbox", "status", "--name", "ghost", "--output", "json", env=env)
    assert result.code == ExitCode.UNAVAILABLE
    assert result.json()["exists"] is False
    assert result.json()["running"] is False


def test_env_of_a_sandbox_that_never_ran_says_what_to_do(env: dict[str, str]) -> None:
    result = run_dcctl("sandbox", "env", "--name", "ghost", env=env)
    assert result.code == ExitCode.USAGE
    assert "dcctl sandbox up --name ghost" in result.stderr


def test_reset_without_a_terminal_needs_the_flag(env: dict[str, str]) -> None:
    result = run_dcctl("sandbox", "reset", "--name", "ghost", env=env)
    assert result.code == ExitCode.ERROR
    assert "--yes-wipe" in result.stderr


def test_an_invalid_name_is_a_usage_error(env: dict[str, str]) -> None:
    result = run_dcctl("sandbox", "status", "--name", "Not_Valid", env=env)
    assert result.code == ExitCode.USAGE


def test_logs_of_an_unknown_service(env: dict[str, str]) -> None:
    result = run_dcctl("sandbox", "logs", "--name", "ghost", "nova-xyz", env=env)
    assert result.code == ExitCode.USAGE
    assert "nova-compute" in result.stderr  # the hint lists the valid names
