"""Retries that never duplicate a resource.

Reads are retried on transient faults (connection lost, 502/503/504, timeouts). A create is
never blindly re-sent: after a fault the resource is first looked up by its marker (tag or
unique name), because the cloud may have applied the create and only the answer was lost.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from keystoneauth1 import exceptions as ka
from openstack import exceptions as sdk

T = TypeVar("T")
log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    attempts: int = 6
    base_s: float = 0.25
    cap_s: float = 8.0

    def delays(self) -> list[float]:
        """Full-jitter exponential delays between attempts."""
        return [
            random.uniform(0, min(self.cap_s, self.base_s * 2**n))  # noqa: S311 - not crypto
            for n in range(self.attempts - 1)
        ]


DEFAULT_BACKOFF = Backoff()


def status_of(error: BaseException) -> int | None:
    code = getattr(error, "status_code", None) or getattr(error, "http_status", None)
    return int(code) if isinstance(code, int) else None


def is_transient(error: BaseException) -> bool:
    if isinstance(
        error,
        ka.ConnectFailure
        | ka.ConnectTimeout
        | ka.RetriableConnectionFailure
        | ka.UnknownConnectionError
        | requests.ConnectionError
        | requests.Timeout,
    ):
        return True
    cause = error.__cause__ or error.__context__
    if (
        isinstance(error, sdk.SDKException)
        and cause is not None
        and cause is not error
        and is_transient(cause)
    ):
        return True
    status = status_of(error)
    return status in TRANSIENT_STATUS


def is_conflict(error: BaseException) -> bool:
    return status_of(error) == 409 or isinstance(error, sdk.ConflictException)


def retry_read(read: Callable[[], T], *, what: str, backoff: Backoff = DEFAULT_BACKOFF) -> T:
    """Run an idempotent call, retrying transient faults with backoff."""
    delays = backoff.delays()
    for attempt in range(backoff.attempts):
        try:
            return read()
        except Exception as error:
            if not is_transient(error) or attempt >= len(delays):
                raise
            log.info("%s: transient fault (%s); retry %d", what, _brief(error), attempt + 1)
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover


def create_once(
    create: Callable[[], T],
    find: Callable[[], T | None],
    *,
    what: str,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> T:
    """Create a resource exactly once, even when answers are lost or the service flaps.

    ``find`` must locate the resource by the marker ``create`` puts on it (a tag set in the
    create request, or a name the API keeps unique).
    """
    delays = backoff.delays()
    for attempt in range(backoff.attempts):
        try:
            return create()
        except Exception as error:
            if is_conflict(error):
                existing = retry_read(find, what=f"{what} (lookup after conflict)")
                if existing is not None:
                    log.info("%s: already exists (409); using it", what)
                    return existing
                raise
            if not is_transient(error) or attempt >= len(delays):
                raise
            log.info("%s: create answer lost (%s); looking it up", what, _brief(error))
            time.sleep(delays[attempt])
            existing = retry_read(find, what=f"{what} (lookup after fault)")
            if existing is not None:
                log.info("%s: the cloud had created it; using it", what)
                return existing
    raise AssertionError("unreachable")  # pragma: no cover


def _brief(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
