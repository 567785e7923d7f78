"""How long-running domain operations report progress without printing.

The domain calls a ``Reporter``; the CLI supplies one that draws on stderr, tests supply a
recorder, and library callers (the Ansible module) the silent default.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def step(self, subject: str, status: str, detail: str = "") -> None:
        """One unit of work changed state, e.g. ``("keystone", "ready", "2.1 s")``."""

    def warn(self, message: str) -> None:
        """Something the operator should know about that does not stop the work."""


class NullReporter:
    def step(self, subject: str, status: str, detail: str = "") -> None:
        return None

    def warn(self, message: str) -> None:
        return None


class RecordingReporter:
    """Keeps every event; used by tests and by callers that render afterwards."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str, str]] = []
        self.warnings: list[str] = []

    def step(self, subject: str, status: str, detail: str = "") -> None:
        self.steps.append((subject, status, detail))

    def warn(self, message: str) -> None:
        self.warnings.append(message)
