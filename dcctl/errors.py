"""The one error hierarchy of dcctl.

Domain code raises these; only ``dcctl.cli`` turns them into a message and an exit code.
Every error carries a ``hint``: what the operator should do next.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every dcctl command (documented in the README)."""

    OK = 0
    ERROR = 1
    CHANGES = 2  # a plan (or check) found differences; nothing is wrong
    USAGE = 64  # bad command line (click's own 2 is remapped here)
    DATA = 65  # invalid input file: spec, plan file, audit log
    UNAVAILABLE = 69  # a service (cloud API, database, sandbox) cannot be reached
    TEMPFAIL = 75  # busy: a lock is held by another operator; retry later
    NOPERM = 77  # authentication failed or the credentials lack the rights
    CONFIG = 78  # configuration missing or wrong (clouds.yaml, site settings)
    INTERRUPTED = 130  # Ctrl-C


class DcctlError(Exception):
    """Base of every error dcctl reports to the operator."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(
        self, message: str, *, hint: str | None = None, details: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: One line per underlying problem, shown between the message and the hint.
        self.details = details

    def __str__(self) -> str:
        return self.message


class UsageError(DcctlError):
    exit_code = ExitCode.USAGE


class DataError(DcctlError):
    """An input file is invalid; the message names the file, the field and the reason."""

    exit_code = ExitCode.DATA


class ServiceUnavailable(DcctlError):
    exit_code = ExitCode.UNAVAILABLE


class Busy(DcctlError):
    exit_code = ExitCode.TEMPFAIL


class PermissionDenied(DcctlError):
    exit_code = ExitCode.NOPERM


class ConfigError(DcctlError):
    exit_code = ExitCode.CONFIG


class CloudError(DcctlError):
    """An OpenStack API call failed for a reason other than auth or reachability."""


class Aborted(DcctlError):
    """The operator declined a confirmation."""
