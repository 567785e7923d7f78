"""A lease lock kept in the cloud, so operators on different machines exclude each other.

The lock is a disabled Keystone project named ``dcctl-lock-<key>`` in the site's domain:
Keystone refuses a second project of the same name in a domain, which makes creation an atomic
test-and-set that every operator's dcctl sees. The project's description holds the holder and
the lease expiry; the holder renews it in the background. A holder killed with -9 stops renewing,
and the next operator deletes the expired lock (by id, so a fresh lock is never removed) and
takes it. Clocks are compared in UTC; the operators' machines are expected to run NTP.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

from openstack import exceptions as sdk
from openstack.connection import Connection

from dcctl.audit import operator_identity
from dcctl.cloud.proxies import identity
from dcctl.cloud.retry import DEFAULT_BACKOFF, is_conflict, is_transient, retry_read
from dcctl.errors import Busy, DcctlError

log = logging.getLogger(__name__)
LOCK_TAG = "dcctl-lock"
LOCK_PREFIX = "dcctl-lock-"


@dataclass(frozen=True)
class LockInfo:
    id: str
    key: str
    holder: str
    since: datetime
    expires: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires

    def describe(self) -> str:
        return f"{self.holder} since {self.since:%Y-%m-%d %H:%M:%S} UTC"


class LockLost(DcctlError):
    """Our lease lapsed and another operator took the lock; stop writing."""


class CloudLock:
    def __init__(
        self,
        conn: Connection,
        *,
        domain_id: str,
        key: str,
        lease_s: float = 60.0,
        wait_s: float = 0.0,
        poll_s: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_wait: Callable[[LockInfo], None] | None = None,
    ) -> None:
        self._conn = conn
        self._domain_id = domain_id
        self.key = key
        self.name = f"{LOCK_PREFIX}{key}"
        self._lease = timedelta(seconds=lease_s)
        self._wait_s = wait_s
        self._poll_s = poll_s
        self._clock = clock
        self._on_wait = on_wait
        self._holder = f"{operator_identity()} pid {os.getpid()}"
        self._id: str | None = None
        self._since: datetime | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = threading.Event()

    # -- public ----------------------------------------------------------------------------------
    def acquire(self) -> None:
        deadline = time.monotonic() + self._wait_s
        announced = False
        while True:
            current = self._try_create()
            if current is None:
                self._start_renewing()
                return
            if current.expired(self._clock()):
                log.warning("lock %s: lease of %s expired; taking over", self.name, current.holder)
                self._delete(current.id)
                continue
            if time.monotonic() >= deadline:
                raise Busy(
                    f"{self.key} is locked by {current.describe()} "
                    f"(lease until {current.expires:%H:%M:%S} UTC)",
                    hint="wait for that operation to finish (or pass --wait SECONDS); if its "
                    "dcctl died, the lease expires on its own",
                )
            if not announced and self._on_wait is not None:
                self._on_wait(current)
                announced = True
            time.sleep(self._poll_s)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
        if self._id is not None:
            self._delete(self._id)
            self._id = None

    def check(self) -> None:
        """Raise if the lease was lost; call between writes."""
        if self.lost.is_set():
            raise LockLost(
                f"lost the lock on {self.key}: the lease was not renewed in time",
                hint="re-run; nothing is left half-done that the next run cannot repair",
            )

    def __enter__(self) -> CloudLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    # -- internals -------------------------------------------------------------------------------
    def _payload(self, now: datetime) -> str:
        since = self._since or now
        return json.dumps(
            {
                "holder": self._holder,
                "host": socket.gethostname(),
                "since": since.isoformat(),
                "expires": (now + self._lease).isoformat(),
            }
        )

    def _try_create(self, attempt: int = 0) -> LockInfo | None:
        """None when we now hold the lock, else the current holder's lock."""
        ident = identity(self._conn)
        now = self._clock()
        self._since = now
        payload = self._payload(now)
        try:
            project = ident.create_project(
                name=self.name,
                domain_id=self._domain_id,
                enabled=False,
                description=payload,
                tags=[LOCK_TAG],
            )
        except Exception as error:
            if is_conflict(error):
                current = retry_read(self._read, what=f"read lock {self.name}")
                if current is None:
                    return self._try_create(attempt)  # released between our create and read
                return current
            if not is_transient(error) or attempt + 1 >= DEFAULT_BACKOFF.attempts:
                raise
            # A 503 or a lost answer: the create may have gone through. Ours carries our payload.
            current = retry_read(self._read, what=f"read lock {self.name}")
            if current is not None and current.holder == self._holder and current.since == now:
                self._id = current.id
                return None
            if current is not None:
                return current
            time.sleep(DEFAULT_BACKOFF.delays()[attempt])
            return self._try_create(attempt + 1)
        self._id = str(project.id)
        return None

    def _read(self) -> LockInfo | None:
        ident = identity(self._conn)
        found = list(ident.projects(domain_id=self._domain_id, name=self.name))
        if not found:
            return None
        return _parse(found[0], self.key)

    def _delete(self, project_id: str) -> None:
        ident = identity(self._conn)
        try:
            retry_read(
                lambda: ident.delete_project(project_id, ignore_missing=True),
                what=f"delete lock {self.name}",
            )
        except sdk.SDKException as error:
            log.warning("lock %s: could not delete (%s)", self.name, error)

    def _start_renewing(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"lock-{self.key}", daemon=True
        )
        self._renewer.start()

    def _renew_loop(self) -> None:
        interval = max(self._lease.total_seconds() / 4, 0.5)
        while not self._stop.wait(interval):
            project_id = self._id
            if project_id is None:
                return
            try:
                identity(self._conn).update_project(
                    project_id, description=self._payload(self._clock())
                )
            except sdk.NotFoundException:
                log.error("lock %s: taken over by another operator", self.name)
                self.lost.set()
                return
            except Exception as error:  # keep trying: a blip must not drop the lock
                log.warning("lock %s: renewal failed (%s)", self.name, error)


def _parse(project: Any, key: str) -> LockInfo:
    try:
        data = json.loads(project.description or "{}")
        return LockInfo(
            id=str(project.id),
            key=key,
            holder=str(data["holder"]),
            since=datetime.fromisoformat(data["since"]),
            expires=datetime.fromisoformat(data["expires"]),
        )
    except (ValueError, KeyError, TypeError):
        # Unreadable lock: treat as expired now so it cannot wedge everyone forever.
        epoch = datetime.fromtimestamp(0, UTC)
        return LockInfo(str(project.id), key, "unknown holder", epoch, epoch)


def list_locks(conn: Connection, domain_id: str) -> list[LockInfo]:
    ident = identity(conn)
    return [
        _parse(project, str(project.name).removeprefix(LOCK_PREFIX))
        for project in ident.projects(domain_id=domain_id, tags=LOCK_TAG)
    ]


def reap_expired(
    conn: Connection,
    domain_id: str,
    keys: set[str],
    *,
    now: datetime | None = None,
) -> list[LockInfo]:
    """Delete the expired locks among ``keys`` (left by a dcctl that died); returns them."""
    moment = now or datetime.now(UTC)
    reaped = []
    for info in list_locks(conn, domain_id):
        if info.key in keys and info.expired(moment):
            identity(conn).delete_project(info.id, ignore_missing=True)
            log.info("removed expired lock of %s (%s)", info.key, info.describe())
            reaped.append(info)
    return reaped
