"""Read ``inventory/<site>/`` into models, collecting every problem with file, line and field path.

``load_site`` / ``load_inventory`` return valid sites or raise :class:`SpecInvalid` listing all
problems; ``check_site`` / ``check_inventory`` return both without raising (for reports).
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePath
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from dcctl.spec import yamldoc
from dcctl.spec.agency import Agency
from dcctl.spec.checks import CheckContext, LoadedAgency, run_checks
from dcctl.spec.hosts import HostInventory, parse_hosts
from dcctl.spec.inventory import Site
from dcctl.spec.problems import FieldPath, Kind, PathPart, Problem, SpecInvalid, sort_key
from dcctl.spec.site import SiteConfig
from dcctl.spec.types import describe
from dcctl.spec.yamldoc import Document

SITE_FILE = "site.yaml"
AGENCIES_DIR = "agencies"
AGENCY_SUFFIXES = (".yaml", ".yml")
HOSTS_FILE = "hosts.yml"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Report:
    """What validating a path found: the sites that are valid and every problem."""

    sites: tuple[Site, ...]
    problems: tuple[Problem, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


# -- public API ------------------------------------------------------------------------------------


def load_site(path: str | Path, *, today: date | None = None) -> Site:
    """The site in directory ``path`` (holding ``site.yaml``); raises SpecInvalid on any problem."""
    site, problems = check_site(path, today=today)
    if problems or site is None:
        raise SpecInvalid(problems, where=str(path))
    return site


def load_inventory(path: str | Path = "inventory", *, today: date | None = None) -> list[Site]:
    """Every site under ``path`` (``path`` itself when it holds ``site.yaml``, else each
    ``path/<site>/``); raises SpecInvalid listing the problems of all of them."""
    report = check_inventory(path, today=today)
    if not report.valid:
        raise SpecInvalid(report.problems, where=str(path))
    return list(report.sites)


def check_inventory(path: str | Path = "inventory", *, today: date | None = None) -> Report:
    root = Path(path)
    site_dirs = find_sites(root)
    if not site_dirs:
        reason = (
            f"no such directory: {root}"
            if not root.is_dir()
            else f"no site found: expected {root / SITE_FILE} or {root / '<site>' / SITE_FILE}"
        )
        return Report((), (Problem(str(root), None, "", reason, Kind.MISSING_FILE.value),))
    sites: list[Site] = []
    problems: list[Problem] = []
    for site_dir in site_dirs:
        site, found = check_site(site_dir, today=today)
        problems += found
        if site is not None:
            sites.append(site)
    return Report(tuple(sites), tuple(sorted(problems, key=sort_key)))


def find_sites(root: Path) -> list[Path]:
    if (root / SITE_FILE).is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(child for child in root.iterdir() if (child / SITE_FILE).is_file())


def check_site(path: str | Path, *, today: date | None = None) -> tuple[Site | None, list[Problem]]:
    """Validate one site directory; the site is returned only when there is no problem."""
    root = Path(path)
    problems: list[Problem] = []

    site_file = root / SITE_FILE
    config: SiteConfig | None = None
    site_doc: Document | None = None
    if not site_file.is_file():
        problems.append(
            Problem(
                str(site_file),
                None,
                "",
                "missing: every site needs a site.yaml",
                Kind.MISSING_FILE.value,
            )
        )
    else:
        site_doc, found = yamldoc.read(site_file, str(site_file))
        problems += found
        if site_doc is not None:
            config, found = validate_model(SiteConfig, site_doc)
            problems += found

    agencies: list[LoadedAgency] = []
    for file in agency_files(root):
        doc, found = yamldoc.read(file, str(file))
        problems += found
        if doc is not None:
            agency, found = validate_model(Agency, doc)
            problems += found
            if agency is not None:
                agencies.append(LoadedAgency(agency, doc, PurePath(file).stem))

    hosts: HostInventory | None = None
    hosts_doc: Document | None = None
    hosts_file = root / HOSTS_FILE
    if hosts_file.is_file():
        hosts_doc, found = yamldoc.read(hosts_file, str(hosts_file))
        problems += found
        if hosts_doc is not None:
            hosts, shape = parse_hosts(hosts_doc.data)
            problems += [
                hosts_doc.problem(at, reason, Kind.HOSTS_INVENTORY) for at, reason in shape
            ]

    context = CheckContext(
        site_name=root.name,
        config=config,
        site_doc=site_doc,
        agencies=tuple(agencies),
        hosts=hosts,
        hosts_file=str(hosts_file),
        today=today or date.today(),
    )
    problems += run_checks(context)
    if problems or config is None:
        return None, problems
    site = Site(
        name=root.name,
        path=root,
        config=config,
        agencies=tuple(loaded.agency for loaded in agencies),
        hosts=hosts or HostInventory(),
    )
    return site, problems


def agency_files(root: Path) -> list[Path]:
    directory = root / AGENCIES_DIR
    if not directory.is_dir():
        return []
    return sorted(
        file
        for file in directory.iterdir()
        if file.is_file() and file.suffix in AGENCY_SUFFIXES and not file.name.startswith(".")
    )


# -- pydantic errors → problems --------------------------------------------------------------------


def validate_model(model: type[M], doc: Document) -> tuple[M | None, list[Problem]]:
    """Validate ``doc.data`` as ``model``; every pydantic error becomes a located problem."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as error:
        details = error.errors()
        return None, [
            _problem(model, doc, detail)
            for detail in details
            if not (detail["type"] == "too_short" and _has_inner_error(detail, details))
        ]


def _has_inner_error(outer: ErrorDetails, details: list[ErrorDetails]) -> bool:
    """A list whose only item is invalid is also "too short"; the item's error says it all."""
    size = len(outer["loc"])
    return any(len(d["loc"]) > size and d["loc"][:size] == outer["loc"] for d in details)


def _problem(model: type[BaseModel], doc: Document, detail: ErrorDetails) -> Problem:
    path, is_key = locate(doc.data, detail["loc"])
    kind, reason = _explain(model, path, detail)
    if is_key and kind not in (Kind.UNKNOWN_KEY, Kind.MISSING_FIELD):
        reason = f"key {path[-1]!r}: {reason}"
    return doc.problem(path, reason, kind)


def locate(data: Any, loc: Sequence[str | int]) -> tuple[FieldPath, bool]:
    """Turn a pydantic error location into a field path of the document.

    Pydantic adds entries that are not in the data (validator and union tags, ``[key]`` for a
    dictionary key); they are dropped. A name that is not in the data is the last part: a missing
    or unknown key. Returns the path and whether the error is about a mapping key itself.
    """
    path: list[PathPart] = []
    current = data
    for part in loc:
        if part == "[key]":
            return tuple(path), True
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str):
            path.append(part)
            current = None
        # anything else is a pydantic tag, not a place in the document
    return tuple(path), False


_WHAT = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "tuple_type": "a list",
    "list_type": "a list",
    "bool_type": "true or false",
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
}


def _explain(model: type[BaseModel], path: FieldPath, detail: ErrorDetails) -> tuple[Kind, str]:
    error_type = detail["type"]
    value = detail.get("input")
    context = detail.get("ctx", {})
    if error_type in Kind._value2member_map_:  # raised by dcctl.spec.types with its own reason
        return Kind(error_type), str(context.get("reason", detail["msg"]))
    if error_type == "extra_forbidden":
        return Kind.UNKNOWN_KEY, _unknown_key(model, path)
    if error_type == "missing":
        return Kind.MISSING_FIELD, f"required field {path[-1]!r} is missing"
    if error_type in _WHAT:
        return Kind.WRONG_TYPE, f"expected {_WHAT[error_type]}, got {describe(value)}"
    if error_type == "literal_error":
        reason = f"{describe(value)} is not allowed; expected {context.get('expected', '')}"
    elif error_type == "too_short":
        reason = "must list at least one item"
    else:
        reason = detail["msg"]
    return Kind.INVALID_VALUE, reason


def _unknown_key(model: type[BaseModel], path: FieldPath) -> str:
    key = path[-1]
    allowed = fields_at(model, path[:-1])
    close = difflib.get_close_matches(str(key), allowed, n=1) or [
        field for field in allowed if field.startswith(str(key)) or str(key).startswith(field)
    ]
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    if allowed:
        return f"unknown key {key!r} (allowed: {', '.join(allowed)})"
    return f"unknown key {key!r}"


def fields_at(model: type[BaseModel], path: FieldPath) -> list[str]:
    """The field names of the model found at ``path`` below ``model`` (empty when unknown)."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            current = field.annotation
        else:
            current = _element(current)
            if current is None:
                return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the one interesting type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _element(annotation: Any) -> Any:
    """The item type of ``tuple[X, ...]`` or the value type of ``dict[K, V]``."""
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is tuple and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None
