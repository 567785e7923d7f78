"""``dcctl spec validate``: exit codes 0/65, text lines and JSON problems."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dcctl.cli.main import run
from dcctl.errors import ExitCode
from tests.spec.data import GOOD_SITE, SHIPPED_INVENTORY
from tests.spec.patching import build_site

pytestmark = pytest.mark.unit

ROOT = SHIPPED_INVENTORY.parent


@pytest.fixture
def bad_site(tmp_path: Path) -> Path:
    return build_site(
        GOOD_SITE,
        tmp_path / "site",
        [
            {"file": "agencies/alpha.yaml", "text_replace": "level: 2\n", "value": "level: 7\n"},
            {"file": "agencies/beta.yaml", "text_replace": "10.2.1.0/24", "value": "10.2.0.0/25"},
        ],
    )


def test_valid_site_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["spec", "validate", str(GOOD_SITE)]) == ExitCode.OK
    assert "valid (2 agencies)" in capsys.readouterr().out


def test_invalid_site_lists_problems_and_exits_65(
    bad_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["spec", "validate", str(bad_site)]) == ExitCode.DATA
    out, err = capsys.readouterr()
    assert f"{bad_site}/agencies/alpha.yaml:15: security_level: security level" in out
    assert f"{bad_site}/agencies/beta.yaml:23: networks[1].cidr: 10.2.0.0/25 overlaps" in out
    assert "2 problems" in err


def test_json_output_lists_problem_objects(
    bad_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["--output", "json", "spec", "validate", str(bad_site)]) == ExitCode.DATA
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    assert report["problems"][0] == {
        "file": f"{bad_site}/agencies/alpha.yaml",
        "line": 15,
        "path": "security_level",
        "reason": "security level (cấp độ) must be 1-5 (Decree 85/2016), got 7",
        "kind": "out_of_range",
    }
    assert {tuple(sorted(p)) for p in report["problems"]} == {
        ("file", "kind", "line", "path", "reason")
    }


def test_as_of_judges_waivers_on_that_day(tmp_path: Path) -> None:
    waived = {
        "protocol": "tcp",
        "port_range": 22,
        "remote_ip_prefix": "0.0.0.0/0",
        "waiver": {"reason": "vendor", "approved_by": "Giám đốc", "expires": "2026-06-30"},
    }
    site = build_site(
        GOOD_SITE,
        tmp_path / "site",
        [{"file": "agencies/alpha.yaml", "append": "security_groups[0].rules", "value": waived}],
    )
    assert run(["spec", "validate", "--as-of", "2026-06-30", str(site)]) == ExitCode.OK
    assert run(["spec", "validate", "--as-of", "2026-07-01", str(site)]) == ExitCode.DATA


def test_the_installed_command_validates_the_shipped_inventory_by_default() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "dcctl", "-o", "json", "spec", "validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["sites"][0]["name"] == "quangngai"


def test_a_path_without_sites_exits_65(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["spec", "validate", str(tmp_path)]) == ExitCode.DATA
    assert "no site found" in capsys.readouterr().out
