from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dcctl.sandbox import clouds
from dcctl.sandbox.settings import SandboxSettings

pytestmark = pytest.mark.unit


def test_clouds_file_has_one_private_entry_named_after_the_sandbox(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    clouds.write_clouds_file(path, SandboxSettings(name="dcctl-test", port_base=16000), "pw")
    assert path.stat().st_mode & 0o777 == 0o600
    document = yaml.safe_load(path.read_text())
    entry = document["clouds"]["dcctl-test"]
    assert list(document["clouds"]) == ["dcctl-test"]
    assert entry["auth"]["auth_url"] == "http://127.0.0.1:16000/v3"
    assert entry["auth"]["username"] == "admin"


def test_env_exports_are_shell_quoted(tmp_path: Path) -> None:
    env = clouds.environment(tmp_path / "a b" / "clouds.yaml", SandboxSettings())
    lines = clouds.export_lines(env)
    assert lines[0] == f"export OS_CLIENT_CONFIG_FILE='{tmp_path}/a b/clouds.yaml'"
    assert lines[1] == "export OS_CLOUD=sandbox"
