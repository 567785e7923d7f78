"""Offline checks across fields and files, run after every file has been read.

Each check is registered under a stable id with a title and is a pure function of the loaded
documents: it yields problems, prints nothing and touches no network. A check only sees models that
passed field validation, so one broken file does not hide the problems of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from dcctl.registry import Registry
from dcctl.spec.agency import Agency
from dcctl.spec.hosts import HostInventory
from dcctl.spec.problems import FieldPath, Kind, Problem
from dcctl.spec.secgroup import RuleSet
from dcctl.spec.site import SiteConfig
from dcctl.spec.yamldoc import Document


@dataclass(frozen=True)
class LoadedAgency:
    """An agency model with the document it came from (for lines) and its file's stem."""

    agency: Agency
    doc: Document
    stem: str

    def problem(self, path: FieldPath, reason: str, kind: Kind) -> Problem:
        return self.doc.problem(path, reason, kind)


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may look at. ``config`` is None when ``site.yaml`` itself is invalid;
    checks that need it then skip."""

    site_name: str
    config: SiteConfig | None
    site_doc: Document | None
    agencies: tuple[LoadedAgency, ...]
    hosts: HostInventory | None
    hosts_file: str
    today: date

    def site_problem(self, path: FieldPath, reason: str, kind: Kind) -> Problem:
        if self.site_doc is None:
            raise RuntimeError("a site check ran without site.yaml")
        return self.site_doc.problem(path, reason, kind)


CheckFunction = Callable[[CheckContext], Iterable[Problem]]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: CheckFunction


CHECKS: Registry[Check] = Registry("spec check")


def check(check_id: str, title: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under ``check_id``."""

    def wrap(function: CheckFunction) -> CheckFunction:
        CHECKS.register(check_id, Check(check_id, title, function))
        return function

    return wrap


def run_checks(context: CheckContext) -> list[Problem]:
    return [problem for entry in CHECKS.values() for problem in entry.run(context)]


def agency_rule_sets(agency: Agency) -> Iterator[tuple[FieldPath, RuleSet]]:
    """Each rule set of an agency (its groups, then its own default group) with its path."""
    for index, group in enumerate(agency.security_groups):
        yield ("security_groups", index), group
    if agency.default_security_group is not None:
        yield ("default_security_group",), agency.default_security_group


def known(names: Iterable[str]) -> str:
    """``(defined: a, b)`` for a message about an undefined name."""
    listed = ", ".join(sorted(names))
    return f"(defined: {listed})" if listed else "(none is defined)"


# The check modules register themselves on import; their order is the order of the report.
from dcctl.spec.checks import (  # noqa: E402
    exposure,
    files,
    names,
    networks,
    policy,
    references,
)

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "LoadedAgency",
    "agency_rule_sets",
    "check",
    "exposure",
    "files",
    "known",
    "names",
    "networks",
    "policy",
    "references",
    "run_checks",
]
