"""``up``, ``down``, ``status``, ``env``, ``logs`` and ``reset`` of one sandbox.

This module orchestrates the others; it never prints. Progress goes through the Reporter, results
come back as dataclasses, failures as DcctlError subclasses (a failed start carries the failing
service's log tail).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dcctl.errors import Busy, ServiceUnavailable, UsageError
from dcctl.progress import NullReporter, Reporter
from dcctl.sandbox import (
    amqp,
    clouds,
    configs,
    credentials,
    database,
    deps,
    health,
    installer,
    migrations,
    processes,
    services,
    subproc,
    swift,
)
from dcctl.sandbox.credentials import Secrets
from dcctl.sandbox.handle import SandboxHandle
from dcctl.sandbox.services import Kind
from dcctl.sandbox.settings import (
    DEFAULT_NAME,
    SandboxPaths,
    SandboxSettings,
    known_sandboxes,
    load_settings,
    save_settings,
)
from dcctl.sandbox.startup import Startup

DEFAULT_TIMEOUT = 300.0
STOP_TIMEOUT = 8.0
DATA_DIRS = (
    "keystone",
    "glance/images",
    "glance/staging",
    "glance/tasks",
    "glance/cache",
    "placement",
    "nova/instances",
    "neutron",
    "cinder/volumes",
    "cinder/backups",
    "cinder/conversion",
    "swift/disk",
    "tmp",
)


@dataclass(frozen=True)
class UpResult:
    name: str
    cloud: str
    clouds_file: Path
    already_running: bool
    elapsed: float
    migrated: bool = False
    started: tuple[str, ...] = ()


@dataclass(frozen=True)
class StopOutcome:
    service: str
    pid: int
    outcome: str  # stopped | killed | stale


@dataclass(frozen=True)
class DownResult:
    name: str
    outcomes: tuple[StopOutcome, ...]
    strays_killed: int = 0

    @property
    def was_running(self) -> bool:
        return any(item.outcome != "stale" for item in self.outcomes)


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    kind: str
    state: str  # up | down | starting (alive, port not answering) | stale
    pid: int | None
    port: int | None
    rss_bytes: int = 0


@dataclass(frozen=True)
class SandboxStatus:
    name: str
    exists: bool
    port_base: int | None
    with_swift: bool
    state_dir: Path
    clouds_file: Path | None
    services: tuple[ServiceStatus, ...] = ()

    @property
    def running(self) -> bool:
        return bool(self.services) and all(item.state == "up" for item in self.services)

    @property
    def rss_bytes(self) -> int:
        return sum(item.rss_bytes for item in self.services)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "exists": self.exists,
            "running": self.running,
            "port_base": self.port_base,
            "with_swift": self.with_swift,
            "state_dir": str(self.state_dir),
            "clouds_file": str(self.clouds_file) if self.clouds_file else None,
            "rss_bytes": self.rss_bytes,
            "services": [
                {
                    "name": item.name,
                    "kind": item.kind,
                    "state": item.state,
                    "pid": item.pid,
                    "port": item.port,
                    "rss_bytes": item.rss_bytes,
                }
                for item in self.services
            ],
        }


@dataclass(frozen=True)
class ResetResult:
    name: str
    down: DownResult
    databases_dropped: tuple[str, ...]
    state_removed: bool


def follow_log(
    path: Path, *, poll: float = 0.5, stop: Callable[[], bool] = lambda: False
) -> Iterator[str]:
    """Yield lines appended to ``path`` from now on (``logs -f``)."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        handle.seek(0, os.SEEK_END)
        while not stop():
            line = handle.readline()
            if line:
                yield line.rstrip("\n")
            else:
                time.sleep(poll)


class Sandbox:
    """One named sandbox; every method takes the sandbox's lock while it changes anything."""

    def __init__(
        self,
        name: str = DEFAULT_NAME,
        *,
        reporter: Reporter | None = None,
        state_base: Path | None = None,
    ) -> None:
        self.paths = SandboxPaths.for_name(name, state_base)
        self.name = name
        self.reporter: Reporter = reporter or NullReporter()
        self._state_base = state_base
        self.store = processes.RecordStore(self.paths.records_file)

    # -- helpers -------------------------------------------------------------------------------
    @property
    def settings(self) -> SandboxSettings | None:
        return load_settings(self.paths)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.paths.lock_file.open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise Busy(
                    f"another dcctl command is working on sandbox '{self.name}'",
                    hint="wait for it to finish, then retry",
                ) from error
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _service_env(self, venv: installer.Venv) -> dict[str, str]:
        """A small, explicit environment: the caller's OS_* variables must not leak in."""
        return {
            "PATH": f"{venv.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": str(services.plugin_dir()),
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": str(self.paths.data / "tmp"),
            "VIRTUAL_ENV": str(venv.path),
            processes.MARKER_ENV: self.name,
        }

    def _resolve_settings(
        self,
        port_base: int | None,
        with_swift: bool | None,
        debug_logs: bool | None,
        api_workers: int | None,
    ) -> SandboxSettings:
        saved = self.settings
        base = saved or SandboxSettings(name=self.name)
        wanted = SandboxSettings(
            name=self.name,
            port_base=port_base if port_base is not None else base.port_base,
            with_swift=with_swift if with_swift is not None else base.with_swift,
            debug_logs=debug_logs if debug_logs is not None else base.debug_logs,
            api_workers=api_workers if api_workers is not None else base.api_workers,
        )
        for other in known_sandboxes(self._state_base):
            if other.name != self.name and other.ports.overlaps(wanted.ports):
                raise UsageError(
                    f"ports {wanted.port_base}-{wanted.ports.last} overlap sandbox "
                    f"'{other.name}' ({other.port_base}-{other.ports.last})",
                    hint="choose another --port-base",
                )
        return wanted

    def _alive_records(self) -> dict[str, processes.ProcessRecord]:
        return {name: rec for name, rec in self.store.load().items() if rec.alive()}

    def _all_up(self, settings: SandboxSettings) -> bool:
        alive = self._alive_records()
        for service in services.enabled(settings):
            if service.name not in alive:
                return False
            if service.kind is Kind.API and not health.api_ready(
                settings.ports.port(service.name), service.probe_path
            ):
                return False
        return True

    # -- up --------------------------------------------------------------------------------------
    def up(
        self,
        *,
        port_base: int | None = None,
        with_swift: bool | None = None,
        debug_logs: bool | None = None,
        api_workers: int | None = None,
        with_deps: bool = False,
        fast_db: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> UpResult:
        """Start the sandbox (installing, provisioning and bootstrapping as needed); idempotent."""
        started_at = time.monotonic()
        with self._locked():
            current = self.settings
            if current is not None and self._all_up(current):
                if (
                    (port_base is not None and port_base != current.port_base)
                    or (with_swift is not None and with_swift != current.with_swift)
                    or (debug_logs is not None and debug_logs != current.debug_logs)
                    or (api_workers is not None and api_workers != current.api_workers)
                ):
                    raise UsageError(
                        f"sandbox '{self.name}' is running with other settings",
                        hint="run 'dcctl sandbox down' first to change "
                        "--port-base/--with-swift/--debug-logs/--api-workers",
                    )
                self.reporter.step(self.name, "running", "already up")
                return UpResult(
                    name=self.name,
                    cloud=current.cloud_name,
                    clouds_file=self.paths.clouds_file,
                    already_running=True,
                    elapsed=time.monotonic() - started_at,
                )
            if self._alive_records():
                self.reporter.warn(f"sandbox '{self.name}' is partly running: restarting it")
                self._down()
            settings = self._resolve_settings(port_base, with_swift, debug_logs, api_workers)
            try:
                return self._start(settings, with_deps, fast_db, timeout, started_at)
            except BaseException:
                self._down()
                raise

    def _start(
        self,
        settings: SandboxSettings,
        with_deps: bool,
        fast_db: bool,
        timeout: float,
        started_at: float,
    ) -> UpResult:
        reporter = self.reporter
        enabled = services.enabled(settings)
        busy = [
            (service.name, settings.ports.port(service.name))
            for service in enabled
            if service.kind is Kind.API and health.port_in_use(settings.ports.port(service.name))
        ]
        if busy:
            raise ServiceUnavailable(
                "ports already in use: " + ", ".join(f"{port} ({name})" for name, port in busy),
                hint="stop whatever listens there, or choose another --port-base",
            )
        venv = installer.ensure_venv(reporter)
        deps.ensure(with_deps=with_deps, reporter=reporter)
        admin = database.find_admin()
        if fast_db:
            database.set_fast_commit(admin)
            reporter.warn("MariaDB innodb_flush_log_at_trx_commit=0 (global, until it restarts)")
        save_settings(self.paths, settings)
        secrets = credentials.load_or_create(self.paths.secrets_file)
        database.provision_mariadb(admin, settings, secrets["db"])
        # rabbitmqctl takes ~0.5 s per call: provision the vhost while migrations run.
        with ThreadPoolExecutor(max_workers=1) as pool:
            rabbit = pool.submit(self._provision_rabbit, settings, secrets["rabbit"])
            self._prepare_files(settings, venv, secrets)
            db = database.SandboxDB(settings, secrets["db"])
            migrate = not migrations.is_current(self.paths, db, installer.lock_hash())
            startup = Startup(
                settings=settings,
                paths=self.paths,
                venv=venv,
                secrets=secrets,
                env=self._service_env(venv),
                store=self.store,
                reporter=reporter,
                timeout=timeout,
                migrate=migrate,
                before_launch=rabbit.result,
            )
            startup.run()
        elapsed = time.monotonic() - started_at
        reporter.step(self.name, "ready", f"{elapsed:.1f} s")
        return UpResult(
            name=self.name,
            cloud=settings.cloud_name,
            clouds_file=self.paths.clouds_file,
            already_running=False,
            elapsed=elapsed,
            migrated=migrate,
            started=tuple(service.name for service in enabled),
        )

    def _provision_rabbit(self, settings: SandboxSettings, password: str) -> None:
        """Skip rabbitmqctl when the sandbox user can already log in to its vhost (restart)."""
        if amqp.can_login(
            database.RABBIT_HOST,
            database.RABBIT_PORT,
            user=settings.rabbit_user,
            password=password,
            vhost=settings.rabbit_vhost,
        ):
            return
        database.provision_rabbit(settings, password)

    def _prepare_files(
        self, settings: SandboxSettings, venv: installer.Venv, secrets: Secrets
    ) -> None:
        for relative in DATA_DIRS:
            (self.paths.data / relative).mkdir(parents=True, exist_ok=True)
        self.paths.logs.mkdir(parents=True, exist_ok=True)
        configs.write_all(configs.ConfigContext(settings, self.paths, venv, secrets))
        configs.ensure_key_repository(self.paths.data / "keystone/fernet-keys")
        configs.ensure_key_repository(self.paths.data / "keystone/credential-keys")
        if settings.with_swift:
            swift.ensure_rings(settings, self.paths, venv, self._service_env(venv))
        clouds.write_clouds_file(self.paths.clouds_file, settings, secrets["admin"])

    # -- down ------------------------------------------------------------------------------------
    def down(self) -> DownResult:
        """Stop every process this sandbox started (verified by pid and start time)."""
        with self._locked():
            return self._down()

    def _down(self) -> DownResult:
        records = self.store.load()
        order = [name for name in reversed(services.names()) if name in records]
        order += [name for name in records if name not in order]
        outcomes = processes.stop_all([records[name] for name in order], timeout=STOP_TIMEOUT)
        # Only sessions whose leader we verified and stopped just now: a session whose leader was
        # already gone (stale record) cannot be told apart from a stranger's.
        strays = processes.kill_orphans([rec for rec, outcome in outcomes if outcome != "stale"])
        self.store.save({})
        result = DownResult(
            name=self.name,
            outcomes=tuple(
                StopOutcome(service=rec.service, pid=rec.pid, outcome=outcome)
                for rec, outcome in outcomes
            ),
            strays_killed=strays,
        )
        for item in result.outcomes:
            self.reporter.step(item.service, "stopped" if item.outcome != "stale" else "skipped",
                               item.outcome)  # fmt: skip
        return result

    # -- status, env, logs -------------------------------------------------------------------
    def status(self) -> SandboxStatus:
        settings = self.settings
        if settings is None:
            return SandboxStatus(
                name=self.name,
                exists=False,
                port_base=None,
                with_swift=False,
                state_dir=self.paths.root,
                clouds_file=None,
            )
        records = self.store.load()
        stats = processes.all_stats()
        rows: list[ServiceStatus] = []
        for service in services.enabled(settings):
            record = records.get(service.name)
            alive = record is not None and record.alive()
            port = settings.ports.port(service.name) if service.kind is Kind.API else None
            if not alive:
                state = "stale" if record is not None else "down"
            elif port is not None and not health.api_ready(port, service.probe_path):
                state = "starting"
            else:
                state = "up"
            rows.append(
                ServiceStatus(
                    name=service.name,
                    kind=service.kind.value,
                    state=state,
                    pid=record.pid if record is not None and alive else None,
                    port=port,
                    rss_bytes=processes.session_rss(record, stats=stats) if record and alive else 0,
                )
            )
        return SandboxStatus(
            name=self.name,
            exists=True,
            port_base=settings.port_base,
            with_swift=settings.with_swift,
            state_dir=self.paths.root,
            clouds_file=self.paths.clouds_file if self.paths.clouds_file.is_file() else None,
            services=tuple(rows),
        )

    def env(self) -> dict[str, str]:
        settings = self.settings
        if settings is None or not self.paths.clouds_file.is_file():
            raise UsageError(
                f"sandbox '{self.name}' has never been started",
                hint=f"run 'dcctl sandbox up{name_suffix(self.name)}'",
            )
        return clouds.environment(self.paths.clouds_file, settings)

    def handle(self) -> SandboxHandle:
        """The handle of this sandbox (it must have been started at least once)."""
        settings = self.settings
        env = self.env()
        if settings is None:  # env() has already refused a sandbox that never started
            raise UsageError(f"sandbox '{self.name}' has never been started")
        venv = installer.Venv(installer.venv_path())
        return SandboxHandle(
            name=self.name,
            cloud=settings.cloud_name,
            clouds_file=self.paths.clouds_file,
            state_dir=self.paths.root,
            env=env,
            venv_bin=venv.bin if venv.complete else None,
        )

    def log_path(self, service: str) -> Path:
        if service not in services.names():
            raise UsageError(
                f"unknown service {service!r}", hint="one of: " + ", ".join(services.names())
            )
        return self.paths.log(service)

    # -- reset -----------------------------------------------------------------------------------
    def reset(self) -> ResetResult:
        """Stop, then drop the databases, the RabbitMQ vhost/user AND the local state together.

        Both go at once: nova-compute refuses to start with kept databases but wiped local state,
        and services fail on kept local state (fernet keys, volumes) with fresh databases.
        """
        with self._locked():
            down = self._down()
            settings = self.settings or SandboxSettings(name=self.name)
            admin = database.find_admin()
            dropped = database.drop_mariadb(admin, settings)
            self.reporter.step("mariadb", "deleted", ", ".join(dropped) or "nothing to drop")
            if subproc.which("rabbitmqctl"):
                database.drop_rabbit(settings)
                self.reporter.step("rabbitmq", "deleted", settings.rabbit_vhost)
            existed = self.paths.root.exists()
            for child in list(self.paths.root.iterdir()) if existed else []:
                if child.name == self.paths.lock_file.name:
                    continue
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            self.reporter.step("state", "deleted", str(self.paths.root))
        with contextlib.suppress(OSError):
            self.paths.lock_file.unlink()
            self.paths.root.rmdir()
        return ResetResult(
            name=self.name, down=down, databases_dropped=tuple(dropped), state_removed=existed
        )


def name_suffix(name: str) -> str:
    """`` --name NAME`` for commands shown to the operator, empty for the default sandbox."""
    return "" if name == DEFAULT_NAME else f" --name {name}"
