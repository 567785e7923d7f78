"""Ports that must never be open to any source without a waiver: the one list, kept as data.

Sources: the compliance catalog's NET-001 (remote administration) and NET-002 (database, cache and
search services), after Prowler's OpenStack security-group checks and the OpenStack Security Guide.
A rule "covers" a port when its protocol is the port's protocol or any protocol and its port range
includes the port (a missing range on tcp/udp means every port).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["admin", "database"]


@dataclass(frozen=True)
class SensitivePort:
    low: int
    high: int
    service: str
    category: Category
    protocols: frozenset[str] = frozenset({"tcp"})

    @property
    def label(self) -> str:
        ports = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return f"{ports} ({self.service})"


_TCP_UDP = frozenset({"tcp", "udp"})

ADMIN_PORTS: tuple[SensitivePort, ...] = (
    SensitivePort(22, 22, "SSH", "admin"),
    SensitivePort(23, 23, "Telnet", "admin"),
    SensitivePort(3389, 3389, "RDP", "admin", _TCP_UDP),
    SensitivePort(5985, 5986, "WinRM", "admin"),
    SensitivePort(5900, 5999, "VNC", "admin"),
    SensitivePort(2375, 2376, "Docker API", "admin"),
    SensitivePort(6443, 6443, "Kubernetes API", "admin"),
    SensitivePort(10250, 10250, "kubelet", "admin"),
)

DATABASE_PORTS: tuple[SensitivePort, ...] = (
    SensitivePort(3306, 3306, "MySQL/MariaDB", "database"),
    SensitivePort(5432, 5432, "PostgreSQL", "database"),
    SensitivePort(1433, 1433, "SQL Server", "database"),
    SensitivePort(1521, 1521, "Oracle", "database"),
    SensitivePort(27017, 27017, "MongoDB", "database"),
    SensitivePort(6379, 6379, "Redis", "database"),
    SensitivePort(9200, 9200, "Elasticsearch", "database"),
    SensitivePort(9300, 9300, "Elasticsearch transport", "database"),
    SensitivePort(5984, 5984, "CouchDB", "database"),
    SensitivePort(11211, 11211, "Memcached", "database", _TCP_UDP),
    SensitivePort(9042, 9042, "Cassandra", "database"),
    SensitivePort(5672, 5672, "AMQP (RabbitMQ)", "database"),
    SensitivePort(2379, 2379, "etcd", "database"),
)

SENSITIVE_PORTS: tuple[SensitivePort, ...] = ADMIN_PORTS + DATABASE_PORTS


def covered(
    protocol: str | None, port_min: int | None, port_max: int | None
) -> list[SensitivePort]:
    """The sensitive ports a rule with this protocol and range reaches.

    ``protocol`` None means any protocol; ``port_min``/``port_max`` None means every port.
    """
    if protocol is not None and protocol not in _TCP_UDP:
        return []  # icmp and friends carry no ports
    low = 1 if port_min is None else port_min
    high = 65535 if port_max is None else port_max
    return [
        port
        for port in SENSITIVE_PORTS
        if (protocol is None or protocol in port.protocols)
        and port.low <= high
        and low <= port.high
    ]
