"""Golden planner tests: spec + observed cloud (data files) → the plan (data file). Pure: no cloud.

Every directory under ``tests/tenant/data/plans/`` is one case:

- ``agencies/<code>.yaml``: the agency specs; they join the shared ``plans/site.yaml`` (a case
  may bring its own ``site.yaml``) and are loaded with the real loader and offline checks;
- ``observed.yaml``: what the cloud has, as a :class:`dcctl.tenant.snapshot.Snapshot` (the
  shape ``Snapshot.to_json`` writes: projects, networks, subnets, routers, router ports, security
  groups and rules as the APIs return them; users, groups, role assignments, memberships and
  quotas in the snapshot's flattened form), so a recorded snapshot can become a case;
- ``case.yaml`` (optional): ``about`` (what the case shows), ``options`` (``keep_unmanaged``,
  ``purge_users``), ``agencies`` (plan only these codes) and ``xfail`` (why the planner's
  output is known to be wrong; the test is then ``xfail(strict=True)``);
- ``expected.yaml``: the plan as data, per agency: summary, problems, warnings and the changes
  (``action``, ``kind``, ``key``, the resource ``id``, ``fields`` old → new, ``after`` for
  creates, ``note``).

When the planner changes on purpose, regenerate the expected files and review the diff::

    DCCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/tenant/test_planner_golden.py

That rewrites ``expected.yaml`` of every case except the ``xfail`` ones: their expected file
holds the correct plan, written by hand, not what the planner does today. Once the planner is
fixed the case XPASSes (a failure, the mark is strict): delete its ``xfail`` and regenerate.
Never regenerate without reading the diff against the spec's meaning.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcctl.reconcile.model import Change, plain
from dcctl.spec import load_site
from dcctl.tenant.planner import PlanOptions, SitePlan, plan_site
from dcctl.tenant.snapshot import Snapshot

pytestmark = pytest.mark.unit

PLANS = Path(__file__).parent / "data" / "plans"
UPDATE = os.environ.get("DCCTL_UPDATE_GOLDEN") == "1"
TODAY = date(2025, 1, 15)


@dataclass(frozen=True)
class Case:
    path: Path
    about: str
    options: PlanOptions
    agencies: tuple[str, ...] | None
    xfail: str | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def expected_file(self) -> Path:
        return self.path / "expected.yaml"


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_case(path: Path) -> Case:
    meta_file = path / "case.yaml"
    meta: dict[str, Any] = _read_yaml(meta_file) if meta_file.is_file() else {}
    options = meta.get("options") or {}
    agencies = meta.get("agencies")
    return Case(
        path=path,
        about=str(meta.get("about", "")),
        options=PlanOptions(
            keep_unmanaged=bool(options.get("keep_unmanaged")),
            purge_users=bool(options.get("purge_users")),
        ),
        agencies=tuple(agencies) if agencies else None,
        xfail=meta.get("xfail"),
    )


def _cases() -> list[Any]:
    params = []
    for path in sorted(p for p in PLANS.iterdir() if (p / "observed.yaml").is_file()):
        case = load_case(path)
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def run_case(case: Case, workdir: Path) -> SitePlan:
    """Load the case's site with the real loader, its snapshot from data, and plan."""
    site_dir = workdir / "quangngai"
    (site_dir / "agencies").mkdir(parents=True)
    own_site = case.path / "site.yaml"
    shutil.copy(own_site if own_site.is_file() else PLANS / "site.yaml", site_dir / "site.yaml")
    for spec in sorted((case.path / "agencies").glob("*.yaml")):
        shutil.copy(spec, site_dir / "agencies" / spec.name)
    site = load_site(site_dir, today=TODAY)
    snapshot = Snapshot.from_json(json.dumps(_read_yaml(case.path / "observed.yaml")))
    agencies = [a for a in site.agencies if case.agencies is None or a.code in case.agencies]
    return plan_site(
        site,
        snapshot,
        agencies,
        cloud="golden",
        auth_url="https://keystone.invalid/v3",
        options=case.options,
    )


def change_data(change: Change) -> dict[str, Any]:
    """One change as the expected files spell it (the parts a reviewer checks)."""
    full = change.as_dict()
    data: dict[str, Any] = {"action": full["action"], "kind": full["kind"], "key": full["key"]}
    if full["id"]:  # predicted neutron rules have no id yet
        data["id"] = full["id"]
    if full["fields"]:
        data["fields"] = full["fields"]
    if full["action"] == "create":
        data["after"] = full["after"]
    if full["note"]:
        data["note"] = full["note"]
    return data


def plan_data(plan: SitePlan) -> dict[str, Any]:
    full = plan.as_dict()
    return {
        "summary": full["summary"],
        "agencies": [
            {
                "code": agency.scope,
                "project_id": agency.project_id,
                "suspended": agency.suspended,
                "summary": agency.counts().as_dict(),
                "problems": [
                    {"resource": p.ref, "reason": p.reason, "hint": p.hint} for p in agency.problems
                ],
                "warnings": list(agency.warnings),
                "changes": [change_data(change) for change in agency.changes],
            }
            for agency in plan.agencies
        ],
    }


def dump(data: Any) -> str:
    return yaml.safe_dump(
        plain(data), allow_unicode=True, sort_keys=False, default_flow_style=None, width=4096
    )


@pytest.mark.parametrize("case", _cases())
def test_plan_matches_golden(case: Case, tmp_path: Path) -> None:
    actual = plan_data(run_case(case, tmp_path))
    if UPDATE and case.xfail is None:
        case.expected_file.write_text(dump(actual), encoding="utf-8")
    assert case.expected_file.is_file(), f"{case.expected_file} missing (DCCTL_UPDATE_GOLDEN=1)"
    expected = _read_yaml(case.expected_file)
    assert actual == expected, case.about


def test_every_case_directory_is_complete() -> None:
    cases = [p for p in PLANS.iterdir() if p.is_dir()]
    assert len(cases) >= 10
    for path in cases:
        assert (path / "observed.yaml").is_file(), path
        assert list((path / "agencies").glob("*.yaml")), path
        assert (path / "expected.yaml").is_file() or UPDATE, path
