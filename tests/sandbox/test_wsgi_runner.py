"""The sandbox's WSGI runner with ``--processes``: several workers serve one port, a stop reaches
all of them, and a worker that dies takes the service down whole (so the lifecycle sees it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dcctl.sandbox import processes
from dcctl.sandbox.installer import Venv, venv_path

pytestmark = pytest.mark.integration

RUNNER_ARGS = ("--prog", "tiny", "--app", "tinyapp:application", "--processes", "2", "--port")
PLUGINS = Path(__file__).resolve().parents[2] / "dcctl" / "sandbox" / "plugins"
APP = """
import os, time
def application(environ, start_response):
    time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> set[int]:
    """The runner's workers: the other live members of the session it leads."""
    return {stat.pid for stat in processes.all_stats() if stat.session == pid and stat.pid != pid}


def _gone(pids: set[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(processes.read_stat(pid) is None for pid in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def runner(sandbox: Any, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    (tmp_path / "tinyapp.py").write_text(APP)
    port = _free_port()
    process = subprocess.Popen(
        [str(Venv(venv_path()).python), "-m", "dcctl_sbx_wsgi", *RUNNER_ARGS, str(port)],
        env={**os.environ, "PYTHONPATH": f"{PLUGINS}{os.pathsep}{tmp_path}"},
        start_new_session=True,
    )
    try:
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _ask(port: int) -> int:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                return int(answer.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_two_workers_serve_one_port_and_stop_together(
    runner: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = runner
    _ask(port)  # both workers have imported the app once one answers … give the other a moment
    time.sleep(0.5)
    workers = _children(process.pid)
    assert len(workers) == 2
    with ThreadPoolExecutor(16) as pool:
        answered = set(pool.map(lambda _: _ask(port), range(64)))
    assert answered <= workers and answered
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert _gone(workers)


def test_a_dead_worker_takes_the_service_down(
    runner: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = runner
    _ask(port)
    time.sleep(0.5)
    first, second = sorted(_children(process.pid))
    os.kill(first, signal.SIGKILL)
    assert process.wait(timeout=15) != 0
    assert _gone({second})
