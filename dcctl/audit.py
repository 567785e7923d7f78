"""Append-only, hash-chained audit log of every change dcctl makes.

Each line is one JSON object; its ``hash`` covers the record and the previous line's hash, so
editing, deleting, inserting or reordering any line breaks the chain from that line on.
Appends take an exclusive ``flock`` on the file, so operators sharing the log (a bastion host,
or an NFSv4 mount) never interleave or fork the chain.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from dcctl.errors import DataError

GENESIS = "0" * 64
# Keys whose values never reach the log, whatever a caller passes in.
SECRET_KEYS = frozenset(
    {"password", "original_password", "secret", "token", "auth_token", "credential", "blob"}
)
REDACTED = "***"


@dataclass(frozen=True)
class AuditEvent:
    """One change as the engine describes it; the log adds who, when and the chain."""

    action: str  # create / update / delete / adopt / suspend / resume / backup …
    resource: str  # e.g. "network soyte-net"
    agency: str | None = None
    cloud: str | None = None
    cloud_user: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


@dataclass(frozen=True)
class Verification:
    path: Path
    records: int
    problems: tuple[Problem, ...]
    head: str

    @property
    def ok(self) -> bool:
        return not self.problems


def operator_identity() -> str:
    """Who ran dcctl: the OS login on this host (the cloud user is recorded separately)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-looking key's value replaced."""
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if str(key).lower() in SECRET_KEYS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def record_hash(record: Mapping[str, Any]) -> str:
    body = {key: value for key, value in record.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, event: AuditEvent) -> str:
        """Write one event; returns its hash. Durable (fsync) before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked() as handle:
            previous = _last_record(handle)
            record: dict[str, Any] = {
                "seq": (previous["seq"] + 1) if previous else 1,
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "operator": operator_identity(),
                "cloud": event.cloud,
                "cloud_user": event.cloud_user,
                "agency": event.agency,
                "action": event.action,
                "resource": event.resource,
                "before": redact(event.before) if event.before is not None else None,
                "after": redact(event.after) if event.after is not None else None,
                "detail": redact(dict(event.detail)),
                "prev": previous["hash"] if previous else GENESIS,
            }
            record["hash"] = record_hash(record)
            handle.seek(0, os.SEEK_END)
            line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
            return str(record["hash"])

    def records(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError as error:
                        raise DataError(
                            f"{self.path}:{number}: not a JSON audit record ({error.msg})",
                            hint="run 'dcctl audit verify' to see every damaged line",
                        ) from error

    def verify(self) -> Verification:
        """Walk the chain; every broken link is reported with its line number."""
        problems: list[Problem] = []
        expected_prev, expected_seq, count = GENESIS, 1, 0
        if not self.path.exists():
            return Verification(self.path, 0, (Problem(0, "audit log does not exist"),), GENESIS)
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    problems.append(Problem(number, "blank line inserted"))
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    problems.append(Problem(number, "not valid JSON"))
                    continue
                count += 1
                if not isinstance(record, dict) or "hash" not in record:
                    problems.append(Problem(number, "record has no hash"))
                    continue
                if record.get("seq") != expected_seq:
                    problems.append(
                        Problem(
                            number, f"sequence {record.get('seq')} where {expected_seq} was due"
                        )
                    )
                if record.get("prev") != expected_prev:
                    problems.append(
                        Problem(number, "previous-hash link broken (line removed or reordered)")
                    )
                if record_hash(record) != record["hash"]:
                    problems.append(Problem(number, "content does not match its hash (edited)"))
                expected_prev = str(record["hash"])
                expected_seq = int(record.get("seq", expected_seq)) + 1
        return Verification(self.path, count, tuple(problems), expected_prev)

    @contextmanager
    def _locked(self) -> Iterator[IO[bytes]]:
        with self.path.open("a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _last_record(handle: IO[bytes]) -> dict[str, Any] | None:
    """The last complete record, read backwards from the end so big logs stay cheap."""
    position = handle.seek(0, os.SEEK_END)
    tail = b""
    while position > 0:
        step = min(4096, position)
        position -= step
        handle.seek(position)
        tail = handle.read(step) + tail
        lines = [line for line in tail.split(b"\n") if line.strip()]
        if len(lines) >= 2 or (position == 0 and lines):
            try:
                parsed = json.loads(lines[-1].decode("utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise DataError(
                    f"{handle.name}: the last line is damaged; refusing to extend a broken chain",
                    hint="run 'dcctl audit verify' and restore the log from its backup",
                ) from error
            if not isinstance(parsed, dict) or "hash" not in parsed:
                raise DataError(f"{handle.name}: the last line is not an audit record")
            return parsed
    return None
