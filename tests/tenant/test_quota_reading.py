"""Reading quotas: both answer shapes of nova and cinder, and when a spec limit lowers one (the
only case in which dcctl pays for reading usage)."""

from __future__ import annotations

import pytest

from dcctl.tenant.snapshot import _lowers, _quota_values

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("current", "wanted", "lowers"),
    [
        (10, 10, False),
        (10, 20, False),
        (10, 4, True),
        (-1, 4, True),  # unlimited → a limit
        (4, -1, False),  # a limit → unlimited
        (-1, -1, False),
        (None, 4, True),  # not reported: check against usage to be safe
        (0, 0, False),
    ],
)
def test_lowers(current: int | None, wanted: int, lowers: bool) -> None:
    assert _lowers(current, wanted) is lowers


def test_quota_values_takes_both_shapes() -> None:
    plain = {"id": "p1", "cores": 20, "ram": 51200, "volumes_lvm": -1, "flag": True}
    detailed = {"id": "p1", "cores": {"limit": 20, "in_use": 3, "reserved": 0}}
    assert _quota_values(plain) == {
        "cores": {"limit": 20},
        "ram": {"limit": 51200},
        "volumes_lvm": {"limit": -1},
    }
    assert _quota_values(detailed) == {"cores": {"limit": 20, "in_use": 3, "reserved": 0}}
