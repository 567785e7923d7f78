"""Which backup is an agency's final backup, and which one a re-run reuses (pure)."""

from __future__ import annotations

import pytest

from dcctl.tenant.final_backups import choose, is_final_backup_of, marker, summary

pytestmark = pytest.mark.unit


def test_marker_names_agency_and_volume() -> None:
    assert marker("soyte", "v1") == "dcctl-final-soyte-v1"


def test_final_backup_is_recognised_by_name_or_metadata() -> None:
    assert is_final_backup_of({"name": "dcctl-final-soyte-v1", "volume_id": "v1"}, "soyte")
    assert is_final_backup_of(
        {
            "name": "renamed",
            "volume_id": "v1",
            "metadata": {"dcctl_final": "true", "dcctl_agency": "soyte"},
        },
        "soyte",
    )
    # A code that is a prefix of another code never matches the other's backups.
    assert not is_final_backup_of({"name": "dcctl-final-soyte-x-v1", "volume_id": "v1"}, "soyte")
    assert not is_final_backup_of({"name": "dcctl-final-soyte-v1", "volume_id": "v2"}, "soyte")
    assert not is_final_backup_of({"name": "nightly", "volume_id": "v1"}, "soyte")


def test_reuse_prefers_an_available_backup_and_ignores_failed_ones() -> None:
    existing = [
        {"id": "failed", "volume_id": "v1", "status": "error", "created_at": "1"},
        {"id": "making", "volume_id": "v1", "status": "creating", "created_at": "3"},
        {"id": "done", "volume_id": "v1", "status": "available", "created_at": "2"},
        {"id": "other", "volume_id": "v2", "status": "available", "created_at": "0"},
    ]
    assert choose(existing, "v1")["id"] == "done"  # type: ignore[index]
    assert choose(existing[:2], "v1")["id"] == "making"  # type: ignore[index]
    assert choose(existing[:1], "v1") is None
    assert choose(existing, "v3") is None


def test_summary_keeps_what_a_restore_needs() -> None:
    backup = {
        "id": "b1",
        "name": "dcctl-final-soyte-v1",
        "status": "available",
        "volume_id": "v1",
        "size": 1,
        "object_count": 3,
        "os-backup-project-attr:project_id": "admin",
        "container": "b1/c",
        "created_at": "t",
    }
    assert summary(backup, {"name": "data"}) == {
        "id": "b1",
        "name": "dcctl-final-soyte-v1",
        "status": "available",
        "volume_id": "v1",
        "volume_name": "data",
        "size_gb": 1,
        "object_count": 3,
        "project_id": "admin",
        "container": "b1/c",
        "created_at": "t",
    }
