"""The one registry type behind every extension point."""

from __future__ import annotations

import pytest

from dcctl.registry import Registry

pytestmark = pytest.mark.unit


def test_entries_keep_registration_order_and_unknown_ids_list_the_known() -> None:
    registry: Registry[int] = Registry("widget")
    registry.register("b", 2)
    registry.register("a", 1)

    assert list(registry) == ["b", "a"]
    assert registry.values() == [2, 1]
    assert registry.items() == [("b", 2), ("a", 1)]
    assert "a" in registry
    assert len(registry) == 2
    assert registry.get("a") == 1
    with pytest.raises(KeyError, match="unknown widget 'c'; known: a, b"):
        registry.get("c")


def test_an_id_is_registered_once() -> None:
    registry: Registry[int] = Registry("widget")
    registry.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", 2)
