from __future__ import annotations

from pathlib import Path

import pytest

from dcctl.sandbox import services
from dcctl.sandbox.installer import Venv
from dcctl.sandbox.services import Kind
from dcctl.sandbox.settings import SandboxPaths, SandboxSettings

pytestmark = pytest.mark.unit

VENV = Venv(Path("/venv"))


def test_every_service_waits_for_a_migration_chain_or_is_swift() -> None:
    for service in services.SERVICES:
        assert bool(service.chain) != service.swift, service.name


def test_workers_name_their_rpc_queue() -> None:
    workers = [s for s in services.SERVICES if s.kind is Kind.WORKER]
    assert {s.name: s.queue for s in workers} == {
        "nova-conductor": "conductor",
        "nova-scheduler": "scheduler",
        "nova-compute": "compute",
        "cinder-scheduler": "cinder-scheduler",
        "cinder-volume": "cinder-volume",
        "cinder-backup": "cinder-backup",
    }


def test_api_services_run_under_the_wsgi_runner(tmp_path: Path) -> None:
    paths = SandboxPaths.for_name("sandbox", tmp_path)
    argv = services.by_name("neutron").argv(VENV, paths, SandboxSettings(port_base=16000))
    # neutron is off the critical path: it starts at a lower priority (nice execs, same pid)
    assert argv[:3] == ["nice", "-n", str(services.BACKGROUND_NICE)]
    argv = argv[3:]
    assert argv[:3] == ["/venv/bin/python", "-m", services.WSGI_RUNNER]
    assert argv[argv.index("--port") + 1] == "16004"
    assert argv.count("--config-file") == 2


def test_nova_compute_is_gated_on_keystone_placement_and_the_users(tmp_path: Path) -> None:
    paths = SandboxPaths.for_name("sandbox", tmp_path)
    argv = services.by_name("nova-compute").argv(VENV, paths, SandboxSettings())
    waits = [argv[i + 1] for i, arg in enumerate(argv) if arg in ("--wait-url", "--wait-file")]
    assert waits == [
        "http://127.0.0.1:15000/v3",
        "http://127.0.0.1:15002/",
        str(paths.data / services.IDENTITY_GATE),
    ]
    assert argv[argv.index("--") + 1 :] == [
        "--config-file",
        str(paths.etc / "nova/nova-compute.conf"),
    ]


def test_the_critical_path_is_not_deprioritised() -> None:
    critical = {s.name for s in services.SERVICES if not s.background}
    assert critical == {"keystone", "placement", "nova-conductor", "nova-scheduler", "nova-compute"}


def test_swift_only_when_enabled() -> None:
    names = {s.name for s in services.enabled(SandboxSettings())}
    assert not any(name.startswith("swift") for name in names)
    assert "swift-proxy" in {s.name for s in services.enabled(SandboxSettings(with_swift=True))}


def test_plugins_are_shipped_beside_the_package() -> None:
    plugins = services.plugin_dir()
    for module in ("dcctl_sbx_wsgi", "dcctl_sbx_run", "dcctl_sbx_ml2", "dcctl_sbx_volume"):
        assert (plugins / f"{module}.py").is_file()
    entry_points = plugins / "dcctl_sandbox_plugins-1.0.dist-info" / "entry_points.txt"
    assert "dcctl_bindall = dcctl_sbx_ml2:BindEverythingDriver" in entry_points.read_text()


def test_only_neutron_and_nova_api_run_several_processes(tmp_path: Path) -> None:
    paths = SandboxPaths.for_name("sandbox", tmp_path)
    assert {s.name for s in services.SERVICES if s.scales} == {"neutron", "nova-api"}
    for workers in (1, 3):
        settings = SandboxSettings(api_workers=workers)
        for service in services.SERVICES:
            if service.kind is not Kind.API or service.swift:
                continue
            argv = service.argv(VENV, paths, settings)
            given = argv[argv.index("--processes") + 1] if "--processes" in argv else None
            assert given == (str(workers) if service.scales else None), service.name
