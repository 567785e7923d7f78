"""`dcctl doctor` against the real sandbox: a clean bill, a reader's rights, a wrong password."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcctl.sandbox.bootstrap import exempt_from_first_use
from tests.support.cli import run_dcctl, write_clouds_yaml

pytestmark = pytest.mark.integration


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def _entry(sandbox: Any) -> dict[str, Any]:
    entry = yaml.safe_load(Path(sandbox.clouds_file).read_text())["clouds"][sandbox.cloud]
    assert isinstance(entry, dict)
    return entry


def test_doctor_gives_the_sandbox_a_clean_bill(sandbox: Any, tmp_path: Path) -> None:
    env = {**sandbox.env, "DCCTL_STATE_DIR": str(tmp_path)}
    result = run_dcctl("--cloud", sandbox.cloud, "--output", "json", "doctor", env=env)
    assert result.code == 0, result.stdout + result.stderr
    report = result.json()
    assert report["ok"] is True
    statuses = _statuses(report)
    assert statuses.pop("tls") == "warn"  # plain HTTP on 127.0.0.1: a warning, not a failure
    assert set(statuses.values()) == {"pass"}, statuses
    for service in ("identity", "compute", "network", "volumev3", "image", "placement"):
        assert statuses[f"api {service}"] == "pass"
    assert "admin" in next(c["detail"] for c in report["checks"] if c["name"] == "rights")


@pytest.fixture
def reader_cloud(sandbox: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A clouds.yaml with a user that holds only the reader role on a fresh project."""
    conn = sandbox.connect()
    identity = conn.identity
    suffix = secrets.token_hex(3)
    password = secrets.token_urlsafe(16)
    project = identity.create_project(name=f"doctor-reader-{suffix}", domain_id="default")
    user = identity.create_user(
        name=f"doctor-reader-{suffix}", password=password, domain_id="default"
    )
    # The sandbox makes new users change their password first; a test user is exempt.
    exempt_from_first_use(identity, user.id, password)
    reader = identity.find_role("reader", ignore_missing=False)
    identity.assign_project_role_to_user(project, user, reader)
    entry = _entry(sandbox)
    auth = {
        **entry["auth"],
        "username": user.name,
        "password": password,
        "project_name": project.name,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    clouds = write_clouds_yaml(tmp_path / "clouds.yaml", {"reader": {**entry, "auth": auth}})
    try:
        yield {
            "OS_CLIENT_CONFIG_FILE": str(clouds),
            "DCCTL_STATE_DIR": str(tmp_path / "state"),
            "OS_CLOUD": "",
            "PASSWORD": password,
        }
    finally:
        identity.delete_user(user)
        identity.delete_project(project)


def test_doctor_tells_a_reader_from_an_admin(reader_cloud: dict[str, str]) -> None:
    password = reader_cloud.pop("PASSWORD")
    result = run_dcctl("--cloud", "reader", "--output", "json", "doctor", env=reader_cloud)
    report = result.json()
    rights = next(c for c in report["checks"] if c["name"] == "rights")
    assert "reader" in rights["detail"], rights
    assert "admin" not in rights["detail"].split("(")[0], rights
    assert _statuses(report)["auth"] == "pass"
    assert password not in result.stdout + result.stderr


def test_wrong_password_is_a_clear_error(sandbox: Any, tmp_path: Path) -> None:
    entry = _entry(sandbox)
    wrong = "not-the-password-" + secrets.token_hex(4)
    clouds = write_clouds_yaml(
        tmp_path / "clouds.yaml", {"wrong": {**entry, "auth": {**entry["auth"], "password": wrong}}}
    )
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds), "DCCTL_STATE_DIR": str(tmp_path), "OS_CLOUD": ""}
    result = run_dcctl("--cloud", "wrong", "doctor", env=env)
    assert result.code != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert wrong not in output
    json_result = run_dcctl("--cloud", "wrong", "--output", "json", "doctor", env=env)
    statuses = _statuses(json_result.json())
    assert statuses["auth"] == "fail"
    auth = next(c for c in json_result.json()["checks"] if c["name"] == "auth")
    assert "password" in (auth["detail"] + (auth["hint"] or "")).lower(), auth
