"""Generated passwords of one sandbox, kept in a 0600 file and never printed or logged.

The file is created once and reused, so restarting a sandbox keeps its credentials; ``reset``
deletes it together with the databases and users it protects.
"""

from __future__ import annotations

import json
import os
import secrets as _random  # stdlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dcctl.errors import DataError

#: Every credential a sandbox needs; service users are created in Keystone under these names.
KEYS = (
    "admin",
    "db",
    "rabbit",
    "keystone",
    "glance",
    "placement",
    "nova",
    "neutron",
    "cinder",
    "swift",
    "swift_hash",
)


@dataclass(frozen=True)
class Secrets:
    values: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def __repr__(self) -> str:  # never leak a password through a traceback or a log
        return f"Secrets(<{len(self.values)} hidden>)"


def generate() -> str:
    """URL- and config-safe (letters, digits, '-' and '_'), 32 characters."""
    return _random.token_urlsafe(24)


def load_or_create(path: Path) -> Secrets:
    """Read the secrets file, adding any missing key; the file is always mode 0600."""
    values: dict[str, str] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DataError(
                f"{path}: unreadable secrets file ({error})",
                hint="run 'dcctl sandbox reset --yes-wipe' to start over with new credentials",
            ) from error
        if not isinstance(loaded, dict):
            raise DataError(f"{path}: expected a JSON object")
        values = {str(key): str(value) for key, value in loaded.items()}
    missing = [key for key in KEYS if not values.get(key)]
    for key in missing:
        values[key] = generate()
    if missing or not path.exists():
        write_private(path, json.dumps(values, indent=2, sort_keys=True) + "\n")
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return Secrets(values)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte (atomic replace)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.chmod(0o600)
    tmp.replace(path)
