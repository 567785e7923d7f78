"""Readiness probes: when is a service actually usable, not merely started.

APIs are ready when their port answers HTTP with a non-5xx status. RPC workers are ready when
their topic queue in the sandbox's RabbitMQ vhost has a consumer: a message cast to a queue
nobody consumes yet is lost, so "process alive" is not enough, and the services' database
heartbeat comes seconds later than the consumer (nova's first one 5 s after start).
"""

from __future__ import annotations

import http.client
import socket

import pymysql

from dcctl.sandbox import amqp, database
from dcctl.sandbox.database import SandboxDB
from dcctl.sandbox.settings import SandboxSettings


def http_status(port: int, path: str = "/", timeout: float = 2.0) -> int | None:
    """HTTP status of ``GET http://127.0.0.1:<port><path>``, or None if nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def api_ready(port: int, path: str = "/") -> bool:
    status = http_status(port, path)
    return status is not None and status < 500


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def rpc_consumers(settings: SandboxSettings, password: str, queue: str) -> int:
    """Consumers of an RPC topic queue in the sandbox's vhost (0 if unknown or unreachable)."""
    try:
        with amqp.Probe(
            database.RABBIT_HOST,
            database.RABBIT_PORT,
            user=settings.rabbit_user,
            password=password,
            vhost=settings.rabbit_vhost,
        ) as probe:
            return probe.consumers(queue)
    except (OSError, amqp.AMQPError):
        return 0


def heartbeat_fresh(db: SandboxDB, logical: str, binary: str, window: int = 50) -> bool:
    """The service row is "up" the way nova and cinder judge it (updated within the window).

    After a restart the rows carry the last run's time; until the first new heartbeat the
    schedulers treat the service as down (service_down_time is 60 s), so a worker is ready only
    when this holds as well as its queue having a consumer.
    """
    try:
        rows = db.query(
            logical,
            "SELECT COUNT(*) FROM services WHERE `binary` = %s AND deleted = 0 "
            "AND updated_at >= UTC_TIMESTAMP() - INTERVAL %s SECOND",
            (binary, window),
        )
    except pymysql.err.MySQLError:
        return False
    return bool(rows and rows[0][0])


def compute_in_placement(db: SandboxDB) -> bool:
    """nova-compute has created its resource provider and reported inventory to Placement."""
    try:
        rows = db.query(
            "placement",
            "SELECT COUNT(*) FROM resource_providers rp "
            "JOIN inventories i ON i.resource_provider_id = rp.id",
        )
    except pymysql.err.MySQLError:
        return False
    return bool(rows and rows[0][0])


def unmapped_compute_hosts(db: SandboxDB) -> list[str]:
    """Compute hosts of cell1 that have no host mapping yet (``discover_hosts`` needed)."""
    try:
        hosts = {
            str(row[0])
            for row in db.query(
                "nova", "SELECT host FROM compute_nodes WHERE deleted = 0 AND host IS NOT NULL"
            )
        }
        mapped = {str(row[0]) for row in db.query("nova_api", "SELECT host FROM host_mappings")}
    except pymysql.err.MySQLError:
        return []
    return sorted(hosts - mapped)


def hosts_mapped(db: SandboxDB) -> bool:
    """At least one compute host is mapped to a cell (the scheduler can place servers)."""
    try:
        rows = db.query("nova_api", "SELECT COUNT(*) FROM host_mappings")
    except pymysql.err.MySQLError:
        return False
    return bool(rows and rows[0][0])
