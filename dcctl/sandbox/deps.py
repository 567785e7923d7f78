"""MariaDB and RabbitMQ: check they answer; with ``--with-deps`` install and start them.

There is no systemd on the machines this targets, so services are started directly: MariaDB with
``start-stop-daemon --background`` and RabbitMQ with ``rabbitmq-server -detached``. Without
``--with-deps`` (or when not root) the error says exactly what to install and start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dcctl.errors import ServiceUnavailable
from dcctl.progress import Reporter
from dcctl.sandbox import database, subproc

MARIADB_BIN = Path("/usr/sbin/mariadbd")
POLICY_RC = Path("/usr/sbin/policy-rc.d")


@dataclass(frozen=True)
class Dependency:
    name: str
    package: str
    host: str
    port: int
    binary: str
    start_hint: str


MARIADB = Dependency(
    name="MariaDB",
    package="mariadb-server",
    host=database.DB_HOST,
    port=database.DB_PORT,
    binary="mariadbd",
    start_hint="start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd",
)
RABBITMQ = Dependency(
    name="RabbitMQ",
    package="rabbitmq-server",
    host=database.RABBIT_HOST,
    port=database.RABBIT_PORT,
    binary="rabbitmq-server",
    start_hint="rabbitmq-server -detached",
)
DEPENDENCIES = (MARIADB, RABBITMQ)


def installed(dep: Dependency) -> bool:
    return subproc.which(dep.binary) is not None or (dep is MARIADB and MARIADB_BIN.exists())


def missing_hint(missing: list[Dependency]) -> str:
    packages = " ".join(dep.package for dep in missing)
    starts = "; ".join(dep.start_hint for dep in missing)
    return (
        f"as root: apt-get install -y {packages}; then start them: {starts} "
        "(or run 'dcctl sandbox up --with-deps' as root to do both)"
    )


def ensure(
    *,
    with_deps: bool,
    reporter: Reporter,
    reachable: Callable[[str, int], bool] = database.reachable,
) -> None:
    """Make sure both services answer on 127.0.0.1, installing/starting them if allowed."""
    missing = [dep for dep in DEPENDENCIES if not reachable(dep.host, dep.port)]
    if not missing:
        return
    if not with_deps:
        names = " and ".join(f"{dep.name} ({dep.host}:{dep.port})" for dep in missing)
        raise ServiceUnavailable(f"{names} not reachable", hint=missing_hint(missing))
    if os.geteuid() != 0:
        raise ServiceUnavailable(
            "--with-deps needs root to install and start MariaDB/RabbitMQ",
            hint=missing_hint(missing),
        )
    to_install = [dep for dep in missing if not installed(dep)]
    if to_install:
        _apt_install([dep.package for dep in to_install], reporter)
    for dep in missing:
        reporter.step(dep.name.lower(), "starting")
        if dep is MARIADB:
            _start_mariadb()
        else:
            _start_rabbitmq()
        _wait_port(dep, reachable, timeout=90)
        reporter.step(dep.name.lower(), "running", f"{dep.host}:{dep.port}")


def _apt_install(packages: list[str], reporter: Reporter) -> None:
    """apt-get install with service starts suppressed (no init system to start them)."""
    reporter.step("apt", "starting", "install " + " ".join(packages))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    created_policy = False
    if not POLICY_RC.exists():
        POLICY_RC.write_text(
            "#!/bin/sh\n# dcctl sandbox: no service starts during install\nexit 101\n"
        )
        POLICY_RC.chmod(0o755)
        created_policy = True
    try:
        subproc.run(["apt-get", "update"], env=env, timeout=600, what="apt-get update")
        subproc.run(
            ["apt-get", "install", "-y", "--no-install-recommends", *packages],
            env=env,
            timeout=1200,
            what="apt-get install",
        )
    finally:
        if created_policy:
            POLICY_RC.unlink(missing_ok=True)
    reporter.step("apt", "done")


def _start_mariadb() -> None:
    run_dir = Path("/run/mysqld")
    run_dir.mkdir(parents=True, exist_ok=True)
    subproc.run(["chown", "mysql:mysql", str(run_dir)], check=False, what="chown /run/mysqld")
    subproc.run(
        [
            "start-stop-daemon",
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            str(MARIADB_BIN),
            "--",
            "--user=mysql",
            "--bind-address=127.0.0.1",
        ],
        what="start mariadbd",
    )


def _start_rabbitmq() -> None:
    tool = subproc.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    subproc.run([tool, "-detached"], what="rabbitmq-server -detached", timeout=120)


def _wait_port(dep: Dependency, reachable: Callable[[str, int], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reachable(dep.host, dep.port):
            return
        time.sleep(1)
    raise ServiceUnavailable(
        f"{dep.name} did not start listening on {dep.host}:{dep.port} within {timeout:.0f} s",
        hint=f"start it by hand ({dep.start_hint}) and look at its log",
    )
