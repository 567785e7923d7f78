"""The sandbox's services: how each is started, what it reads and how readiness is judged.

This table is data: the lifecycle walks it, ``status`` prints it, tests check it. All services
start at once. nova's workers are *gated*: they import their code with the others, then wait
until Keystone and Placement answer and Keystone knows the service users before they run,
because they build a Placement client as they start (nova-compute registers itself there), and
a failure is retried only a full periodic interval (60 s) later.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from dcctl.sandbox.installer import Venv
from dcctl.sandbox.settings import SandboxPaths, SandboxSettings

#: Modules on PYTHONPATH (from dcctl/sandbox/plugins): serve a WSGI app with waitress; run a
#: console entry point (optionally after a wait gate).
WSGI_RUNNER = "dcctl_sbx_wsgi"
ENTRY_RUNNER = "dcctl_sbx_run"
#: Niceness of background services while the sandbox starts.
BACKGROUND_NICE = 10
#: Written by the lifecycle once Keystone has the service users (relative to the data dir).
IDENTITY_GATE = "identity-ready"
#: One file per service, written by the lifecycle when that service is ready (data dir).
GATES_DIR = "gates"


class Kind(Enum):
    API = "api"  # HTTP: ready when the port answers
    WORKER = "worker"  # RPC: ready when its topic queue has a consumer


@dataclass(frozen=True)
class Service:
    name: str
    kind: Kind
    configs: tuple[str, ...]  # relative to the sandbox's etc dir
    app: str = ""  # WSGI module:attribute, for APIs
    entry: str = ""  # console entry point module:function, for workers
    probe_path: str = "/"  # for APIs
    queue: str = ""  # RPC topic queue, for workers: ready when it has a consumer
    #: Workers that must not run their main before Keystone and Placement answer and Keystone
    #: knows the service users: nova's workers build a Placement client as they start (and
    #: nova-compute registers itself there), which otherwise fails until a periodic retry.
    gated: bool = False
    gate_placement: bool = True
    #: Services that must be ready before this one runs its main (gate files, see GATES_DIR).
    after: tuple[str, ...] = ()
    #: Whether others judge this worker by its database heartbeat (schedulers skip a compute
    #: or volume service, and the API a backup service, whose heartbeat is older than 60 s).
    heartbeat: bool = False
    #: Off the critical path (Keystone → Placement → nova workers): start at a lower CPU
    #: priority, raised back once the sandbox is up.
    background: bool = False
    swift: bool = False  # only with --with-swift
    #: Environment variables naming config dirs (relative to etc): placement and glance read
    #: their config only from there, nova its paste pipeline.
    config_env: tuple[tuple[str, str], ...] = ()
    #: The migration chain (dcctl.sandbox.migrations) that must finish before this starts.
    chain: str = ""
    #: An API that runs ``settings.api_workers`` processes (the busiest ones: every apply and
    #: plan keeps neutron and nova-api's quota reads on one core each otherwise).
    scales: bool = False

    def env(self, paths: SandboxPaths) -> dict[str, str]:
        return {key: str(paths.etc / value) for key, value in self.config_env}

    def argv(self, venv: Venv, paths: SandboxPaths, settings: SandboxSettings) -> list[str]:
        prefix = ["nice", "-n", str(BACKGROUND_NICE)] if self.background else []
        return prefix + self._command(venv, paths, settings)

    def _command(self, venv: Venv, paths: SandboxPaths, settings: SandboxSettings) -> list[str]:
        config_args: list[str] = []
        for config in self.configs:
            config_args += ["--config-file", str(paths.etc / config)]
        if self.swift:  # swift servers take their paste config as argument; -v logs to stderr
            config_args = [str(paths.etc / self.configs[0]), "--verbose"]
        if self.kind is Kind.API and not self.swift:
            return [
                str(venv.python),
                "-m",
                WSGI_RUNNER,
                "--prog",
                self.name,
                "--app",
                self.app,
                "--port",
                str(settings.ports.port(self.name)),
                *(["--processes", str(settings.api_workers)] if self.scales else []),
                *config_args,
            ]
        gate: list[str] = []
        if self.gated:
            gate = ["--wait-url", settings.ports.url("keystone") + "/v3"]
            if self.gate_placement:
                gate += ["--wait-url", settings.ports.url("placement") + "/"]
            gate += ["--wait-file", str(paths.data / IDENTITY_GATE)]
        for name in self.after:
            gate += ["--wait-file", str(paths.data / GATES_DIR / name)]
        return [
            str(venv.python),
            "-m",
            ENTRY_RUNNER,
            "--prog",
            self.name,
            "--entry",
            self.entry,
            *gate,
            "--",
            *config_args,
        ]


NOVA = ("nova/nova.conf",)
CINDER = ("cinder/cinder.conf",)


def _api(name: str, configs: tuple[str, ...], app: str, chain: str, **extra: Any) -> Service:
    extra.setdefault("background", True)
    return Service(name, Kind.API, configs, app=app, chain=chain, **extra)


def _worker(
    name: str, configs: tuple[str, ...], entry: str, chain: str, queue: str, **extra: Any
) -> Service:
    return Service(name, Kind.WORKER, configs, entry=entry, chain=chain, queue=queue, **extra)


def heartbeat_table(service: Service) -> tuple[str, str]:
    """(logical database, services.binary) where a worker's heartbeat lands."""
    return service.chain, service.name


def _swift(name: str, entry: str, **extra: Any) -> Service:
    return Service(
        name,
        Kind.API,
        (f"swift/{name.removeprefix('swift-')}-server.conf",),
        entry=entry,
        probe_path="/healthcheck",
        swift=True,
        background=True,
        **extra,
    )


SERVICES: tuple[Service, ...] = (
    _api(
        "keystone",
        ("keystone/keystone.conf",),
        "keystone.wsgi.api:application",
        "keystone",
        probe_path="/v3",
        background=False,
        config_env=(("OS_KEYSTONE_CONFIG_DIR", "keystone"),),
    ),
    _api(
        "placement",
        ("placement/placement.conf",),
        "placement.wsgi.api:application",
        "placement",
        config_env=(("OS_PLACEMENT_CONFIG_DIR", "placement"),),
        background=False,
    ),
    _worker("nova-conductor", NOVA, "nova.cmd.conductor:main", "nova", "conductor", gated=True),
    _api(
        "glance",
        ("glance/glance-api.conf",),
        "glance.wsgi.api:application",
        "glance",
        config_env=(("OS_GLANCE_CONFIG_DIR", "glance"),),
    ),
    _api(
        "nova-api",
        NOVA,
        "nova.wsgi.osapi_compute:application",
        "nova",
        config_env=(("OS_NOVA_CONFIG_DIR", "nova"),),
        scales=True,
    ),
    _api(
        "neutron",
        ("neutron/neutron.conf", "neutron/ml2_conf.ini"),
        "neutron.wsgi.api:application",
        "neutron",
        scales=True,
    ),
    _api("cinder-api", CINDER, "cinder.wsgi.api:application", "cinder"),
    _worker("nova-scheduler", NOVA, "nova.cmd.scheduler:main", "nova", "scheduler", gated=True),
    _worker(
        "cinder-scheduler",
        CINDER,
        "cinder.cmd.scheduler:main",
        "cinder",
        "cinder-scheduler",
        background=True,
    ),
    # cinder-volume announces its capabilities as it starts, and the scheduler asks for them as
    # it starts: if both start together both messages can be lost, and the scheduler then knows
    # no backend for up to two minutes. Starting the volume service once the scheduler consumes
    # makes its announcement arrive.
    _worker(
        "cinder-volume",
        CINDER,
        "cinder.cmd.volume:main",
        "cinder",
        "cinder-volume",
        after=("cinder-scheduler",),
        heartbeat=True,
        background=True,
    ),
    _worker(
        "cinder-backup",
        CINDER,
        "cinder.cmd.backup:main",
        "cinder",
        "cinder-backup",
        heartbeat=True,
        background=True,
    ),
    _worker(
        "nova-compute",
        ("nova/nova-compute.conf",),
        "nova.cmd.compute:main",
        "nova",
        "compute",
        gated=True,
        heartbeat=True,
    ),
    _swift("swift-account", "swift.account.server:main"),
    _swift("swift-container", "swift.container.server:main"),
    _swift("swift-object", "swift.obj.server:main"),
    # The proxy authenticates against Keystone as the swift service user.
    _swift("swift-proxy", "swift.proxy.server:main", gated=True, gate_placement=False),
)


def enabled(settings: SandboxSettings) -> list[Service]:
    """The services this sandbox runs, in start order."""
    return [service for service in SERVICES if settings.with_swift or not service.swift]


def by_name(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise KeyError(name)


def names() -> list[str]:
    return [service.name for service in SERVICES]


def plugin_dir() -> Path:
    """dcctl/sandbox/plugins: put on the services' PYTHONPATH (never imported by dcctl)."""
    return Path(__file__).resolve().parent / "plugins"
