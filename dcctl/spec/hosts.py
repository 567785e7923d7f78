"""``hosts.yml``: the site's Ansible host inventory (ansible-core YAML inventory format).

dcctl does not import Ansible to read it; it checks the shape Ansible expects (groups with
``hosts``, ``vars`` and ``children``) and keeps which host is in which group, so that spec
references (a database's ``host``) can be checked offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dcctl.spec.problems import FieldPath
from dcctl.spec.types import describe

GROUP_KEYS = frozenset({"hosts", "vars", "children"})
MAX_DEPTH = 40


@dataclass(frozen=True)
class HostInventory:
    """Hosts and groups of ``hosts.yml``: ``groups`` maps a group to its direct hosts and
    ``children`` to its child groups; ``hosts`` maps a host to its variables."""

    hosts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    children: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def hosts_of(self, group: str) -> frozenset[str]:
        """Every host in ``group`` or any of its descendants."""
        seen: set[str] = set()
        found: set[str] = set()
        pending = [group]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            found |= self.groups.get(current, frozenset())
            pending.extend(self.children.get(current, frozenset()))
        return frozenset(found)


def parse_hosts(data: Any) -> tuple[HostInventory, list[tuple[FieldPath, str]]]:
    """Read the inventory's groups; also return (field path, reason) for every shape mistake."""
    problems: list[tuple[FieldPath, str]] = []
    hosts: dict[str, dict[str, Any]] = {}
    groups: dict[str, set[str]] = {}
    children: dict[str, set[str]] = {}

    def group(name: str, body: Any, path: FieldPath) -> None:
        groups.setdefault(name, set())
        children.setdefault(name, set())
        if body is None:
            return
        if len(path) > MAX_DEPTH:  # YAML aliases can make a group its own descendant
            problems.append((path, f"groups nested more than {MAX_DEPTH // 2} deep"))
            return
        if not isinstance(body, dict):
            problems.append(
                (path, f"a group is a mapping of {sorted(GROUP_KEYS)}, got {describe(body)}")
            )
            return
        for key in body:
            if key not in GROUP_KEYS:
                problems.append(
                    (
                        (*path, key),
                        f"unknown key {key!r} in group {name!r}; "
                        "a group has hosts, vars and children",
                    )
                )
        for key, value in _mapping(body, "hosts", path, problems):
            host_vars = value if value is not None else {}
            if not isinstance(host_vars, dict):
                problems.append(
                    (
                        (*path, "hosts", key),
                        f"host variables must be a mapping, got {describe(value)}",
                    )
                )
                continue
            hosts.setdefault(str(key), {}).update(host_vars)
            groups[name].add(str(key))
        _mapping(body, "vars", path, problems)  # only its shape matters here
        for key, value in _mapping(body, "children", path, problems):
            children[name].add(str(key))
            group(str(key), value, (*path, "children", key))

    if not isinstance(data, dict):
        problems.append(
            ((), f"an Ansible YAML inventory is a mapping of groups, got {describe(data)}")
        )
    else:
        for name, body in data.items():
            group(str(name), body, (name,))
    inventory = HostInventory(
        hosts=hosts,
        groups={name: frozenset(members) for name, members in groups.items()},
        children={name: frozenset(members) for name, members in children.items()},
    )
    return inventory, problems


def _mapping(
    body: dict[str, Any], key: str, path: FieldPath, problems: list[tuple[FieldPath, str]]
) -> list[tuple[str, Any]]:
    """The entries of ``body[key]``; none (and a problem) when it is not a mapping."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, dict):
        problems.append(((*path, key), f"{key} must be a mapping, got {describe(value)}"))
        return []
    return list(value.items())
