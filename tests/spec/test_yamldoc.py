"""Lines of fields, duplicate keys and syntax errors of the YAML reader."""

from __future__ import annotations

import pytest

from dcctl.spec import Kind
from dcctl.spec.yamldoc import parse

pytestmark = pytest.mark.unit

TEXT = """\
code: alpha
networks:
  - name: a
    cidr: 10.0.0.0/24
  - {name: b, cidr: 10.0.1.0/24}
levels:
  3: {x: 1}
base: &base {y: 2}
merged:
  <<: *base
  z: 3
"""


def test_every_field_path_has_its_line() -> None:
    doc, problems = parse("f.yaml", TEXT)
    assert doc is not None
    assert not problems
    assert doc.line_of(("code",)) == 1
    assert doc.line_of(("networks", 0, "cidr")) == 4
    assert doc.line_of(("networks", 1)) == 5
    assert doc.line_of(("networks", 1, "cidr")) == 5
    assert doc.line_of(("levels", 3, "x")) == 7
    assert doc.line_of(("networks", 0, "missing")) == 3  # nearest written ancestor
    assert doc.line_of(("merged", "y")) == 9  # merged keys: the line of the merging mapping
    assert doc.data["merged"] == {"y": 2, "z": 3}


def test_duplicate_keys_are_problems_with_both_lines() -> None:
    _, problems = parse("f.yaml", "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert [(p.line, p.path, p.kind) for p in problems] == [
        (4, "b.c", Kind.DUPLICATE_KEY),
        (5, "a", Kind.DUPLICATE_KEY),
    ]
    assert "first on line 3" in problems[0].reason


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: [1, 2\n", 2), ("a: 1\n b: 2\n", 2), ("a: !python/object 1\n", 1), ("a: *nowhere\n", 1)],
)
def test_syntax_errors_have_a_line_and_no_document(text: str, line: int) -> None:
    doc, problems = parse("f.yaml", text)
    assert doc is None
    (problem,) = problems
    assert problem.kind == Kind.YAML_SYNTAX
    assert problem.line == line
    assert problem.reason.startswith("invalid YAML")


def test_recursive_aliases_do_not_loop() -> None:
    doc, problems = parse("f.yaml", "a: &x\n  b: *x\n")
    assert doc is not None
    assert not problems
    assert doc.line_of(("a", "b")) == 2
