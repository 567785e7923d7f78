"""The shipped inventory/quangngai/ is valid and reads like the province's 2016 plan."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dcctl.spec import load_inventory, load_site
from tests.spec.data import SHIPPED_INVENTORY, TODAY

pytestmark = pytest.mark.unit

PLAN = {
    "sotttt": ["II.2.b.1", "II.2.b.2"],
    "sonoivu": ["II.2.b.3"],
    "soyte": ["II.2.b.4", "II.2.b.5"],
    "sogtvt": ["II.2.b.6"],
    "soxaydung": ["II.2.b.7"],
    "ubndsonha": ["II.2.b.8"],
    "bqlkcn": ["II.2.b.9"],
    "dhpvd": ["II.2.b.9"],
    "songoaivu": ["II.2.b.10"],
    "congan": ["II.2.a.2"],
    "sotaichinh": ["III.5.c"],
    "sokhdt": ["III.5.b"],
}


def test_the_shipped_inventory_validates_clean_today() -> None:
    sites = load_inventory(SHIPPED_INVENTORY)  # the real date: the examples carry no waiver
    assert [site.name for site in sites] == ["quangngai"]


def test_every_agency_of_the_plan_cites_its_item() -> None:
    site = load_site(SHIPPED_INVENTORY / "quangngai", today=TODAY)
    assert {agency.code: list(agency.source.items) for agency in site.agencies} == PLAN
    for agency in site.agencies:
        assert agency.source.decision == "172/QĐ-UBND"
        assert agency.systems
        assert 2 <= len(agency.users) <= 3


def test_networks_are_distinct_and_small() -> None:
    site = load_site(SHIPPED_INVENTORY / "quangngai", today=TODAY)
    networks = [network.cidr for agency in site.agencies for network in agency.networks]
    for first, second in itertools.combinations(networks, 2):
        assert not first.overlaps(second)
    assert all(network.prefixlen >= 24 for network in networks)


def test_police_and_health_have_the_highest_levels_and_nobody_floating_ips() -> None:
    site = load_site(SHIPPED_INVENTORY / "quangngai", today=TODAY)
    levels = {agency.code: agency.security_level for agency in site.agencies}
    others = max(level for code, level in levels.items() if code not in ("congan", "soyte"))
    assert levels["congan"] > others
    assert levels["soyte"] > others
    for agency in site.agencies:
        assert site.effective_quota(agency).network.floating_ips == 0


def test_hosts_yml_is_an_inventory_ansible_itself_reads() -> None:
    ansible_inventory = Path(sys.executable).with_name("ansible-inventory")
    completed = subprocess.run(
        [
            str(ansible_inventory),
            "-i",
            str(SHIPPED_INVENTORY / "quangngai" / "hosts.yml"),
            "--list",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    groups = json.loads(completed.stdout)
    site = load_site(SHIPPED_INVENTORY / "quangngai", today=TODAY)
    for agency in site.agencies:
        assert set(groups[agency.code]["hosts"]) == {
            f"{agency.code}-db-01",
            f"{agency.code}-backup-01",
        }
        for database in agency.databases:
            assert groups["_meta"]["hostvars"][database.host]["ansible_host"] == "127.0.0.1"
