from __future__ import annotations

import pytest

from dcctl.errors import UsageError
from dcctl.sandbox.ports import DEFAULT_PORT_BASE, OFFSETS, PORT_SPAN, PortLayout

pytestmark = pytest.mark.unit


def test_default_layout_matches_the_documented_ports() -> None:
    layout = PortLayout()
    assert layout.base == DEFAULT_PORT_BASE == 15000
    assert layout.port("keystone") == 15000
    assert layout.port("glance") == 15001
    assert layout.port("placement") == 15002
    assert layout.port("nova-api") == 15003
    assert layout.port("neutron") == 15004
    assert layout.port("cinder-api") == 15005
    assert layout.url("keystone") == "http://127.0.0.1:15000"


def test_every_offset_is_unique_and_inside_the_span() -> None:
    assert len(set(OFFSETS.values())) == len(OFFSETS)
    assert all(0 <= offset < PORT_SPAN for offset in OFFSETS.values())


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [(15000, 16000, False), (15000, 15019, True), (15000, 15020, False), (16000, 15990, True)],
)
def test_overlap(a: int, b: int, overlap: bool) -> None:
    assert PortLayout(a).overlaps(PortLayout(b)) is overlap
    assert PortLayout(b).overlaps(PortLayout(a)) is overlap


@pytest.mark.parametrize("base", [80, 0, 65530])
def test_out_of_range_bases_are_refused(base: int) -> None:
    with pytest.raises(UsageError):
        PortLayout(base)
