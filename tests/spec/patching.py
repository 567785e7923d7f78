"""Build a spec site for a test: copy a good site, then apply patch operations from a data file.

Operations (each names a ``file`` relative to the site directory):

- ``set: <path>`` with ``value``: set a field (``networks[0].cidr``), creating mappings on the way
- ``delete: <path>``: remove a key or list item
- ``append: <path>`` with ``value``: append to a list (created when missing)
- ``remove: true``: delete the file
- ``text_append: <text>``: append raw text (YAML syntax errors, duplicate keys)
- ``text_replace: <old>`` with ``value``: replace raw text once (must be present)

Paths use the same syntax as problems: ``name[1].rules[0]``; ``[n]`` on a mapping is the integer
key ``n`` (the ``security_levels`` table).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for name, index in _PART.findall(path):
        parts.append(int(index) if index else name)
    return parts


def _step(container: Any, part: str | int, create: bool) -> Any:
    if isinstance(container, list):
        return container[int(part)]
    if part not in container:
        if not create:
            raise KeyError(part)
        container[part] = {}
    return container[part]


def _parent(data: Any, path: str) -> tuple[Any, str | int]:
    parts = parse_path(path)
    current = data
    for part in parts[:-1]:
        current = _step(current, part, create=True)
    return current, parts[-1]


def apply(site: Path, operation: dict[str, Any]) -> None:
    file = site / operation["file"]
    if operation.get("remove"):
        file.unlink()
        return
    if "text_append" in operation:
        with file.open("a", encoding="utf-8") as handle:
            handle.write(operation["text_append"])
        return
    if "text_replace" in operation:
        text = file.read_text(encoding="utf-8")
        old = operation["text_replace"]
        if old not in text:
            raise AssertionError(f"{old!r} is not in {file}")
        file.write_text(text.replace(old, operation["value"], 1), encoding="utf-8")
        return
    data = yaml.safe_load(file.read_text(encoding="utf-8")) if file.exists() else {}
    if "set" in operation:
        parent, key = _parent(data, operation["set"])
        if isinstance(parent, list):
            parent[int(key)] = operation["value"]
        else:
            parent[key] = operation["value"]
    elif "delete" in operation:
        parent, key = _parent(data, operation["delete"])
        del parent[int(key) if isinstance(parent, list) else key]
    elif "append" in operation:
        parent, key = _parent(data, operation["append"])
        if isinstance(parent, dict):
            parent.setdefault(key, [])
        target = parent[int(key)] if isinstance(parent, list) else parent[key]
        target.append(operation["value"])
    else:
        raise AssertionError(f"unknown patch operation: {operation}")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def build_site(good: Path, target: Path, operations: list[dict[str, Any]]) -> Path:
    """A copy of the site ``good`` at ``target`` with ``operations`` applied in order."""
    shutil.copytree(good, target)
    for operation in operations:
        apply(target, operation)
    return target
