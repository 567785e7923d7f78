"""Every bad-spec case in tests/data/specs/bad/ yields exactly the problems it expects.

A case is a copy of tests/data/specs/good/minimal/ with a patch applied (see ``patching``); its
``expected`` list names, for each problem, the file, the field path, the kind and a fragment of the
reason (and optionally the line). No other problem may appear.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcctl.spec import Kind, Problem, SpecInvalid, load_site
from tests.spec.data import BAD_CASES, GOOD_SITE, TODAY
from tests.spec.patching import build_site

pytestmark = pytest.mark.unit

CASES = sorted(BAD_CASES.glob("*.yaml"))


def _load(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(case.read_text(encoding="utf-8"))
    return data


def _matches(problem: Problem, want: dict[str, Any], site: Path) -> bool:
    return (
        problem.file == str(site / want["file"])
        and problem.path == want["path"]
        and problem.kind == want["kind"]
        and want["reason"] in problem.reason
        and ("line" not in want or problem.line == want["line"])
    )


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_bad_spec(case: Path, tmp_path: Path) -> None:
    spec = _load(case)
    site = build_site(GOOD_SITE, tmp_path / "site", spec.get("patch", []))

    with pytest.raises(SpecInvalid) as raised:
        load_site(site, today=TODAY)

    problems = raised.value.problems
    listing = "\n".join(str(problem) for problem in problems)
    unmatched = list(problems)
    for want in spec["expected"]:
        found = next((p for p in unmatched if _matches(p, want, site)), None)
        assert found is not None, f"expected {want}\nbut the problems were:\n{listing}"
        unmatched.remove(found)
        text = str(found)  # what the operator reads names the file, the field and the reason
        assert text.startswith(str(site / want["file"]))
        assert f": {want['path']}: " in text if want["path"] else True
        assert want["reason"] in text
    assert not unmatched, "unexpected problems:\n" + "\n".join(map(str, unmatched))


def test_the_corpus_is_large_and_varied() -> None:
    kinds = Counter(want["kind"] for case in CASES for want in _load(case)["expected"])
    assert len(CASES) >= 50
    assert len(kinds) >= 15
    assert set(kinds) <= {kind.value for kind in Kind}


def test_every_case_is_described() -> None:
    for case in CASES:
        spec = _load(case)
        assert spec.get("description"), case.name
        assert spec.get("expected"), case.name
