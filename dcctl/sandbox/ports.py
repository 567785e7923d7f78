"""Per-sandbox port layout: every listening service sits at a fixed offset from a base port.

A fixed layout keeps two sandboxes apart by choosing two bases, and lets ``status`` name the port
of each service without asking the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from dcctl.errors import UsageError

DEFAULT_PORT_BASE = 15000
#: Offsets from the base; the span reserves room for services added later.
OFFSETS = MappingProxyType(
    {
        "keystone": 0,
        "glance": 1,
        "placement": 2,
        "nova-api": 3,
        "neutron": 4,
        "cinder-api": 5,
        "swift-proxy": 6,
        "swift-account": 7,
        "swift-container": 8,
        "swift-object": 9,
    }
)
PORT_SPAN = 20
MIN_BASE = 1024
MAX_BASE = 65535 - PORT_SPAN


@dataclass(frozen=True)
class PortLayout:
    base: int = DEFAULT_PORT_BASE

    def __post_init__(self) -> None:
        if not MIN_BASE <= self.base <= MAX_BASE:
            raise UsageError(
                f"port base {self.base} is out of range",
                hint=f"choose a base between {MIN_BASE} and {MAX_BASE}",
            )

    def port(self, service: str) -> int:
        """The port of ``service``; an unknown name is a programming error."""
        return self.base + OFFSETS[service]

    @property
    def last(self) -> int:
        return self.base + PORT_SPAN - 1

    def overlaps(self, other: PortLayout) -> bool:
        return self.base <= other.last and other.base <= self.last

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"
