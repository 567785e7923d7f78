"""The sandbox's OpenStack venv: built once from the committed lock file, shared by every sandbox.

The venv lives in ``cache_dir()/sandbox-venv-<hash>`` where ``<hash>`` is the sha256 of
``requirements.lock``: any clone with the same lock reuses it, and a changed lock gets a new one.
It is built in a temporary directory and renamed into place only when complete, so a killed
install never leaves a half-built venv that looks valid.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from dcctl.errors import ServiceUnavailable
from dcctl.paths import cache_dir
from dcctl.progress import NullReporter, Reporter
from dcctl.sandbox import subproc

LOCK_RESOURCE = "requirements.lock"
VENV_PREFIX = "sandbox-venv-"
#: Written last; a venv directory without it is never used.
COMPLETE_MARKER = ".dcctl-complete"
HASH_CHARS = 16


def lock_text() -> str:
    return resources.files("dcctl.sandbox").joinpath(LOCK_RESOURCE).read_text(encoding="utf-8")


def lock_hash(text: str | None = None) -> str:
    """sha256 of the lock file's bytes (the venv key)."""
    data = (lock_text() if text is None else text).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def locked_requirements(text: str) -> dict[str, str]:
    """``name -> version`` of the pinned lines (comments and blanks ignored)."""
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise ValueError(f"unpinned line in lock file: {raw!r}")
        pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def script(self, name: str) -> Path:
        return self.bin / name

    @property
    def etc(self) -> Path:
        """Data files the OpenStack wheels install (paste configs, rootwrap, filters)."""
        return self.path / "etc"

    @property
    def complete(self) -> bool:
        return (self.path / COMPLETE_MARKER).is_file() and self.python.exists()


def venv_path(digest: str | None = None, base: Path | None = None) -> Path:
    return (base or cache_dir()) / f"{VENV_PREFIX}{(digest or lock_hash())[:HASH_CHARS]}"


@contextlib.contextmanager
def _install_lock(path: Path) -> Iterator[None]:
    """Serialise installs of the same venv across processes (two `up`s at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(reporter: Reporter | None = None, *, base: Path | None = None) -> Venv:
    """Return the complete venv for the current lock, building it first if needed."""
    reporter = reporter or NullReporter()
    text = lock_text()
    final = venv_path(lock_hash(text), base)
    venv = Venv(final)
    if venv.complete:
        reporter.step("venv", "ok", str(final))
        return venv
    with _install_lock(final.with_name(final.name + ".lock")):
        if venv.complete:  # another process built it while we waited
            reporter.step("venv", "ok", str(final))
            return venv
        _build(final, text, reporter)
    return venv


def _build(final: Path, text: str, reporter: Reporter) -> None:
    started = time.monotonic()
    # We hold the install lock: any temp dir of this venv is left over from a killed install.
    for stale in final.parent.glob(f"{final.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    if final.exists():  # left by an interrupted install from before the marker existed
        shutil.rmtree(final)
    try:
        reporter.step("venv", "starting", f"creating {final.name}")
        subproc.run([sys.executable, "-m", "venv", str(tmp)], what="python -m venv", timeout=300)
        lock_file = tmp / "requirements.lock"
        lock_file.write_text(text, encoding="utf-8")
        count = len(locked_requirements(text))
        reporter.step("venv", "waiting", f"pip install of {count} pinned packages (1-5 min)")
        progress = _PipProgress(reporter, count)
        subproc.run_lines(
            [
                str(tmp / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--progress-bar",
                "off",
                "-r",
                str(lock_file),
            ],
            progress,
            what="pip install -r requirements.lock",
            timeout=1800,
        )
        _retarget_scripts(tmp, final)
        (tmp / COMPLETE_MARKER).write_text(lock_hash(text) + "\n", encoding="utf-8")
        tmp.rename(final)
    except BaseException as error:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(error, subproc.CommandFailed):
            raise ServiceUnavailable(
                f"could not install the sandbox's OpenStack packages: {error.message}",
                hint="check network access to PyPI; pip's cache makes a retry faster",
            ) from error
        raise
    reporter.step("venv", "done", f"{time.monotonic() - started:.0f} s")


class _PipProgress:
    """Turns pip's output into a few progress steps (every 25 packages, then the install)."""

    EVERY = 25

    def __init__(self, reporter: Reporter, total: int) -> None:
        self._reporter = reporter
        self._total = total
        self._collected = 0

    def __call__(self, line: str) -> None:
        if line.startswith("Collecting "):
            self._collected += 1
            if self._collected % self.EVERY == 0:
                self._reporter.step("venv", "waiting", f"{self._collected}/{self._total} resolved")
        elif line.startswith("Installing collected packages"):
            self._reporter.step("venv", "waiting", f"installing {self._total} packages")


def _retarget_scripts(tmp: Path, final: Path) -> None:
    """Point the console scripts' shebangs (and activate scripts) at the final venv path.

    pip writes absolute interpreter paths into ``bin/``; after the rename they must name the
    final directory, or ``openstack`` and ``nova-manage`` would look for the deleted temp dir.
    """
    old, new = str(tmp).encode(), str(final).encode()
    for entry in (tmp / "bin").iterdir():
        if entry.is_symlink() or not entry.is_file():
            continue
        data = entry.read_bytes()
        if old not in data[:4096] and not entry.name.startswith("activate"):
            continue
        mode = entry.stat().st_mode
        entry.write_bytes(data.replace(old, new))
        entry.chmod(mode)
    cfg = tmp / "pyvenv.cfg"
    if cfg.is_file():
        cfg.write_bytes(cfg.read_bytes().replace(old, new))
