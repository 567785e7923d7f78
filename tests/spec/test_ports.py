"""Which sensitive ports a rule's protocol and port range reach."""

from __future__ import annotations

import pytest

from dcctl.spec.ports import ADMIN_PORTS, DATABASE_PORTS, covered

pytestmark = pytest.mark.unit


def _labels(protocol: str | None, low: int | None, high: int | None) -> set[str]:
    return {port.label for port in covered(protocol, low, high)}


def test_a_range_covers_every_port_inside_it() -> None:
    assert _labels("tcp", 20, 30) == {"22 (SSH)", "23 (Telnet)"}
    assert _labels("tcp", 5986, 5986) == {"5985-5986 (WinRM)", "5900-5999 (VNC)"}
    assert _labels("tcp", 443, 443) == set()


def test_protocol_any_or_missing_ports_cover_everything() -> None:
    everything = {port.label for port in (*ADMIN_PORTS, *DATABASE_PORTS)}
    assert _labels(None, None, None) == everything
    assert _labels("tcp", None, None) == everything


def test_udp_reaches_only_udp_services_and_icmp_none() -> None:
    assert _labels("udp", 1, 65535) == {"3389 (RDP)", "11211 (Memcached)"}
    assert _labels("icmp", None, None) == set()


def test_the_required_ports_are_in_the_data() -> None:
    admin = {(port.low, port.high) for port in ADMIN_PORTS}
    database = {port.low for port in DATABASE_PORTS}
    assert {(22, 22), (3389, 3389), (5985, 5986), (23, 23)} <= admin
    assert {3306, 5432, 1433, 1521, 27017, 6379, 9200, 5984} <= database
