from __future__ import annotations

import pytest

from dcctl.sandbox import bootstrap
from dcctl.sandbox.settings import SandboxSettings

pytestmark = pytest.mark.unit


def test_catalog_urls_follow_the_port_base() -> None:
    urls = {entry.type: entry.url for entry in bootstrap.catalog(SandboxSettings(port_base=16000))}
    assert urls["identity"] == "http://127.0.0.1:16000/v3"
    assert urls["compute"] == "http://127.0.0.1:16003/v2.1"
    assert urls["volumev3"] == "http://127.0.0.1:16005/v3/%(project_id)s"
    assert "object-store" not in urls


def test_swift_adds_object_store_and_its_user() -> None:
    settings = SandboxSettings(with_swift=True)
    assert "object-store" in {entry.type for entry in bootstrap.catalog(settings)}
    assert "swift" in bootstrap.service_users(settings)


def test_fingerprint_changes_with_what_identity_bootstrap_creates() -> None:
    base = bootstrap.fingerprint(SandboxSettings())
    assert base == bootstrap.fingerprint(SandboxSettings())
    assert base != bootstrap.fingerprint(SandboxSettings(port_base=16000))
    assert base != bootstrap.fingerprint(SandboxSettings(with_swift=True))


def test_flavors_and_image_are_small() -> None:
    assert [flavor.name for flavor in bootstrap.FLAVORS][:3] == ["m1.tiny", "m1.small", "m1.medium"]
    assert len(bootstrap.IMAGE_BYTES) <= 64 * 1024
