"""Finding sites, mapping pydantic errors to field paths, and collecting problems of many sites."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dcctl.errors import DataError, ExitCode
from dcctl.spec import Kind, SpecInvalid, check_inventory, load_inventory, load_site
from dcctl.spec.agency import Agency
from dcctl.spec.loader import fields_at, locate
from tests.spec.data import GOOD_SITE, TODAY
from tests.spec.patching import build_site

pytestmark = pytest.mark.unit


def test_an_inventory_holds_one_site_per_directory(tmp_path: Path) -> None:
    shutil.copytree(GOOD_SITE, tmp_path / "inventory" / "north")
    shutil.copytree(GOOD_SITE, tmp_path / "inventory" / "south")
    (tmp_path / "inventory" / "README.txt").write_text("not a site")

    sites = load_inventory(tmp_path / "inventory", today=TODAY)

    assert [site.name for site in sites] == ["north", "south"]
    assert [site.name for site in load_inventory(tmp_path / "inventory" / "south")] == ["south"]


def test_problems_of_every_site_are_collected(tmp_path: Path) -> None:
    root = tmp_path / "inventory"
    build_site(GOOD_SITE, root / "a", [{"file": "site.yaml", "set": "cloud", "value": 1}])
    build_site(GOOD_SITE, root / "b", [{"file": "agencies/beta.yaml", "delete": "owner"}])

    with pytest.raises(SpecInvalid) as raised:
        load_inventory(root, today=TODAY)

    assert [(p.file, p.path) for p in raised.value.problems] == [
        (str(root / "a" / "site.yaml"), "cloud"),
        (str(root / "b" / "agencies" / "beta.yaml"), "owner"),
    ]
    assert raised.value.exit_code == ExitCode.DATA
    assert isinstance(raised.value, DataError)
    assert "2 problems" in raised.value.message


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_a_path_without_sites_is_a_problem(tmp_path: Path, where: str) -> None:
    path = tmp_path / where
    if where == "empty":
        path.mkdir()
    report = check_inventory(path)
    assert not report.valid
    (problem,) = report.problems
    assert problem.kind == Kind.MISSING_FILE
    assert problem.file == str(path)


def test_a_site_without_agencies_is_valid(tmp_path: Path) -> None:
    site_dir = build_site(GOOD_SITE, tmp_path / "site", [])
    shutil.rmtree(site_dir / "agencies")
    assert load_site(site_dir, today=TODAY).agencies == ()


def test_an_empty_agency_file_is_reported_not_crashed_on(tmp_path: Path) -> None:
    site_dir = build_site(GOOD_SITE, tmp_path / "site", [])
    (site_dir / "agencies" / "gamma.yaml").write_text("")
    with pytest.raises(SpecInvalid) as raised:
        load_site(site_dir, today=TODAY)
    (problem,) = raised.value.problems
    assert (problem.line, problem.path, problem.kind) == (1, "", Kind.WRONG_TYPE)
    assert "expected a mapping, got null" in problem.reason


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    site_dir = build_site(GOOD_SITE, tmp_path / "site", [])
    (site_dir / "agencies" / "gamma.yaml").write_bytes(b"name: S\xe1\n")
    with pytest.raises(SpecInvalid) as raised:
        load_site(site_dir, today=TODAY)
    assert "not UTF-8" in raised.value.problems[0].reason


def test_locate_drops_pydantic_tags_and_keeps_missing_keys() -> None:
    data = {"networks": [{"name": "x"}], "quota": {"overrides": {}}}
    assert locate(data, ("networks", 0, "cidr")) == (("networks", 0, "cidr"), False)
    assert locate(data, ("networks", 0, "name", "function-plain[_name()]")) == (
        ("networks", 0, "name"),
        False,
    )
    assert locate({"levels": {7: {}}}, ("levels", 7, "[key]")) == (("levels", 7), True)


def test_fields_at_walks_models_tuples_and_optionals() -> None:
    assert "port_range" in fields_at(Agency, ("security_groups", 0, "rules", 0))
    assert "cidr" in fields_at(Agency, ("networks", 3))
    assert "floating_ips" in fields_at(Agency, ("quota", "overrides", "network"))
    assert fields_at(Agency, ("no_such",)) == []
    assert fields_at(Agency, ("code", "deeper")) == []
