"""Shared pytest configuration.

Tests mirror the package tree (tests/sandbox ↔ dcctl/sandbox, …). Every test module declares
``pytestmark = pytest.mark.unit`` (no services) or ``pytest.mark.integration`` (real sandbox
OpenStack and local services); an unmarked test is a collection error, so the two suites
(``-m unit``, ``-m integration``) always add up to the whole.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if not any(item.get_closest_marker(marker) for marker in ("unit", "integration"))
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests without a 'unit' or 'integration' marker: " + ", ".join(unmarked[:10])
        )
