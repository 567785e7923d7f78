"""The handler protocol and the registry every kind's handler is entered in."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from dcctl.reconcile.model import Change
from dcctl.registry import Registry
from dcctl.tenant.context import ApplyContext


class Handler(Protocol):
    def create(self, ctx: ApplyContext, change: Change) -> str:
        """Make the resource; returns its id."""

    def update(self, ctx: ApplyContext, change: Change) -> None:
        """Bring the named fields to their desired values."""

    def adopt(self, ctx: ApplyContext, change: Change) -> None:
        """Put dcctl's marker on an existing resource (and update what differs)."""

    def delete(self, ctx: ApplyContext, change: Change) -> None:
        """Remove the resource; a resource already gone is not an error."""


HANDLERS: Registry[Handler] = Registry("resource kind")


@runtime_checkable
class BatchCreator(Protocol):
    """A kind whose API creates several resources in one request (atomically)."""

    def batch_key(self, change: Change) -> str:
        """Creates with the same key may go out together."""

    def create_many(self, ctx: ApplyContext, changes: list[Change]) -> list[str]:
        """Make them all; returns their ids in order."""
