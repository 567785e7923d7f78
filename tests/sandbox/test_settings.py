from __future__ import annotations

from pathlib import Path

import pytest

from dcctl.errors import DataError, UsageError
from dcctl.sandbox.settings import (
    DATABASES,
    SandboxPaths,
    SandboxSettings,
    known_sandboxes,
    load_settings,
    save_settings,
)

pytestmark = pytest.mark.unit


def test_names_derive_from_the_sandbox_name() -> None:
    settings = SandboxSettings(name="dcctl-test", port_base=16000)
    assert settings.db_prefix == "dcctl_dcctl_test"
    assert settings.db_user == "dcctl_dcctl_test"
    assert settings.database("nova_cell0") == "dcctl_dcctl_test_nova_cell0"
    assert settings.rabbit_vhost == settings.rabbit_user == "dcctl-dcctl-test"
    assert settings.cloud_name == "dcctl-test"
    assert set(settings.databases) == set(DATABASES)


def test_two_sandboxes_share_no_database_user_or_vhost() -> None:
    a, b = SandboxSettings(name="sandbox"), SandboxSettings(name="dcctl-test", port_base=16000)
    assert not set(a.databases.values()) & set(b.databases.values())
    assert a.db_user != b.db_user
    assert a.rabbit_vhost != b.rabbit_vhost


def test_nova_cell0_follows_novas_own_naming_rule() -> None:
    # nova-manage map_cell0 derives the cell0 database by appending _cell0 to the cell's.
    settings = SandboxSettings()
    assert settings.database("nova_cell0") == settings.database("nova") + "_cell0"


@pytest.mark.parametrize("name", ["", "Sandbox", "9lives", "a_b", "x" * 25, "has space"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError):
        SandboxSettings(name=name)


def test_settings_round_trip_and_listing(tmp_path: Path) -> None:
    for name, base in (("sandbox", 15000), ("dcctl-test", 16000)):
        save_settings(SandboxPaths.for_name(name, tmp_path), SandboxSettings(name, base, False))
    paths = SandboxPaths.for_name("dcctl-test", tmp_path)
    assert load_settings(paths) == SandboxSettings("dcctl-test", 16000, False)
    assert [s.name for s in known_sandboxes(tmp_path)] == ["dcctl-test", "sandbox"]
    assert load_settings(SandboxPaths.for_name("other", tmp_path)) is None


def test_a_broken_settings_file_is_a_data_error(tmp_path: Path) -> None:
    paths = SandboxPaths.for_name("sandbox", tmp_path)
    paths.root.mkdir(parents=True)
    paths.settings_file.write_text('{"name": "sandbox"}')
    with pytest.raises(DataError):
        load_settings(paths)


@pytest.mark.parametrize("workers", [0, 9])
def test_api_workers_out_of_range_are_refused(workers: int) -> None:
    with pytest.raises(UsageError, match="api_workers"):
        SandboxSettings(api_workers=workers)


def test_api_workers_are_kept(tmp_path: Path) -> None:
    paths = SandboxPaths.for_name("sandbox", tmp_path)
    save_settings(paths, SandboxSettings(api_workers=2))
    assert load_settings(paths) == SandboxSettings(api_workers=2)
