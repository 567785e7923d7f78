"""Bring one sandbox from stopped to usable, as a pipeline on a 2-core machine.

Every service starts as soon as *its own* database schema is ready (migration chains run in
parallel), so Keystone answers and is bootstrapped while neutron is still migrating. Readiness is
judged per service (:mod:`dcctl.sandbox.health`); a service that dies, or is not ready by the
deadline, fails the start with its log tail.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dcctl.errors import ServiceUnavailable
from dcctl.progress import Reporter
from dcctl.sandbox import (
    bootstrap,
    database,
    health,
    installer,
    migrations,
    processes,
    services,
    subproc,
)
from dcctl.sandbox.credentials import Secrets
from dcctl.sandbox.services import Kind, Service
from dcctl.sandbox.settings import SandboxPaths, SandboxSettings

POLL = 0.5
LOG_TAIL_LINES = 40


class StartFailed(ServiceUnavailable):
    """A service died or never became ready; ``service`` and ``log_tail`` say which and why."""

    def __init__(self, service: str, reason: str, log_path: Path, log_tail: str) -> None:
        super().__init__(
            f"sandbox service {service} {reason}\n--- last lines of {log_path} ---\n{log_tail}",
            hint=f"read the whole log with 'dcctl sandbox logs {service}'; fix, then 'up' again",
        )
        self.service = service
        self.log_path = log_path
        self.log_tail = log_tail


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Last ``lines`` lines of a log file (reads only the end of large files)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 256 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(data.splitlines()[-lines:])


@dataclass
class Startup:
    """One start attempt; the lifecycle builds it after provisioning and calls :meth:`run`."""

    settings: SandboxSettings
    paths: SandboxPaths
    venv: installer.Venv
    secrets: Secrets = field(repr=False)
    env: Mapping[str, str] = field(repr=False)
    store: processes.RecordStore
    reporter: Reporter
    timeout: float
    migrate: bool
    #: Called before the first service starts (waits for the RabbitMQ vhost to exist).
    before_launch: Callable[[], object] = lambda: None
    launched: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def db(self) -> database.SandboxDB:
        return database.SandboxDB(self.settings, self.secrets["db"])

    def run(self) -> None:
        enabled = services.enabled(self.settings)
        gate = self.paths.data / services.IDENTITY_GATE
        fingerprint = bootstrap.fingerprint(self.settings)
        # The gate lets nova-compute run as soon as Placement answers when Keystone already has
        # the service users (a restart); on a first start it appears after bootstrap_identity.
        if self.migrate or not gate.is_file() or gate.read_text(encoding="utf-8") != fingerprint:
            gate.unlink(missing_ok=True)
        gates = self.paths.data / services.GATES_DIR
        shutil.rmtree(gates, ignore_errors=True)
        gates.mkdir(parents=True)

        run: migrations.MigrationRun | None = None
        if self.migrate:
            self.reporter.step("migrations", "starting", "schemas of every service (first start)")
            run = migrations.MigrationRun(
                migrations.chains(self.settings, self.paths, self.venv, self.secrets["admin"]),
                env=self.env,
                reporter=self.reporter,
                on_done=lambda chain: self._launch_chain(chain, enabled),
            )
            run.start()
            for service in enabled:
                if not service.chain:  # no database (swift): start right away
                    self._launch(service)
        else:
            for service in enabled:
                self._launch(service)
        abort = threading.Event()
        with ThreadPoolExecutor(max_workers=1) as pool:
            try:
                deadline = time.monotonic() + self.timeout
                pending = {service.name: service for service in enabled}
                self._wait(pending, {"keystone"}, deadline, run)
                # Bootstrap runs beside the remaining waits: it needs only Keystone at first,
                # then the network, image and compute APIs (not nova-compute).
                boot = pool.submit(self._bootstrap, gate, fingerprint, deadline, abort)
                if run is not None:
                    run.wait()
                    migrations.mark_current(self.paths, installer.lock_hash())
                    self.reporter.step("migrations", "done")
                self._wait(pending, set(pending), deadline, run, boot)
                self._wait_compute_registered(deadline)
                boot.result()
                self._wait_volume_backend(deadline)
                self._restore_priority()
            except BaseException:
                abort.set()
                raise
            finally:
                if run is not None:
                    run.close()

    def _bootstrap(
        self, gate: Path, fingerprint: str, deadline: float, abort: threading.Event
    ) -> None:
        bootstrap.bootstrap_identity(self._connect(), self.settings, self.secrets, self.reporter)
        gate.write_text(fingerprint, encoding="utf-8")
        self.reporter.step("bootstrap", "done", "identity")
        needed = [services.by_name(name) for name in bootstrap.RESOURCE_APIS]
        while not all(self._ready(service) for service in needed):
            if abort.is_set() or time.monotonic() > deadline:
                return
            time.sleep(POLL)
        # A fresh connection: the first one's token predates the catalog made above.
        bootstrap.bootstrap_resources(self._connect(), self.reporter)
        self.reporter.step("bootstrap", "done", "network, image, flavors")

    # -- launching ---------------------------------------------------------------------------
    def _launch_chain(self, chain: str, enabled: list[Service]) -> None:
        for service in enabled:
            if service.chain == chain:
                self._launch(service)

    def _launch(self, service: Service) -> None:
        """Start one service and remember its heartbeat baseline (thread-safe)."""
        with self._lock:
            self.before_launch()
            log = self.paths.log(service.name)
            log.parent.mkdir(parents=True, exist_ok=True)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
            with log.open("a", encoding="utf-8") as handle:
                handle.write(f"\n===== dcctl sandbox: starting {service.name} at {stamp} UTC\n")
            record = processes.start(
                service.name,
                service.argv(self.venv, self.paths, self.settings),
                env={**self.env, **service.env(self.paths)},
                log_path=log,
                cwd=self.paths.data,
                store=self.store,
            )
            self.launched[service.name] = time.monotonic()
            if service.background:
                processes.renice(record.pid, services.BACKGROUND_NICE)
        self.reporter.step(service.name, "starting", f"pid {record.pid}")

    # -- readiness ---------------------------------------------------------------------------
    def _ready(self, service: Service) -> bool:
        if service.kind is Kind.API:
            return health.api_ready(self.settings.ports.port(service.name), service.probe_path)
        if health.rpc_consumers(self.settings, self.secrets["rabbit"], service.queue) == 0:
            return False
        return not service.heartbeat or health.heartbeat_fresh(
            self.db, *services.heartbeat_table(service)
        )

    def _failed(self, name: str, reason: str) -> StartFailed:
        log = self.paths.log(name)
        return StartFailed(name, reason, log, tail(log))

    def _wait(
        self,
        pending: dict[str, Service],
        wanted: set[str],
        deadline: float,
        run: migrations.MigrationRun | None,
        boot: Future[None] | None = None,
    ) -> None:
        """Poll until every ``wanted`` service is ready; fail fast if one dies."""
        while True:
            if run is not None:
                run.check()
            if boot is not None and boot.done():
                boot.result()  # raises if the bootstrap failed
            with self._lock:
                launched = dict(self.launched)
            records = self.store.load()
            for name in [n for n in wanted if n in pending and n in launched]:
                record = records.get(name)
                if record is None or not record.alive():
                    if record is not None:
                        subproc.reap(record.pid)
                    raise self._failed(name, "exited during start-up")
                if self._ready(pending[name]):
                    pending.pop(name)
                    (self.paths.data / services.GATES_DIR / name).touch()
                    self.reporter.step(name, "ready", f"{time.monotonic() - launched[name]:.1f} s")
            if not any(name in pending for name in wanted):
                return
            if time.monotonic() > deadline:
                name = sorted(name for name in wanted if name in pending)[0]
                raise self._failed(name, "did not become ready in time")
            time.sleep(POLL)

    def _wait_compute_registered(self, deadline: float) -> None:
        """nova-compute in Placement and mapped to cell1 (``discover_hosts`` once if not)."""
        started = time.monotonic()
        db = self.db
        discovered = False
        while True:
            unmapped = health.unmapped_compute_hosts(db)
            if unmapped and not discovered:
                subproc.run(
                    [
                        str(self.venv.python),
                        str(self.venv.script("nova-manage")),
                        "--config-file",
                        str(self.paths.etc / "nova/nova.conf"),
                        "cell_v2",
                        "discover_hosts",
                    ],
                    env=self.env,
                    what="nova-manage cell_v2 discover_hosts",
                    timeout=120,
                )
                discovered = True
                continue
            if health.compute_in_placement(db) and not unmapped and health.hosts_mapped(db):
                self.reporter.step(
                    "nova-compute", "registered", f"{time.monotonic() - started:.1f} s"
                )
                return
            record = self.store.load().get("nova-compute")
            if record is None or not record.alive():
                raise self._failed("nova-compute", "exited during start-up")
            if time.monotonic() > deadline:
                raise self._failed("nova-compute", "did not register in Placement in time")
            time.sleep(POLL)

    def _restore_priority(self) -> None:
        """Give the background services (and their forks) normal CPU priority again."""
        stats = processes.all_stats()
        for record in self.store.load().values():
            for pid in processes.session_members(record, stats=stats):
                processes.renice(pid, 0)

    def _wait_volume_backend(self, deadline: float) -> None:
        """The cinder scheduler knows the file backend (else every volume create fails)."""
        started = time.monotonic()
        conn = self._connect()
        while not list(conn.block_storage.backend_pools()):
            if time.monotonic() > deadline:
                raise self._failed("cinder-scheduler", "never learnt of the volume backend")
            time.sleep(POLL)
        self.reporter.step("cinder-volume", "registered", f"{time.monotonic() - started:.1f} s")

    def _connect(self) -> Any:
        from openstack.config import loader  # noqa: PLC0415 - openstacksdk is slow to import
        from openstack.connection import Connection  # noqa: PLC0415

        config = loader.OpenStackConfig(
            config_files=[str(self.paths.clouds_file)], load_envvars=False
        )
        region = config.get_one(cloud=self.settings.cloud_name)
        return Connection(config=region, app_name="dcctl-sandbox")
