"""Hypothesis-generated bad specs: random mutations of a good agency always yield a problem that
names the right file and field, and never an unhandled exception."""

from __future__ import annotations

import copy
import ipaddress
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcctl.spec import Kind, Problem, SpecInvalid, load_site
from dcctl.spec.agency import Agency
from dcctl.spec.loader import fields_at
from dcctl.spec.ports import ADMIN_PORTS
from dcctl.spec.problems import format_path
from tests.spec.data import GOOD_SITE, TODAY
from tests.spec.patching import parse_path

pytestmark = pytest.mark.unit

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHA = yaml.safe_load((GOOD_SITE / "agencies" / "alpha.yaml").read_text(encoding="utf-8"))
BETA = yaml.safe_load((GOOD_SITE / "agencies" / "beta.yaml").read_text(encoding="utf-8"))


@contextmanager
def _site(files: dict[str, Any]) -> Iterator[Path]:
    """The good site with some agency files replaced by ``files`` (name → data or raw text)."""
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(GOOD_SITE, site)
        for name, content in files.items():
            text = (
                content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
            )
            (site / "agencies" / name).write_text(text, encoding="utf-8")
        yield site


def _problems(site: Path) -> list[Problem]:
    with pytest.raises(SpecInvalid) as raised:
        load_site(site, today=TODAY)
    return raised.value.problems


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(data)
    parts = parse_path(path)
    current: Any = mutated
    for part in parts[:-1]:
        current = current[part]
    current[parts[-1]] = value
    return mutated


def _has(problems: list[Problem], site: Path, file: str, path: str, kind: Kind) -> bool:
    return any(
        p.file == str(site / "agencies" / file) and p.path == path and p.kind == kind
        for p in problems
    )


# -- wrong types ----------------------------------------------------------------------------------

_TEXT_FIELDS = [
    "code",
    "name",
    "owner",
    "users[0].name",
    "users[1].full_name",
    "networks[0].name",
    "security_groups[0].name",
    "servers[0].flavor",
    "databases[0].host",
    "source.decision",
    "contacts[0].name",
]
_INT_FIELDS = ["security_level", "volumes[0].size"]
_BOOL_FIELDS = ["users[0].enabled", "router.external_gateway", "security_groups[1].egress_all"]
_LIST_FIELDS = [
    "users",
    "networks",
    "router.interfaces",
    "users[0].roles",
    "systems",
    "security_groups[0].rules",
    "servers[0].networks",
]
_MAP_FIELDS = ["source", "router", "users[0]", "networks[0]", "security_groups[0].rules[0]"]

_not_text = st.one_of(
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_not_int = st.one_of(
    st.text(max_size=5),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
)
_not_bool = st.one_of(
    st.integers(), st.sampled_from(["yes", "no", "true", "on"]), st.lists(st.booleans(), max_size=2)
)
_not_list = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(min_size=1, max_size=5),
    st.dictionaries(st.sampled_from(["a", "name"]), st.integers(), min_size=1),
)
_not_map = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(min_size=1, max_size=5),
    st.lists(st.integers(), max_size=2),
)

_wrong_types = st.one_of(
    st.tuples(st.sampled_from(_TEXT_FIELDS), _not_text),
    st.tuples(st.sampled_from(_INT_FIELDS), _not_int),
    st.tuples(st.sampled_from(_BOOL_FIELDS), _not_bool),
    st.tuples(st.sampled_from(_LIST_FIELDS), _not_list),
    st.tuples(st.sampled_from(_MAP_FIELDS), _not_map),
)


@FAST
@given(_wrong_types)
def test_a_wrong_type_is_named_by_file_and_field(mutation: tuple[str, Any]) -> None:
    path, value = mutation
    with _site({"alpha.yaml": _set(ALPHA, path, value)}) as site:
        problems = _problems(site)
        assert _has(problems, site, "alpha.yaml", path, Kind.WRONG_TYPE), problems
        for problem in problems:
            assert str(problem).startswith(problem.file)


# -- unknown keys ---------------------------------------------------------------------------------

_MAPPINGS = [
    "",
    "source",
    "systems[0]",
    "contacts[0]",
    "users[0]",
    "groups[0]",
    "networks[0]",
    "router",
    "security_groups[0]",
    "security_groups[0].rules[1]",
    "servers[0]",
    "volumes[0]",
    "databases[0]",
]


@FAST
@given(st.sampled_from(_MAPPINGS), st.from_regex(r"[a-z][a-z_]{0,14}", fullmatch=True))
def test_an_unknown_key_is_named_with_its_path(where: str, key: str) -> None:
    parts = tuple(parse_path(where))
    if key in fields_at(Agency, parts):
        return
    path = f"{where}.{key}" if where else key
    with _site({"alpha.yaml": _set(ALPHA, path, 1)}) as site:
        problems = _problems(site)
        assert _has(problems, site, "alpha.yaml", format_path((*parts, key)), Kind.UNKNOWN_KEY)
        assert any(f"unknown key {key!r}" in p.reason for p in problems)


# -- levels ---------------------------------------------------------------------------------------


@FAST
@given(st.integers().filter(lambda level: not 1 <= level <= 5))
def test_a_level_outside_1_to_5_is_out_of_range(level: int) -> None:
    with _site({"alpha.yaml": _set(ALPHA, "security_level", level)}) as site:
        problems = _problems(site)
        assert _has(problems, site, "alpha.yaml", "security_level", Kind.OUT_OF_RANGE)
        assert any(f"got {level}" in p.reason for p in problems)


# -- overlapping networks -------------------------------------------------------------------------


@st.composite
def _overlapping(draw: st.DrawFn) -> str:
    """A random network that shares addresses with alpha's 10.1.0.0/24."""
    address = ipaddress.ip_address("10.1.0.0") + draw(st.integers(0, 255))
    prefix = draw(st.integers(8, 30))
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@FAST
@given(_overlapping())
def test_an_overlapping_cidr_in_another_agency_is_found(cidr: str) -> None:
    with _site({"beta.yaml": _set(BETA, "networks[0].cidr", cidr)}) as site:
        problems = _problems(site)
        assert _has(problems, site, "beta.yaml", "networks[0].cidr", Kind.CIDR_OVERLAP)
        assert {p.kind for p in problems} == {Kind.CIDR_OVERLAP}


# -- admin ports open to the world ----------------------------------------------------------------


@st.composite
def _world_open_rule(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    port = draw(st.sampled_from([p for p in ADMIN_PORTS if "tcp" in p.protocols]))
    low = draw(st.integers(1, port.low))
    high = draw(st.integers(port.high, 65535))
    rule: dict[str, Any] = {
        "protocol": "tcp",
        "port_range": low if low == high else f"{low}-{high}",
    }
    source = draw(st.sampled_from(["0.0.0.0/0", "::/0", None]))
    if source:
        rule["remote_ip_prefix"] = source
    return rule, port.low


@FAST
@given(_world_open_rule())
def test_a_range_open_to_the_world_covering_an_admin_port_is_refused(
    case: tuple[dict[str, Any], int],
) -> None:
    rule, port = case
    agency = copy.deepcopy(ALPHA)
    agency["security_groups"][0]["rules"].append(rule)
    with _site({"alpha.yaml": agency}) as site:
        problems = _problems(site)
        path = "security_groups[0].rules[2].port_range"
        assert _has(problems, site, "alpha.yaml", path, Kind.OPEN_ADMIN_PORT), problems
        admin = [p for p in problems if p.kind == Kind.OPEN_ADMIN_PORT]
        # the reason names the port, unless the range holds more ports than a message lists
        assert str(port) in admin[0].reason or " more open to" in admin[0].reason
        assert admin[0].reason.endswith("without a waiver")
        assert {p.kind for p in problems} <= {Kind.OPEN_ADMIN_PORT, Kind.OPEN_DATABASE_PORT}


# -- anything at all ------------------------------------------------------------------------------

_yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, prefix: str = "") -> list[str]:
    found: list[str] = []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else []
    )
    for key, value in items:
        path = (
            f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else key)
        )
        found += [path, *_paths(value, path)]
    return found


ALPHA_PATHS = _paths(ALPHA)


@FAST
@given(st.sampled_from(ALPHA_PATHS), _yaml_values)
def test_any_replaced_value_is_valid_or_reported_never_a_crash(path: str, value: Any) -> None:
    with _site({"alpha.yaml": _set(ALPHA, path, value)}) as site:
        try:
            load_site(site, today=TODAY)
        except SpecInvalid as error:
            files = {str(file) for file in site.rglob("*") if file.is_file()}
            for problem in error.problems:
                assert problem.file in files
                assert problem.reason
                assert problem.kind in {kind.value for kind in Kind}


@FAST
@given(st.text(max_size=200))
def test_any_text_as_an_agency_file_is_reported_never_a_crash(text: str) -> None:
    with _site({"gamma.yaml": text}) as site:
        with pytest.raises(SpecInvalid) as raised:
            load_site(site, today=TODAY)
        assert all(p.file == str(site / "agencies" / "gamma.yaml") for p in raised.value.problems)
