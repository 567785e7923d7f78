"""Config rendering: every template renders and says what the services need."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from dcctl.sandbox import configs
from dcctl.sandbox.credentials import KEYS, Secrets
from dcctl.sandbox.installer import Venv
from dcctl.sandbox.settings import SandboxPaths, SandboxSettings

pytestmark = pytest.mark.unit

SECRETS = Secrets({key: f"pw-{key}" for key in KEYS})


def render(tmp_path: Path, **settings: object) -> dict[str, configparser.ConfigParser]:
    context = configs.ConfigContext(
        SandboxSettings(**settings),  # type: ignore[arg-type]
        SandboxPaths.for_name(str(settings.get("name", "sandbox")), tmp_path),
        Venv(Path("/venv")),
        SECRETS,
    )
    parsed = {}
    for relative, text in configs.render_all(context).items():
        parser = configparser.ConfigParser(interpolation=None, strict=True)
        parser.read_string(text, source=relative)
        parsed[relative] = parser
    return parsed


def test_every_file_renders_as_valid_ini(tmp_path: Path) -> None:
    files = render(tmp_path)
    assert set(files) == set(configs.FILES)


def test_nova_compute_has_no_database_sections(tmp_path: Path) -> None:
    files = render(tmp_path)
    assert files["nova/nova.conf"].has_section("database")
    assert files["nova/nova.conf"].has_section("api_database")
    assert not files["nova/nova-compute.conf"].has_section("database")
    assert not files["nova/nova-compute.conf"].has_section("api_database")


def test_services_use_their_own_database_user_and_vhost(tmp_path: Path) -> None:
    files = render(tmp_path, name="dcctl-test", port_base=16000)
    nova = files["nova/nova.conf"]
    assert nova["database"]["connection"] == (
        "mysql+pymysql://dcctl_dcctl_test:pw-db@127.0.0.1:3306/dcctl_dcctl_test_nova?charset=utf8mb4"
    )
    assert nova["DEFAULT"]["transport_url"] == (
        "rabbit://dcctl-dcctl-test:pw-rabbit@127.0.0.1:5672/dcctl-dcctl-test"
    )
    assert files["keystone/keystone.conf"]["database"]["connection"].endswith(
        "/dcctl_dcctl_test_keystone?charset=utf8mb4"
    )
    assert "root" not in nova["database"]["connection"]


def test_ports_follow_the_port_base(tmp_path: Path) -> None:
    files = render(tmp_path, name="dcctl-test", port_base=16000)
    glance = files["glance/glance-api.conf"]
    assert glance["DEFAULT"]["worker_self_reference_url"] == "http://127.0.0.1:16001"
    assert glance["keystone_authtoken"]["auth_url"] == "http://127.0.0.1:16000"


def test_the_facts_from_the_sandbox_notes_are_configured(tmp_path: Path) -> None:
    files = render(tmp_path)
    nova = files["nova/nova.conf"]["DEFAULT"]
    assert nova["compute_driver"] == "fake.FakeDriverWithoutFakeNodes"
    assert nova["vif_plugging_is_fatal"] == "false"
    assert nova["vif_plugging_timeout"] == "0"
    assert files["nova/nova.conf"]["service_user"]["send_service_user_token"] == "true"
    neutron = files["neutron/neutron.conf"]["DEFAULT"]
    assert neutron["service_plugins"] == "router"
    assert neutron["dhcp_agents_per_network"] == "0"
    ml2 = files["neutron/ml2_conf.ini"]
    assert ml2["ml2"]["mechanism_drivers"] == "dcctl_bindall"
    assert ml2["ml2_type_flat"]["flat_networks"] == "public"
    cinder = files["cinder/cinder.conf"]
    assert cinder["file"]["volume_driver"] == "dcctl_sbx_volume.FileVolumeDriver"
    assert cinder["DEFAULT"]["backup_compression_algorithm"] == "zstd"
    assert (
        cinder["DEFAULT"]["resource_query_filters_file"] == "/venv/etc/cinder/resource_filters.json"
    )
    assert cinder["privsep_osbrick"]["helper_command"].startswith("/venv/bin/privsep-helper ")
    for relative in ("nova/nova.conf", "neutron/neutron.conf", "cinder/cinder.conf"):
        assert files[relative]["oslo_messaging_notifications"]["driver"] == "noop"


def test_swift_files_only_with_swift(tmp_path: Path) -> None:
    assert "swift/proxy-server.conf" not in render(tmp_path)
    files = render(tmp_path, with_swift=True)
    proxy = files["swift/proxy-server.conf"]
    assert proxy["DEFAULT"]["bind_port"] == "15006"
    assert files["swift/object-server.conf"]["DEFAULT"]["bind_port"] == "15009"
    assert files["swift/swift.conf"]["swift-hash"]["swift_hash_path_suffix"] == "pw-swift_hash"


def test_written_files_are_private(tmp_path: Path) -> None:
    venv_dir = tmp_path / "venv"
    for source in configs.PASTE_FILES.values():
        (venv_dir / "etc" / source).parent.mkdir(parents=True, exist_ok=True)
        (venv_dir / "etc" / source).write_text("[pipeline:main]\n")
    paths = SandboxPaths.for_name("sandbox", tmp_path)
    written = configs.write_all(
        configs.ConfigContext(SandboxSettings(), paths, Venv(venv_dir), SECRETS)
    )
    assert written
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in written)


def test_fernet_repository_is_created_once(tmp_path: Path) -> None:
    keys = tmp_path / "fernet"
    assert configs.ensure_key_repository(keys)
    first = (keys / "1").read_text()
    assert len(first) == 44  # url-safe base64 of 32 bytes
    assert not configs.ensure_key_repository(keys)
    assert (keys / "1").read_text() == first
