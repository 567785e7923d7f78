"""Doctor failures that need no cloud: missing selection, unreachable endpoint."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.support.cli import run_dcctl, write_clouds_yaml

pytestmark = pytest.mark.unit


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    clouds = write_clouds_yaml(
        tmp_path / "clouds.yaml",
        {
            "dead": {
                "auth": {
                    "auth_url": f"http://127.0.0.1:{_closed_port()}/v3",
                    "username": "admin",
                    "password": "s3cret-never-shown",
                    "project_name": "admin",
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
                "identity_api_version": 3,
            }
        },
    )
    return {
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "DCCTL_STATE_DIR": str(tmp_path / "state"),
        "OS_CLOUD": "",
    }


def test_dead_endpoint_is_a_clear_failure(isolated_env: dict[str, str]) -> None:
    result = run_dcctl("--cloud", "dead", "doctor", env=isolated_env, timeout=120)
    assert result.code == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "cannot reach the cloud" in result.stdout
    assert "dcctl sandbox status" in result.stdout  # the hint says what to do next
    assert "s3cret-never-shown" not in result.stdout + result.stderr


def test_dead_endpoint_json(isolated_env: dict[str, str]) -> None:
    result = run_dcctl("--cloud", "dead", "--output", "json", "doctor", env=isolated_env)
    assert result.code == 1
    report = result.json()
    assert report["ok"] is False
    statuses = {check["name"]: check["status"] for check in report["checks"]}
    assert statuses["config"] == "pass"
    assert statuses["auth"] == "fail"
    assert statuses["catalog"] == "skip"
    assert any(c["name"] == "tls" and c["status"] == "warn" for c in report["checks"])


def test_unknown_cloud_lists_known_ones(isolated_env: dict[str, str]) -> None:
    result = run_dcctl("--cloud", "nosuch", "doctor", env=isolated_env)
    assert result.code == 1
    assert "'nosuch' is not defined" in result.stdout
    assert "dead" in result.stdout


def test_no_cloud_selected(isolated_env: dict[str, str]) -> None:
    result = run_dcctl("doctor", env=isolated_env)
    assert result.code == 1
    assert "no cloud selected" in result.stdout
