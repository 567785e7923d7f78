"""Per-sandbox MariaDB databases and user, and a per-sandbox RabbitMQ vhost and user.

Services never run as MariaDB root: each sandbox gets its own user with rights on its own
databases only, and its own RabbitMQ vhost, so two sandboxes on one machine cannot cross-talk.
The admin connection tries TCP as root with an empty password first (this machine), then the
unix socket (fresh Debian/Ubuntu, where root authenticates by socket credentials only).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from dcctl.errors import ServiceUnavailable
from dcctl.sandbox import subproc
from dcctl.sandbox.settings import SandboxSettings

DB_HOST = "127.0.0.1"
DB_PORT = 3306
SOCKET_PATHS = (Path("/run/mysqld/mysqld.sock"), Path("/var/run/mysqld/mysqld.sock"))
RABBIT_HOST = "127.0.0.1"
RABBIT_PORT = 5672
#: Hosts the sandbox user may connect from (TCP to 127.0.0.1 can be seen as either).
USER_HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class AdminTarget:
    """How to reach MariaDB as an administrator."""

    host: str = DB_HOST
    port: int = DB_PORT
    user: str = "root"
    password: str = ""
    unix_socket: Path | None = None

    def describe(self) -> str:
        return f"unix socket {self.unix_socket}" if self.unix_socket else f"{self.host}:{self.port}"


def _connect(
    target: AdminTarget, database: str | None = None
) -> pymysql.connections.Connection[Any]:
    kwargs: dict[str, Any] = {
        "user": target.user,
        "password": target.password,
        "connect_timeout": 5,
        "autocommit": True,
        "charset": "utf8mb4",
    }
    if database:
        kwargs["database"] = database
    if target.unix_socket:
        kwargs["unix_socket"] = str(target.unix_socket)
    else:
        kwargs["host"], kwargs["port"] = target.host, target.port
    return pymysql.connect(**kwargs)


def admin_targets() -> list[AdminTarget]:
    targets = [AdminTarget()]
    sockets = {path.resolve() for path in SOCKET_PATHS if path.exists()}
    targets += [AdminTarget(unix_socket=path) for path in sorted(sockets)]
    return targets


def find_admin() -> AdminTarget:
    """The first way of logging in as MariaDB root that works, or a clear error."""
    errors: list[str] = []
    for target in admin_targets():
        try:
            _connect(target).close()
        except pymysql.err.MySQLError as error:
            errors.append(f"{target.describe()}: {error.args[-1] if error.args else error}")
            continue
        return target
    raise ServiceUnavailable(
        "cannot log in to MariaDB as root (" + "; ".join(errors) + ")",
        hint="start MariaDB on 127.0.0.1:3306 (root without password over TCP, or root over the "
        "unix socket), or run 'dcctl sandbox up --with-deps' as root to install and start it",
    )


@contextlib.contextmanager
def admin_cursor(target: AdminTarget) -> Iterator[pymysql.cursors.Cursor]:
    conn = _connect(target)
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def provisioning_statements(
    settings: SandboxSettings, password: str
) -> list[tuple[str, tuple[str, ...]]]:
    """The SQL (with parameters) that creates the sandbox's user and databases; idempotent.

    ALTER USER re-keys an existing user, so a lost secrets file heals on the next ``up``.
    """
    user = settings.db_user
    statements: list[tuple[str, tuple[str, ...]]] = []
    for host in USER_HOSTS:
        statements.append(
            ("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (user, host, password))
        )
        statements.append(("ALTER USER %s@%s IDENTIFIED BY %s", (user, host, password)))
    for database in settings.databases.values():
        statements.append(
            (
                f"CREATE DATABASE IF NOT EXISTS {quote_ident(database)} "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
                (),
            )
        )
        for host in USER_HOSTS:
            statements.append(
                (f"GRANT ALL PRIVILEGES ON {quote_ident(database)}.* TO %s@%s", (user, host))
            )
    return statements


def provision_mariadb(target: AdminTarget, settings: SandboxSettings, password: str) -> None:
    """Create (or re-key) the sandbox user and create its databases."""
    with admin_cursor(target) as cursor:
        for sql, params in provisioning_statements(settings, password):
            cursor.execute(sql, params)


def drop_mariadb(target: AdminTarget, settings: SandboxSettings) -> list[str]:
    """Drop exactly this sandbox's databases and user; returns the databases dropped."""
    dropped: list[str] = []
    with admin_cursor(target) as cursor:
        cursor.execute("SHOW DATABASES")
        existing = {row[0] for row in cursor.fetchall()}
        for database in settings.databases.values():
            if database in existing:
                cursor.execute(f"DROP DATABASE {quote_ident(database)}")
                dropped.append(database)
        for host in USER_HOSTS:
            cursor.execute("DROP USER IF EXISTS %s@%s", (settings.db_user, host))
    return dropped


def set_fast_commit(target: AdminTarget) -> None:
    """Opt-in: trade the shared server's durability for speed (until MariaDB restarts)."""
    with admin_cursor(target) as cursor:
        cursor.execute("SET GLOBAL innodb_flush_log_at_trx_commit = 0")


def connection_url(settings: SandboxSettings, password: str, logical: str) -> str:
    """SQLAlchemy URL the services use (the password is URL-safe by construction)."""
    return (
        f"mysql+pymysql://{settings.db_user}:{password}@{DB_HOST}:{DB_PORT}/"
        f"{settings.database(logical)}?charset=utf8mb4"
    )


@dataclass(frozen=True)
class SandboxDB:
    """Read-only queries the lifecycle uses as the services' own user (readiness, migrations)."""

    settings: SandboxSettings
    password: str

    @contextlib.contextmanager
    def cursor(self, logical: str) -> Iterator[pymysql.cursors.Cursor]:
        conn = pymysql.connect(
            host=DB_HOST,
            port=DB_PORT,
            user=self.settings.db_user,
            password=self.password,
            database=self.settings.database(logical),
            connect_timeout=5,
            autocommit=True,
        )
        try:
            with conn.cursor() as cursor:
                yield cursor
        finally:
            conn.close()

    def query(self, logical: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.cursor(logical) as cursor:
            cursor.execute(sql, tuple(params))
            return [tuple(row) for row in cursor.fetchall()]

    def table_counts(self) -> dict[str, int]:
        """Tables per sandbox database (0 means not migrated)."""
        names = list(self.settings.databases.values())
        placeholders = ", ".join(["%s"] * len(names))
        rows = self.query(
            "keystone",
            # only "%s" placeholders are interpolated; the names are bound parameters
            "SELECT table_schema, COUNT(*) FROM information_schema.tables "  # noqa: S608
            f"WHERE table_schema IN ({placeholders}) GROUP BY table_schema",
            names,
        )
        by_name = {str(schema): int(count) for schema, count in rows}
        return {logical: by_name.get(db, 0) for logical, db in self.settings.databases.items()}


# -- RabbitMQ ------------------------------------------------------------------------------------


def _rabbitmqctl(args: Sequence[str], *, input_text: str | None = None) -> subproc.Completed:
    tool = subproc.which("rabbitmqctl")
    if tool is None:
        raise ServiceUnavailable(
            "rabbitmqctl not found",
            hint="install and start RabbitMQ (or run 'dcctl sandbox up --with-deps' as root)",
        )
    return subproc.run([tool, "-q", *args], input_text=input_text, timeout=60, what="rabbitmqctl")


def _names(output: str) -> set[str]:
    return {line.split("\t", 1)[0].strip() for line in output.splitlines() if line.strip()}


def provision_rabbit(settings: SandboxSettings, password: str) -> None:
    """Create the sandbox's vhost and user (password via stdin, never on a command line)."""
    vhost, user = settings.rabbit_vhost, settings.rabbit_user
    if vhost not in _names(_rabbitmqctl(["list_vhosts", "name"]).stdout):
        _rabbitmqctl(["add_vhost", vhost])
    if user in _names(_rabbitmqctl(["list_users"]).stdout):
        _rabbitmqctl(["change_password", user], input_text=password + "\n")
    else:
        _rabbitmqctl(["add_user", user], input_text=password + "\n")
    _rabbitmqctl(["set_permissions", "-p", vhost, user, ".*", ".*", ".*"])


def drop_rabbit(settings: SandboxSettings) -> None:
    vhost, user = settings.rabbit_vhost, settings.rabbit_user
    if vhost in _names(_rabbitmqctl(["list_vhosts", "name"]).stdout):
        _rabbitmqctl(["delete_vhost", vhost])
    if user in _names(_rabbitmqctl(["list_users"]).stdout):
        _rabbitmqctl(["delete_user", user])


def transport_url(settings: SandboxSettings, password: str) -> str:
    return (
        f"rabbit://{settings.rabbit_user}:{password}@{RABBIT_HOST}:{RABBIT_PORT}/"
        f"{settings.rabbit_vhost}"
    )


def reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
