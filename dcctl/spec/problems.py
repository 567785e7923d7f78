"""A spec problem: where (file, line, field path), why (reason) and which kind of mistake."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from dcctl.errors import DataError

# A field path as data: mapping keys (str, or int for the level table) and list indexes (int).
PathPart = str | int
FieldPath = tuple[PathPart, ...]


class Kind(StrEnum):
    """Every kind of spec mistake, a stable id each (documented in docs/spec.md)."""

    # reading the files
    MISSING_FILE = "missing_file"
    YAML_SYNTAX = "yaml_syntax"
    DUPLICATE_KEY = "duplicate_key"
    # one field at a time (pydantic models)
    UNKNOWN_KEY = "unknown_key"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    OUT_OF_RANGE = "out_of_range"
    INVALID_CIDR = "invalid_cidr"
    INVALID_PORT_RANGE = "invalid_port_range"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    # across fields and files (dcctl.spec.checks)
    CODE_MISMATCH = "code_mismatch"
    DUPLICATE_NAME = "duplicate_name"
    DUPLICATE_RULE = "duplicate_rule"
    RESERVED_NAME = "reserved_name"
    UNDEFINED_REFERENCE = "undefined_reference"
    CIDR_OVERLAP = "cidr_overlap"
    INVALID_GATEWAY = "invalid_gateway"
    INVALID_RULE = "invalid_rule"
    OPEN_ADMIN_PORT = "open_admin_port"
    OPEN_DATABASE_PORT = "open_database_port"
    WAIVER_EXPIRED = "waiver_expired"
    QUOTA_EXCEEDED = "quota_exceeded"
    ENCRYPTION_REQUIRED = "encryption_required"
    RPO_NOT_MET = "rpo_not_met"
    HOSTS_INVENTORY = "hosts_inventory"


def format_path(path: Sequence[PathPart]) -> str:
    """``("security_groups", 1, "rules", 0)`` → ``security_groups[1].rules[0]``.

    Integers are list indexes or the integer keys of the ``security_levels`` table: both print as
    ``[n]``.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Problem:
    """One mistake in a spec file.

    ``file`` is the path as the operator named it (``inventory/quangngai/agencies/soyte.yaml``),
    ``line`` the 1-based line YAML gave for the field (None when the file has no such line),
    ``path`` the field path (``security_groups[1].rules[0].port_range``; empty for the whole file),
    ``reason`` what is wrong, in words, and ``kind`` one of :class:`Kind`.
    """

    file: str
    line: int | None
    path: str
    reason: str
    kind: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sort_key(problem: Problem) -> tuple[str, int, str, str]:
    return (problem.file, problem.line or 0, problem.path, problem.reason)


class SpecInvalid(DataError):
    """The spec has problems; ``problems`` lists every one of them, in file and line order."""

    def __init__(self, problems: Sequence[Problem], *, where: str, shown: bool = False) -> None:
        self.problems: list[Problem] = sorted(problems, key=sort_key)
        count = len(self.problems)
        super().__init__(
            f"{where}: {count} problem{'s' if count != 1 else ''} in the spec",
            hint="fix each file:line (the schema is in docs/spec.md), then re-run "
            "'dcctl spec validate'",
            # ``shown``: the command already rendered them (spec validate's report).
            details=() if shown else tuple(str(problem) for problem in self.problems),
        )
