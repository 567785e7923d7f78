"""Create the sandbox's cloud contents through the APIs (openstacksdk), idempotently.

Two phases: :func:`bootstrap_identity` runs as soon as Keystone answers (service users, roles,
the ``quangngai`` domain, the catalog) because the other services need it to authenticate;
:func:`bootstrap_resources` runs once every API answers (external network, image, flavors).
Every step looks before it creates, so a restart creates nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dcctl.progress import Reporter
from dcctl.sandbox.configs import PHYSNET, REGION
from dcctl.sandbox.credentials import Secrets
from dcctl.sandbox.settings import SandboxSettings

SERVICE_PROJECT = "service"
DEFAULT_DOMAIN_ID = "default"
DOMAIN = "quangngai"
ROLES = ("admin", "member", "reader", "service")
SERVICE_USERS = ("glance", "placement", "nova", "neutron", "cinder")
EXTERNAL_NETWORK = "public"
EXTERNAL_SUBNET = "public-subnet"
EXTERNAL_CIDR = "172.24.4.0/24"
EXTERNAL_GATEWAY = "172.24.4.1"
EXTERNAL_POOL = ("172.24.4.10", "172.24.4.250")
IMAGE_NAME = "sandbox-tiny"
#: The APIs bootstrap_resources talks to (it does not need nova-compute).
RESOURCE_APIS = ("neutron", "glance", "nova-api")
#: A few KB, raw: enough for nova's fake driver and for volume-from-image tests.
IMAGE_BYTES = b"dcctl sandbox tiny raw image\n".ljust(4096, b"\0")


@dataclass(frozen=True)
class Flavor:
    name: str
    vcpus: int
    ram: int  # MiB
    disk: int  # GiB


FLAVORS = (
    Flavor("m1.tiny", 1, 512, 1),
    Flavor("m1.small", 1, 2048, 20),
    Flavor("m1.medium", 2, 4096, 40),
    Flavor("m1.large", 4, 8192, 80),
)


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    type: str
    url: str
    description: str


def catalog(settings: SandboxSettings) -> list[CatalogEntry]:
    ports = settings.ports
    entries = [
        # Created by keystone-manage bootstrap; listed so a new port base updates its URLs.
        CatalogEntry("keystone", "identity", ports.url("keystone") + "/v3", "Identity"),
        CatalogEntry("glance", "image", ports.url("glance"), "Image"),
        CatalogEntry("placement", "placement", ports.url("placement"), "Placement"),
        CatalogEntry("nova", "compute", ports.url("nova-api") + "/v2.1", "Compute"),
        CatalogEntry("neutron", "network", ports.url("neutron"), "Networking"),
        CatalogEntry(
            "cinderv3", "volumev3", ports.url("cinder-api") + "/v3/%(project_id)s", "Block Storage"
        ),
    ]
    if settings.with_swift:
        entries.append(
            CatalogEntry(
                "swift",
                "object-store",
                ports.url("swift-proxy") + "/v1/AUTH_%(project_id)s",
                "Object Storage",
            )
        )
    return entries


def fingerprint(settings: SandboxSettings) -> str:
    """Identifies what bootstrap_identity establishes (changes with ports and --with-swift)."""
    parts = [f"{e.name}|{e.type}|{e.url}" for e in catalog(settings)]
    parts += list(service_users(settings))
    parts.append(f"service users: {IGNORE_FIRST_USE}")  # bump: re-run on sandboxes made before
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def service_users(settings: SandboxSettings) -> tuple[str, ...]:
    return (*SERVICE_USERS, "swift") if settings.with_swift else SERVICE_USERS


Report = Callable[[str, str], None]


def _reporter(reporter: Reporter) -> Report:
    def report(kind: str, name: str) -> None:
        reporter.step("bootstrap", "created", f"{kind} {name}")

    return report


def bootstrap_identity(
    conn: Any, settings: SandboxSettings, secrets: Secrets, reporter: Reporter
) -> None:
    """Roles, service project and users, the quangngai domain and the service catalog.

    Lists each kind once instead of one lookup per item: on a restart this runs while every
    other service is still starting, and Keystone answers slowly then.
    """
    report = _reporter(reporter)
    identity = conn.identity
    roles = _ensure_roles(identity, report)
    _ensure_service_users(identity, settings, secrets, roles, report)
    if identity.find_domain(DOMAIN) is None:
        identity.create_domain(name=DOMAIN, description="Quang Ngai province", enabled=True)
        report("domain", DOMAIN)
    _ensure_catalog(identity, catalog(settings), report)
    if not settings.with_swift:  # swift was enabled before: drop its dead endpoints
        _remove_service(identity, "object-store", "swift", report)


def _ensure_roles(identity: Any, report: Report) -> dict[str, Any]:
    roles = {role.name: role for role in identity.roles()}
    for name in ROLES:
        if name not in roles:
            roles[name] = identity.create_role(name=name)
            report("role", name)
    return roles


#: Keystone user option exempting a user from ``change_password_upon_first_use``.
IGNORE_FIRST_USE = "ignore_change_password_upon_first_use"


def exempt_from_first_use(identity: Any, user_id: str, password: str) -> None:
    """Exempt a service user from the change-at-first-login rule that agency users obey.

    Keystone checks ``ignore_change_password_upon_first_use`` before it stores a new user's
    options, so the user's first password is born expired; one PATCH that sets the option and
    the password again stores the option first and leaves the new password unexpired. (Raw
    PATCH: openstacksdk would drop a password equal to the one it sent at creation.)
    """
    response = identity.patch(
        f"/users/{user_id}",
        json={"user": {"options": {IGNORE_FIRST_USE: True}, "password": password}},
    )
    response.raise_for_status()


def _ensure_service_users(
    identity: Any,
    settings: SandboxSettings,
    secrets: Secrets,
    roles: dict[str, Any],
    report: Report,
) -> None:
    """The service project and one user per service, with admin and service roles in it."""
    project = next(iter(identity.projects(domain_id=DEFAULT_DOMAIN_ID, name=SERVICE_PROJECT)), None)
    if project is None:
        project = identity.create_project(
            name=SERVICE_PROJECT, domain_id=DEFAULT_DOMAIN_ID, description="OpenStack service users"
        )
        report("project", SERVICE_PROJECT)
    users = {user.name: user for user in identity.users(domain_id=DEFAULT_DOMAIN_ID)}
    assigned = {
        (assignment.user["id"], assignment.role["id"])
        for assignment in identity.role_assignments(scope_project_id=project.id)
        if assignment.user
    }
    for name in service_users(settings):
        user = users.get(name)
        if user is None:
            user = identity.create_user(
                name=name, password=secrets[name], domain_id=DEFAULT_DOMAIN_ID
            )
            report("user", name)
        if user.password_expires_at is not None:
            exempt_from_first_use(identity, user.id, secrets[name])
        for role in ("admin", "service"):
            if (user.id, roles[role].id) not in assigned:
                identity.assign_project_role_to_user(project, user, roles[role])


def _ensure_catalog(identity: Any, entries: list[CatalogEntry], report: Report) -> None:
    """A public and an internal endpoint per service; a changed port base updates the URLs."""
    known = {(service.type, service.name): service for service in identity.services()}
    endpoints: dict[str, dict[str, Any]] = {}
    for endpoint in identity.endpoints():
        endpoints.setdefault(endpoint.service_id, {})[endpoint.interface] = endpoint
    for entry in entries:
        service = known.get((entry.type, entry.name))
        if service is None:
            service = identity.create_service(
                name=entry.name, type=entry.type, description=entry.description, is_enabled=True
            )
            report("service", entry.name)
        existing = endpoints.get(service.id, {})
        for interface in ("public", "internal"):
            if interface not in existing:
                identity.create_endpoint(
                    service_id=service.id, interface=interface, url=entry.url, region_id=REGION
                )
                report("endpoint", f"{entry.name} {interface}")
        for interface, endpoint in existing.items():
            if endpoint.url != entry.url:
                identity.update_endpoint(endpoint, url=entry.url)
                report("endpoint", f"{entry.name} {interface} (new URL)")


def _remove_service(identity: Any, service_type: str, name: str, report: Report) -> None:
    for service in identity.services():
        if service.type == service_type and service.name == name:
            for endpoint in identity.endpoints(service_id=service.id):
                identity.delete_endpoint(endpoint)
            identity.delete_service(service)
            report("removed service", name)


def bootstrap_resources(conn: Any, reporter: Reporter) -> None:
    """External network and subnet, the tiny public image, the m1.* flavors."""
    report = _reporter(reporter)
    network = conn.network.find_network(EXTERNAL_NETWORK)
    if network is None:
        network = conn.network.create_network(
            name=EXTERNAL_NETWORK,
            is_router_external=True,
            provider_network_type="flat",
            provider_physical_network=PHYSNET,
        )
        report("network", EXTERNAL_NETWORK)
    if conn.network.find_subnet(EXTERNAL_SUBNET, network_id=network.id) is None:
        conn.network.create_subnet(
            name=EXTERNAL_SUBNET,
            network_id=network.id,
            ip_version=4,
            cidr=EXTERNAL_CIDR,
            gateway_ip=EXTERNAL_GATEWAY,
            is_dhcp_enabled=False,
            allocation_pools=[{"start": EXTERNAL_POOL[0], "end": EXTERNAL_POOL[1]}],
        )
        report("subnet", EXTERNAL_SUBNET)
    if conn.image.find_image(IMAGE_NAME) is None:
        image = conn.image.create_image(
            name=IMAGE_NAME,
            disk_format="raw",
            container_format="bare",
            visibility="public",
            data=IMAGE_BYTES,
        )
        conn.image.wait_for_status(image, status="active", wait=60)
        report("image", IMAGE_NAME)
    for flavor in FLAVORS:
        if conn.compute.find_flavor(flavor.name) is None:
            conn.compute.create_flavor(
                name=flavor.name, vcpus=flavor.vcpus, ram=flavor.ram, disk=flavor.disk
            )
            report("flavor", flavor.name)
