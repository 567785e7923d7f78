"""Four-way reconcile of one resource: create / update (or adopt) / delete / no-op.

Values are compared after ``freeze``: lists become tuples, sets and mappings become sorted
tuples, strings are put in Unicode NFC, so neither the order an API happens to return nor a
Vietnamese name stored decomposed (NFD) by another tool shows up as a change. Only the
attributes the desired side names are compared: what the spec does not manage is left alone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from dcctl.errors import DcctlError
from dcctl.reconcile.model import Action, Change, Desired, FieldChange, Observed


class ImmutableFieldChanged(DcctlError):
    """The spec changes an attribute the API cannot update in place (e.g. a subnet's CIDR)."""


def freeze(value: Any) -> Any:
    """A hashable, order-normalised form of ``value`` for comparison."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(key), freeze(item)) for key, item in value.items()))
    if isinstance(value, set | frozenset):
        return tuple(sorted((freeze(item) for item in value), key=repr))
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    if value == "":
        return None
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    return value


def equal(left: Any, right: Any) -> bool:
    return bool(freeze(left) == freeze(right))


def field_changes(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> list[FieldChange]:
    return [
        FieldChange(name, observed.get(name), value)
        for name, value in desired.items()
        if not equal(value, observed.get(name))
    ]


def diff(desired: Desired | None, observed: Observed | None, *, note: str = "") -> Change:
    if desired is None and observed is None:
        raise ValueError("diff needs at least one side")
    if observed is None:
        assert desired is not None  # noqa: S101 - narrowed by the check above
        return Change(
            ref=desired.ref,
            action=Action.CREATE,
            after=desired.attrs,
            depends_on=desired.depends_on,
            note=note,
        )
    if desired is None:
        return Change(
            ref=observed.ref,
            action=Action.DELETE,
            resource_id=observed.id,
            before=observed.attrs,
            depends_on=observed.depends_on,
            note=note,
        )
    changes = field_changes(desired.attrs, observed.attrs)
    frozen = [change.field for change in changes if change.field in desired.create_only]
    if frozen:
        detail = ", ".join(
            f"{change.field}: {change.old!r} → {change.new!r}"
            for change in changes
            if change.field in frozen
        )
        raise ImmutableFieldChanged(
            f"{desired.ref}: cannot change {detail} in place",
            hint="restore the old value in the spec, or create a new resource under a new "
            "name and remove the old one once nothing uses it",
        )
    if not observed.managed:
        action = Action.ADOPT
    elif changes:
        action = Action.UPDATE
    else:
        action = Action.NOOP
    return Change(
        ref=desired.ref,
        action=action,
        resource_id=observed.id,
        before=observed.attrs,
        after=desired.attrs,
        fields=tuple(changes),
        depends_on=desired.depends_on,
        note=note,
    )
