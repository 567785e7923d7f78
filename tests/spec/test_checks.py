"""The registry of offline checks, waivers that are accepted, and hosts.yml groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcctl.spec import Kind, load_site
from dcctl.spec.checks import CHECKS
from dcctl.spec.hosts import parse_hosts
from tests.spec.data import GOOD_SITE, TODAY
from tests.spec.patching import build_site

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


def test_every_check_has_a_stable_id_and_a_title() -> None:
    assert len(CHECKS) >= 10
    for check_id, check in CHECKS.items():
        assert check.id == check_id
        assert check_id == check_id.lower()
        assert " " not in check_id
        assert check.title
    with pytest.raises(KeyError, match="known: "):
        CHECKS.get("no-such-check")


def test_every_kind_and_check_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for kind in Kind:
        assert f"`{kind.value}`" in text, kind
    for check_id in CHECKS:
        assert f"`{check_id}`" in text, check_id


@pytest.mark.parametrize("expires", ["2026-06-01", "2027-01-31"])
def test_a_current_waiver_accepts_an_open_admin_port(tmp_path: Path, expires: str) -> None:
    rule = {
        "protocol": "tcp",
        "port_range": 3389,
        "remote_ip_prefix": "0.0.0.0/0",
        "description": "Vendor remote support for the migration",
        "waiver": {
            "reason": "vendor support during migration",
            "approved_by": "Giám đốc Sở",
            "expires": expires,
            "ticket": "QN-2026-114",
        },
    }
    patch = [{"file": "agencies/alpha.yaml", "append": "security_groups[0].rules", "value": rule}]
    site = load_site(build_site(GOOD_SITE, tmp_path / "site", patch), today=TODAY)
    waiver = site.agency("alpha").security_groups[0].rules[2].waiver
    assert waiver is not None
    assert waiver.expires.isoformat() == expires


def test_hosts_of_a_group_include_its_children() -> None:
    inventory, problems = parse_hosts(
        {
            "all": {
                "children": {
                    "health": {
                        "hosts": {"his-db": {"ansible_host": "127.0.0.1"}},
                        "children": {"clinics": {"hosts": {"clinic-db": None}}},
                    },
                    "databases": {"hosts": {"his-db": None}},
                }
            }
        }
    )
    assert problems == []
    assert inventory.hosts_of("health") == {"his-db", "clinic-db"}
    assert inventory.hosts_of("all") == {"his-db", "clinic-db"}
    assert inventory.hosts["his-db"] == {"ansible_host": "127.0.0.1"}
    assert inventory.hosts_of("nobody") == frozenset()


def test_hosts_shape_mistakes_are_located() -> None:
    _, problems = parse_hosts({"all": {"hosts": ["a", "b"], "children": {"x": 3}}})
    assert problems == [
        (("all", "hosts"), "hosts must be a mapping, got a list"),
        (
            ("all", "children", "x"),
            "a group is a mapping of ['children', 'hosts', 'vars'], got an integer (3)",
        ),
    ]


def test_recursive_groups_are_reported_not_followed() -> None:
    group: dict[str, object] = {}
    group["children"] = {"self": group}
    _, problems = parse_hosts({"all": group})
    assert problems
    assert "nested more than" in problems[0][1]
