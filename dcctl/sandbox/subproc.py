"""The one place the sandbox runs other programs: every subprocess goes through here.

Keeping subprocess I/O behind two functions (:func:`run` for commands that finish, :func:`spawn`
for background services) keeps the rest of the package pure enough for unit tests, and makes sure
no command ever goes through a shell.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dcctl.errors import DcctlError

#: Output kept from a failed command in error messages.
TAIL_CHARS = 4000


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, chars: int = TAIL_CHARS) -> str:
        text = (self.stdout + "\n" + self.stderr).strip()
        return text[-chars:]


class CommandFailed(DcctlError):
    """A command the sandbox needs exited non-zero; the message carries its output tail."""


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = 600,
    cwd: Path | None = None,
    check: bool = True,
    what: str = "",
) -> Completed:
    """Run a command to completion and capture its output (never through a shell)."""
    try:
        proc = subprocess.run(
            list(argv),
            env=dict(env) if env is not None else None,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            check=False,
        )
    except FileNotFoundError as error:
        raise CommandFailed(f"{what or argv[0]}: command not found ({argv[0]})") from error
    except subprocess.TimeoutExpired as error:
        raise CommandFailed(f"{what or argv[0]}: timed out after {timeout:.0f} s") from error
    result = Completed(tuple(argv), proc.returncode, proc.stdout or "", proc.stderr or "")
    if check and not result.ok:
        raise CommandFailed(
            f"{what or ' '.join(argv[:3])} failed (exit {result.returncode}):\n{result.tail()}"
        )
    return result


def run_lines(
    argv: Sequence[str],
    on_line: Callable[[str], None],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
    what: str = "",
) -> None:
    """Run a command, handing each output line to ``on_line`` (for progress), check exit 0."""
    deadline = time.monotonic() + timeout
    kept: deque[str] = deque(maxlen=60)
    with subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None  # noqa: S101 - guaranteed by stdout=PIPE
        for line in proc.stdout:
            kept.append(line.rstrip("\n"))
            on_line(line.rstrip("\n"))
            if time.monotonic() > deadline:
                proc.kill()
                raise CommandFailed(f"{what or argv[0]}: timed out after {timeout:.0f} s")
        returncode = proc.wait()
    if returncode != 0:
        tail = "\n".join(kept)[-TAIL_CHARS:]
        raise CommandFailed(f"{what or argv[0]} failed (exit {returncode}):\n{tail}")


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path,
) -> int:
    """Start a background service in its own session, output appended to ``log_path``.

    The child is exec'ed directly (no wrapping shell), so the returned pid is the service itself.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    # The Popen object is dropped on purpose: the service outlives this process. Its exit status
    # is reaped by reap() if it dies while we still run.
    return proc.pid


def reap(pid: int) -> None:
    """Collect the exit status of a child we spawned, so that it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return


def which(name: str) -> str | None:
    return shutil.which(name)
