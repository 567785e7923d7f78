"""End-to-end scenario through openstacksdk against the real sandbox.

A status check proves nothing about storage, so the volume tests write known random bytes and
read them back through another path: glance image → volume → snapshot → volume → glance image
(download and compare), and volume → backup → restore into a new volume → glance image.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dcctl.sandbox.handle import SandboxHandle

pytestmark = pytest.mark.integration

GIB = 1024**3
WAIT = 240


@pytest.fixture
def conn(sandbox: SandboxHandle) -> Any:
    connection = sandbox.connect()
    yield connection
    connection.close()


@pytest.fixture
def cleanup() -> Iterator[Callable[[Callable[[], object]], None]]:
    """Register undo actions; they run in reverse order even when the test fails."""
    actions: list[Callable[[], object]] = []
    yield actions.append
    errors = []
    for action in reversed(actions):
        try:
            action()
        except Exception as error:
            errors.append(error)
    assert not errors, f"cleanup failed: {errors}"


def unique(prefix: str) -> str:
    return f"test-{prefix}-{uuid.uuid4().hex[:8]}"


def test_server_boots_active_with_a_tenant_port_and_a_floating_ip(
    conn: Any, cleanup: Callable[[Callable[[], object]], None]
) -> None:
    network = conn.network.create_network(name=unique("net"))
    cleanup(lambda: conn.network.delete_network(network))
    subnet = conn.network.create_subnet(
        name=unique("subnet"), network_id=network.id, ip_version=4, cidr="10.77.0.0/24"
    )
    public = conn.network.find_network("public", ignore_missing=False)
    router = conn.network.create_router(
        name=unique("router"), external_gateway_info={"network_id": public.id}
    )
    cleanup(lambda: conn.network.delete_router(router))
    conn.network.add_interface_to_router(router, subnet=subnet.id)
    cleanup(lambda: conn.network.remove_interface_from_router(router, subnet=subnet.id))

    server = conn.compute.create_server(
        name=unique("vm"),
        flavor_id=conn.compute.find_flavor("m1.tiny", ignore_missing=False).id,
        image_id=conn.image.find_image("sandbox-tiny", ignore_missing=False).id,
        networks=[{"uuid": network.id}],
    )

    def delete_server() -> None:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=WAIT)

    cleanup(delete_server)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=WAIT)
    assert server.status == "ACTIVE"

    ports = list(conn.network.ports(device_id=server.id))
    assert [port.network_id for port in ports] == [network.id]
    assert ports[0].binding_vif_type == "ovs"  # bound by the sandbox's mechanism driver
    fixed_ips = [ip["ip_address"] for ip in ports[0].fixed_ips]
    assert fixed_ips and fixed_ips[0].startswith("10.77.0.")

    floating = conn.network.create_ip(floating_network_id=public.id, port_id=ports[0].id)
    cleanup(lambda: conn.network.delete_ip(floating))
    assert floating.floating_ip_address.startswith("172.24.4.")
    assert floating.fixed_ip_address == fixed_ips[0]


def _wait_volume(conn: Any, volume: Any, status: str = "available") -> Any:
    return conn.block_storage.wait_for_status(
        volume, status=status, failures=["error", "error_restoring"], wait=WAIT
    )


def _volume(conn: Any, cleanup: Callable[[Callable[[], object]], None], **attrs: Any) -> Any:
    volume = conn.block_storage.create_volume(name=unique("vol"), size=1, **attrs)

    def delete() -> None:
        conn.block_storage.delete_volume(volume)
        conn.block_storage.wait_for_delete(volume, wait=WAIT)

    cleanup(delete)
    return _wait_volume(conn, volume)


def _volume_digest_via_glance(
    conn: Any, volume: Any, cleanup: Callable[[Callable[[], object]], None]
) -> tuple[str, int]:
    """Upload the volume to a new glance image, download it, return (sha256, size)."""
    response = conn.block_storage.post(
        f"/volumes/{volume.id}/action",
        json={
            "os-volume_upload_image": {
                "image_name": unique("upload"),
                "disk_format": "raw",
                "container_format": "bare",
            }
        },
    )
    assert response.status_code == 202, response.text
    image_id = response.json()["os-volume_upload_image"]["image_id"]
    cleanup(lambda: conn.image.delete_image(image_id, ignore_missing=True))
    _wait_volume(conn, conn.block_storage.get_volume(volume.id))
    image = conn.image.wait_for_status(
        conn.image.get_image(image_id), status="active", failures=["killed"], wait=WAIT
    )
    digest = hashlib.sha256()
    size = 0
    for chunk in conn.image.download_image(image, stream=True).iter_content(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


@pytest.fixture
def source_volume(conn: Any, cleanup: Callable[[Callable[[], object]], None]) -> tuple[Any, str]:
    """A 1 GiB volume made from a glance image of random bytes; returns it and its sha256."""
    payload = secrets.token_bytes(2 * 1024 * 1024 + 4321)  # not chunk-aligned on purpose
    image = conn.image.create_image(
        name=unique("payload"), disk_format="raw", container_format="bare", data=payload
    )
    cleanup(lambda: conn.image.delete_image(image, ignore_missing=True))
    conn.image.wait_for_status(image, status="active", wait=WAIT)
    volume = _volume(conn, cleanup, image_id=image.id)
    expected = hashlib.sha256(payload + bytes(GIB - len(payload))).hexdigest()
    return volume, expected


def test_volume_attach_snapshot_and_clone_keep_the_bytes(
    conn: Any,
    cleanup: Callable[[Callable[[], object]], None],
    source_volume: tuple[Any, str],
) -> None:
    volume, expected = source_volume
    server = conn.compute.create_server(
        name=unique("vm"),
        flavor_id=conn.compute.find_flavor("m1.tiny", ignore_missing=False).id,
        image_id=conn.image.find_image("sandbox-tiny", ignore_missing=False).id,
        networks="none",
    )

    def delete_server() -> None:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=WAIT)

    cleanup(delete_server)
    server = conn.compute.wait_for_server(server, wait=WAIT)
    conn.compute.create_volume_attachment(server, volume=volume)
    _wait_volume(conn, volume, "in-use")
    conn.compute.delete_volume_attachment(server, volume.id)
    _wait_volume(conn, volume)

    snapshot = conn.block_storage.create_snapshot(volume_id=volume.id, name=unique("snap"))

    def delete_snapshot() -> None:
        conn.block_storage.delete_snapshot(snapshot)
        conn.block_storage.wait_for_delete(snapshot, wait=WAIT)

    cleanup(delete_snapshot)
    conn.block_storage.wait_for_status(snapshot, status="available", failures=["error"], wait=WAIT)
    clone = _volume(conn, cleanup, snapshot_id=snapshot.id)

    digest, size = _volume_digest_via_glance(conn, clone, cleanup)
    assert size == GIB
    assert digest == expected


def test_backup_and_restore_keep_the_bytes(
    conn: Any,
    cleanup: Callable[[Callable[[], object]], None],
    source_volume: tuple[Any, str],
) -> None:
    volume, expected = source_volume
    backup = conn.block_storage.create_backup(volume_id=volume.id, name=unique("backup"))

    def delete_backup() -> None:
        conn.block_storage.delete_backup(backup)
        conn.block_storage.wait_for_delete(backup, wait=WAIT)

    cleanup(delete_backup)
    conn.block_storage.wait_for_status(backup, status="available", failures=["error"], wait=WAIT)

    target = _volume(conn, cleanup)
    conn.block_storage.restore_backup(backup, volume=target.id)
    conn.block_storage.wait_for_status(
        conn.block_storage.get_backup(backup.id), status="available", failures=["error"], wait=WAIT
    )
    _wait_volume(conn, conn.block_storage.get_volume(target.id))

    digest, size = _volume_digest_via_glance(conn, target, cleanup)
    assert size == GIB
    assert digest == expected
