"""Every bad spec of the corpus, fed to `tenant plan` and `tenant apply --yes` against the real
sandbox through a recording proxy: a clear error naming file, field and reason, exit 65, and not
one write request reaches the cloud."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcctl.cli.main import run
from tests.spec.data import BAD_CASES, GOOD_SITE
from tests.spec.patching import build_site
from tests.support.cloudproxy import ProxiedCloud, proxied_cloud

pytestmark = pytest.mark.integration

CASES = sorted(BAD_CASES.glob("*.yaml"))


@pytest.fixture(scope="module")
def recorded(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxiedCloud]:
    clouds_file = Path(sandbox.clouds_file)
    entry = yaml.safe_load(clouds_file.read_text())["clouds"][sandbox.cloud]
    conn = sandbox.connect()
    with proxied_cloud(conn, entry, tmp_path_factory.mktemp("proxy")) as cloud:
        yield cloud


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_bad_spec_changes_nothing(
    case: Path,
    tmp_path: Path,
    recorded: ProxiedCloud,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    site = build_site(GOOD_SITE, tmp_path / "site", spec.get("patch", []))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(recorded.clouds_file))
    monkeypatch.setenv("DCCTL_STATE_DIR", str(tmp_path / "state"))
    recorded.proxy.clear()
    for command in (["plan", "--all"], ["apply", "--all", "--yes"]):
        code = run(["--cloud", recorded.cloud, "tenant", *command, "--site", str(site)])
        output = capsys.readouterr()
        text = output.out + output.err
        assert code == 65, text
        want = spec["expected"][0]
        assert str(site / want["file"]) in text
        if want["path"]:
            assert want["path"] in text
        assert want["reason"] in text
    assert recorded.proxy.writes() == [], [(r.method, r.path) for r in recorded.proxy.writes()]
    assert recorded.proxy.records == ()  # the spec is refused before dcctl even logs in


def test_the_corpus_is_big_enough() -> None:
    kinds = {yaml.safe_load(c.read_text())["expected"][0]["kind"] for c in CASES}
    assert len(CASES) >= 50
    assert len(kinds) >= 15
