"""Initial passwords: generated here, delivered exactly once, never logged.

The delivery file is created with mode 0600 before any password is written to it, and dcctl
prints only its path. A user whose password was set but never delivered (dcctl killed in
between) is marked in Keystone and gets a fresh password on the next apply.
"""

from __future__ import annotations

import os
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dcctl.paths import state_dir
from dcctl.redact import register_secret

_ALPHABET = string.ascii_letters + string.digits
_SYMBOLS = "-_.!@#%+="
PASSWORD_LENGTH = 20


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A random password with upper, lower, digit and symbol (typical Keystone regexes)."""
    while True:
        chars = [secrets.choice(_ALPHABET + _SYMBOLS) for _ in range(length)]
        candidate = "".join(chars)
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(c in _SYMBOLS for c in candidate)
        ):
            return register_secret(candidate)


@dataclass(frozen=True)
class Delivered:
    user: str
    agency: str
    path: Path


class CredentialDelivery:
    """Appends ``user  password`` lines to one 0600 file per run; thread-safe."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or state_dir() / "credentials"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.path = self.directory / f"initial-passwords-{stamp}-{os.getpid()}.txt"
        self._lock = threading.Lock()
        self.delivered: list[Delivered] = []

    def deliver(self, *, agency: str, user: str, password: str) -> Delivered:
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.fchmod(fd, 0o600)
                if os.fstat(fd).st_size == 0:
                    os.write(
                        fd,
                        b"# dcctl initial passwords: hand each to its user, then delete this"
                        b" file.\n# Users must change them at first login.\n",
                    )
                os.write(fd, f"{agency}\t{user}\t{password}\n".encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            item = Delivered(user=user, agency=agency, path=self.path)
            self.delivered.append(item)
            return item
