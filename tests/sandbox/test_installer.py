"""The lock file and the venv key derived from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dcctl.sandbox import installer

pytestmark = pytest.mark.unit


def test_lock_hash_is_the_sha256_of_the_lock_bytes() -> None:
    import hashlib

    text = installer.lock_text()
    assert installer.lock_hash() == hashlib.sha256(text.encode()).hexdigest()
    assert installer.lock_hash("a==1\n") != installer.lock_hash("a==2\n")


def test_venv_path_is_keyed_by_the_lock(tmp_path: Path) -> None:
    path = installer.venv_path("ab" * 32, tmp_path)
    assert path == tmp_path / ("sandbox-venv-" + "ab" * 8)


def test_the_lock_pins_the_openstack_release() -> None:
    pins = installer.locked_requirements(installer.lock_text())
    expected = {
        "keystone": "30.0.0",
        "glance": "33.0.0",
        "openstack-placement": "16.0.0",
        "nova": "34.0.0",
        "neutron": "29.0.0",
        "cinder": "29.0.0",
    }
    assert {name: pins[name] for name in expected} == expected
    for needed in ("pymysql", "waitress", "pyroute2", "python-swiftclient", "zstd"):
        assert needed in pins
    assert "openstacksdk" in pins
    assert "python-openstackclient" in pins  # the benchmarks use the openstack CLI


def test_unpinned_lines_are_refused() -> None:
    with pytest.raises(ValueError, match="unpinned"):
        installer.locked_requirements("nova>=34\n")


def test_an_incomplete_venv_is_not_complete(tmp_path: Path) -> None:
    venv = installer.Venv(tmp_path / "v")
    (venv.bin).mkdir(parents=True)
    (venv.python).write_text("")
    assert not venv.complete
    (venv.path / installer.COMPLETE_MARKER).write_text("x")
    assert venv.complete


def test_scripts_are_retargeted_to_the_final_path(tmp_path: Path) -> None:
    tmp, final = tmp_path / "venv.tmp-1", tmp_path / "venv"
    (tmp / "bin").mkdir(parents=True)
    script = tmp / "bin" / "nova-manage"
    script.write_text(f"#!{tmp}/bin/python\nimport sys\n")
    script.chmod(0o755)
    (tmp / "bin" / "activate").write_text(f'VIRTUAL_ENV="{tmp}"\n')
    installer._retarget_scripts(tmp, final)
    assert script.read_text().startswith(f"#!{final}/bin/python\n")
    assert script.stat().st_mode & 0o777 == 0o755
    assert str(final) in (tmp / "bin" / "activate").read_text()


class FakePip:
    """Stands in for ``python -m venv`` and pip: makes a venv skeleton, optionally fails."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def run(self, argv: list[str], **_: object) -> None:
        target = Path(argv[-1])
        (target / "bin").mkdir(parents=True)
        (target / "bin" / "python").write_text("")
        (target / "bin" / "openstack").write_text(f"#!{target}/bin/python\n")

    def run_lines(self, argv: list[str], on_line: object, **_: object) -> None:
        if self.fail:
            raise installer.subproc.CommandFailed("pip install failed (exit 1):\nno network")


@pytest.mark.parametrize("fail", [False, True])
def test_the_venv_appears_complete_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    fake = FakePip(fail)
    monkeypatch.setattr(installer.subproc, "run", fake.run)
    monkeypatch.setattr(installer.subproc, "run_lines", fake.run_lines)
    # a temp dir left by an install that was killed earlier
    leftover = installer.venv_path(base=tmp_path).with_name(
        installer.venv_path(base=tmp_path).name + ".tmp-99999"
    )
    leftover.mkdir(parents=True)
    if fail:
        from dcctl.errors import ServiceUnavailable

        with pytest.raises(ServiceUnavailable, match="no network"):
            installer.ensure_venv(base=tmp_path)
        assert not installer.venv_path(base=tmp_path).exists()
    else:
        venv = installer.ensure_venv(base=tmp_path)
        assert venv.complete
        assert (venv.bin / "openstack").read_text() == f"#!{venv.path}/bin/python\n"
    assert list(tmp_path.glob("*.tmp-*")) == []
