from __future__ import annotations

from pathlib import Path

import pytest

from dcctl.sandbox import credentials

pytestmark = pytest.mark.unit


def test_secrets_file_is_private_complete_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = credentials.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert set(credentials.KEYS) <= set(first.values)
    assert credentials.load_or_create(path).values == first.values


def test_secrets_never_show_in_repr(tmp_path: Path) -> None:
    secrets = credentials.load_or_create(tmp_path / "secrets.json")
    assert secrets["admin"] not in repr(secrets)


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    credentials.load_or_create(path)
    path.chmod(0o644)
    credentials.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
