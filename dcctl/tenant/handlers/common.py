"""Helpers shared by the handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openstack import exceptions as sdk

from dcctl.cloud.rest import JSON


def ignore_missing(call: Callable[[], Any]) -> None:
    """Run a delete; a resource that is already gone counts as deleted."""
    try:
        call()
    except sdk.NotFoundException:
        return


def first(items: list[JSON]) -> JSON | None:
    return items[0] if items else None
