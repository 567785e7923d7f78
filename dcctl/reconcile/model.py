"""The plan vocabulary: what should exist, what does exist, and the change between them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ADOPT = "adopt"  # exists without dcctl's marker: mark it (and update what differs)
    DELETE = "delete"
    NOOP = "no-op"


@dataclass(frozen=True, order=True)
class Ref:
    """Stable identity of a resource inside one agency: a kind and a key unique within it."""

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass(frozen=True)
class Desired:
    ref: Ref
    attrs: Mapping[str, Any]
    create_only: frozenset[str] = frozenset()
    depends_on: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class Observed:
    ref: Ref
    id: str
    attrs: Mapping[str, Any]
    managed: bool = True  # carries dcctl's marker (tag / naming convention)
    depends_on: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    ref: Ref
    action: Action
    resource_id: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    fields: tuple[FieldChange, ...] = ()
    depends_on: tuple[Ref, ...] = ()
    note: str = ""

    @property
    def is_change(self) -> bool:
        return self.action is not Action.NOOP

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.ref.kind,
            "key": self.ref.key,
            "action": self.action.value,
            "id": self.resource_id,
            "before": plain(self.before),
            "after": plain(self.after),
            "fields": [
                {"field": f.field, "old": plain(f.old), "new": plain(f.new)} for f in self.fields
            ],
            "depends_on": [str(ref) for ref in self.depends_on],
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            ref=Ref(str(data["kind"]), str(data["key"])),
            action=Action(data["action"]),
            resource_id=data.get("id"),
            before=data.get("before"),
            after=data.get("after"),
            fields=tuple(
                FieldChange(str(f["field"]), f.get("old"), f.get("new"))
                for f in data.get("fields", [])
            ),
            depends_on=tuple(Ref(*str(text).split(" ", 1)) for text in data.get("depends_on", [])),
            note=str(data.get("note", "")),
        )


@dataclass
class Problem:
    """Something found while planning that blocks applying (e.g. quota below usage)."""

    ref: str
    reason: str
    hint: str | None = None


@dataclass
class Counts:
    create: int = 0
    update: int = 0
    adopt: int = 0
    delete: int = 0
    noop: int = 0

    def add(self, action: Action) -> None:
        name = "noop" if action is Action.NOOP else action.value
        setattr(self, name, getattr(self, name) + 1)

    @property
    def changes(self) -> int:
        return self.create + self.update + self.adopt + self.delete

    def as_dict(self) -> dict[str, int]:
        return {
            "create": self.create,
            "update": self.update,
            "adopt": self.adopt,
            "delete": self.delete,
            "no-op": self.noop,
        }

    def summary(self) -> str:
        return (
            f"{self.create} to create, {self.update} to update, {self.adopt} to adopt, "
            f"{self.delete} to delete, {self.noop} unchanged"
        )


@dataclass
class ScopePlan:
    """The changes for one unit of work (one agency), applied under one lock."""

    scope: str
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def pending(self) -> list[Change]:
        return [change for change in self.changes if change.is_change]

    def counts(self) -> Counts:
        counts = Counts()
        for change in self.changes:
            counts.add(change.action)
        return counts


def plain(value: Any) -> Any:
    """JSON-friendly copy: tuples → lists, frozensets → sorted lists, mappings → dicts."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((plain(item) for item in value), key=repr)
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value
