"""Read one YAML file keeping, for every field path, the line it was written on.

PyYAML's composer gives each node a start mark; walking the node tree before constructing the data
gives a map ``(field path) -> line`` and finds duplicate keys, which PyYAML would otherwise
silently collapse to the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dcctl.spec.problems import FieldPath, Kind, PathPart, Problem, format_path

MERGE_TAG = "tag:yaml.org,2002:merge"
# libyaml's parser when PyYAML has it (about ten times faster); the same safe constructors.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: ``data`` as plain Python values, ``lines`` per field path (1-based)."""

    file: str
    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict, repr=False)

    def line_of(self, path: FieldPath) -> int | None:
        """The line of ``path``, or of its nearest written ancestor (a missing key → its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None

    def problem(self, path: FieldPath, reason: str, kind: Kind) -> Problem:
        return Problem(self.file, self.line_of(path), format_path(path), reason, kind.value)


def parse(file: str, text: str) -> tuple[Document | None, list[Problem]]:
    """Parse ``text`` (the contents of ``file``); on a syntax error return no document."""
    loader = _Loader(text)
    lines: dict[FieldPath, int] = {}
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(file, None, {(): 1}), problems
        walker = _Walker(loader, file)
        walker.walk(node, ())
        lines, problems = walker.lines, walker.problems
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(str(part) for part in (error.context, error.problem) if part)
        return None, [Problem(file, line, "", f"invalid YAML: {reason}", Kind.YAML_SYNTAX.value)]
    except yaml.YAMLError as error:  # e.g. an unknown tag without a mark
        return None, [Problem(file, None, "", f"invalid YAML: {error}", Kind.YAML_SYNTAX.value)]
    finally:
        loader.dispose()
    return Document(file, data, lines), problems


def read(path: Path, display: str) -> tuple[Document | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        return None, [
            Problem(display, None, "", f"not UTF-8 text: {error.reason}", Kind.YAML_SYNTAX.value)
        ]
    except OSError as error:
        return None, [
            Problem(display, None, "", f"cannot read: {error.strerror}", Kind.MISSING_FILE.value)
        ]
    return parse(display, text)


@dataclass
class _Walker:
    """Records the line of every field path and reports duplicate keys, walking composed nodes."""

    loader: yaml.SafeLoader
    file: str
    lines: dict[FieldPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    ancestors: set[int] = field(default_factory=set)

    def walk(self, node: yaml.Node, path: FieldPath) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.ancestors:
            return  # an alias to an enclosing node: the data is recursive, pydantic will say so
        self.ancestors.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*path, index))
        elif isinstance(node, yaml.MappingNode):
            self._mapping(node, path)
        self.ancestors.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> None:
        seen: dict[PathPart, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue  # merged keys keep the line of the mapping that merges them
            key = self.loader.construct_object(key_node)
            part: PathPart = (
                key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)
            )
            line = key_node.start_mark.line + 1
            if part in seen:
                self.problems.append(
                    Problem(
                        self.file,
                        line,
                        format_path((*path, part)),
                        f"key {part!r} is written twice (first on line {seen[part]}); "
                        "YAML would keep only the last one",
                        Kind.DUPLICATE_KEY.value,
                    )
                )
                continue
            seen[part] = line
            self.lines[(*path, part)] = line
            self.walk(value_node, (*path, part))
