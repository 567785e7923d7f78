"""Health check of a cloud before dcctl is trusted with it.

Each check is one function returning ``Check`` records; a failed prerequisite (no config, no
token) turns the checks that need it into ``skip`` instead of tracebacks, so the operator sees
the one thing to fix first.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from keystoneauth1 import exceptions as ka
from openstack import exceptions as sdk
from openstack.connection import Connection

from dcctl import __version__
from dcctl.cloud.connection import CloudEntry, resolve
from dcctl.cloud.errors import translate
from dcctl.cloud.proxies import access_info, identity
from dcctl.errors import DcctlError

# Service types dcctl needs, with the catalog aliases each may be registered under.
REQUIRED_SERVICES: dict[str, tuple[str, ...]] = {
    "identity": ("identity",),
    "compute": ("compute",),
    "network": ("network",),
    "volumev3": ("volumev3", "block-storage", "volume"),
    "image": ("image",),
    "placement": ("placement",),
}
OPTIONAL_SERVICES: dict[str, tuple[str, ...]] = {"object-store": ("object-store",)}
CERT_EXPIRY_WARN_DAYS = 30
TLS_TIMEOUT_S = 10.0


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str | None = None


@dataclass
class DoctorReport:
    cloud: str | None
    auth_url: str = ""
    source: str = ""
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.status != Status.FAIL for check in self.checks)

    def counts(self) -> dict[str, int]:
        return {status.value: sum(c.status == status for c in self.checks) for status in Status}

    def as_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "auth_url": self.auth_url,
            "source": self.source,
            "ok": self.ok,
            "counts": self.counts(),
            "checks": [asdict(check) for check in self.checks],
        }


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    not_after: datetime

    def days_left(self, now: datetime | None = None) -> int:
        return (self.not_after - (now or datetime.now(UTC))).days


def run_doctor(
    cloud: str | None,
    *,
    connect: Callable[[CloudEntry], Connection] | None = None,
) -> DoctorReport:
    """Run every check against ``cloud`` and return the report (never raises for cloud faults)."""
    report = DoctorReport(cloud=cloud)
    try:
        entry = resolve(cloud)
    except DcctlError as error:
        report.checks.append(Check("config", Status.FAIL, error.message, error.hint))
        return report
    report.auth_url = entry.auth_url
    report.source = str(entry.source or "")
    report.checks.append(
        Check("config", Status.PASS, f"cloud '{entry.name}' from {entry.source or 'environment'}")
    )
    conn = (connect or _default_connect)(entry)

    auth_check, access = _check_auth(conn, entry)
    report.checks.append(auth_check)
    report.checks.extend(_check_tls(entry, _catalog_urls(access) if access else [entry.auth_url]))
    if access is None:
        report.checks.extend(
            Check(name, Status.SKIP, "needs a working login")
            for name in ("catalog", "api versions", "rights", "services")
        )
        return report
    report.checks.append(_check_catalog(access))
    report.checks.extend(_check_api_versions(conn))
    rights = _check_rights(conn, access)
    report.checks.append(rights)
    if rights.status == Status.PASS:
        report.checks.extend(_check_services(conn))
    else:
        report.checks.append(Check("services", Status.SKIP, "needs admin rights to list services"))
    return report


def _default_connect(entry: CloudEntry) -> Connection:
    return Connection(config=entry.region, app_name="dcctl-doctor", app_version=__version__)


# -- authentication ------------------------------------------------------------------------------


def _check_auth(conn: Connection, entry: CloudEntry) -> tuple[Check, Any]:
    started = time.monotonic()
    try:
        conn.session.get_token()
        access = access_info(conn)
    except (ka.ClientException, sdk.SDKException) as error:
        failure = translate(error, cloud=entry.name, action="login")
        return Check("auth", Status.FAIL, failure.message, failure.hint), None
    except DcctlError as error:
        return Check("auth", Status.FAIL, error.message, error.hint), None
    elapsed = time.monotonic() - started
    scope = access.project_name or access.domain_name or "system"
    detail = (
        f"user {access.username}@{access.user_domain_name}, scope {scope}, "
        f"roles {', '.join(sorted(access.role_names)) or 'none'} ({elapsed:.2f} s)"
    )
    return Check("auth", Status.PASS, detail), access


# -- TLS -----------------------------------------------------------------------------------------


def _catalog_urls(access: Any) -> list[str]:
    urls: list[str] = []
    for endpoints in access.service_catalog.get_endpoints(interface="public").values():
        urls.extend(str(endpoint["url"]) for endpoint in endpoints if endpoint)
    return urls


def _check_tls(entry: CloudEntry, urls: Iterable[str]) -> list[Check]:
    config = entry.config
    verify = config.get("verify", True)
    cacert = config.get("cacert")
    origins = sorted({_origin(url) for url in [entry.auth_url, *urls] if url})
    plain = [origin for origin in origins if origin.startswith("http://")]
    secure = [origin for origin in origins if origin.startswith("https://")]
    checks: list[Check] = []
    if plain:
        checks.append(
            Check(
                "tls",
                Status.WARN,
                "plain HTTP: passwords and tokens cross the network unencrypted ("
                + ", ".join(plain)
                + ")",
                "put the endpoints behind HTTPS before production use",
            )
        )
    if secure and verify is False:
        checks.append(
            Check(
                "tls",
                Status.FAIL,
                "certificate verification is disabled in clouds.yaml (verify: false)",
                "remove 'verify: false' and set 'cacert' to the provincial CA bundle",
            )
        )
        return checks
    for origin in secure:
        checks.append(_check_certificate(origin, cacert))
    return checks


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def fetch_certificate(host: str, port: int, cafile: str | None) -> CertificateInfo:
    """Verify the chain (and host name) against ``cafile`` or the system store."""
    context = ssl.create_default_context(cafile=cafile)
    with (
        socket.create_connection((host, port), timeout=TLS_TIMEOUT_S) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        peer = tls.getpeercert()
    if not peer:
        raise ssl.SSLError("the server sent no certificate")
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(peer["notAfter"])), tz=UTC)
    return CertificateInfo(
        subject=_dn(peer.get("subject", ())),
        issuer=_dn(peer.get("issuer", ())),
        not_after=not_after,
    )


def _dn(parts: Any) -> str:
    return ", ".join(f"{key}={value}" for rdn in parts for key, value in rdn)


def _check_certificate(origin: str, cacert: str | None) -> Check:
    parts = urlsplit(origin)
    host, port = parts.hostname or "", parts.port or 443
    against = cacert or "the system CA store"
    try:
        cert = fetch_certificate(host, port, cacert)
    except ssl.SSLCertVerificationError as error:
        return Check(
            f"tls {host}:{port}",
            Status.FAIL,
            f"certificate not trusted by {against}: {error.verify_message}",
            "set 'cacert' in clouds.yaml to the CA that signed it (e.g. the provincial CA)",
        )
    except (OSError, ssl.SSLError) as error:
        return Check(f"tls {host}:{port}", Status.FAIL, f"TLS handshake failed: {error}")
    days = cert.days_left()
    detail = (
        f"chain verified against {against}; {cert.subject}; "
        f"expires {cert.not_after:%Y-%m-%d} ({days} days)"
    )
    if days < 0:
        return Check(f"tls {host}:{port}", Status.FAIL, detail, "renew the certificate now")
    if days < CERT_EXPIRY_WARN_DAYS:
        return Check(f"tls {host}:{port}", Status.WARN, detail, "renew the certificate soon")
    return Check(f"tls {host}:{port}", Status.PASS, detail)


# -- catalog and APIs ----------------------------------------------------------------------------


def _check_catalog(access: Any) -> Check:
    present = set(access.service_catalog.get_endpoints(interface="public"))
    missing = [
        name for name, aliases in REQUIRED_SERVICES.items() if not present.intersection(aliases)
    ]
    optional = [
        name for name, aliases in OPTIONAL_SERVICES.items() if present.intersection(aliases)
    ]
    if missing:
        return Check(
            "catalog",
            Status.FAIL,
            "missing services: " + ", ".join(missing),
            "register the services' public endpoints in Keystone",
        )
    extra = f" (+ {', '.join(optional)})" if optional else ""
    return Check("catalog", Status.PASS, ", ".join(REQUIRED_SERVICES) + extra)


# One cheap read per service proves it answers beyond version discovery.
_PROBES: dict[str, Callable[[Connection], object]] = {
    "identity": lambda conn: next(iter(identity(conn).regions()), None),
    "compute": lambda conn: next(iter(conn.compute.flavors(limit=1)), None),
    "network": lambda conn: next(iter(conn.network.networks(limit=1)), None),
    "volumev3": lambda conn: next(iter(conn.block_storage.types()), None),
    "image": lambda conn: next(iter(conn.image.images(limit=1)), None),
    "placement": lambda conn: next(iter(conn.placement.resource_providers()), None),
}


def _check_api_versions(conn: Connection) -> list[Check]:
    checks: list[Check] = []
    for service, probe in _PROBES.items():
        name = f"api {service}"
        try:
            data = conn.session.get_endpoint_data(
                service_type=service, interface="public", region_name=conn.config.region_name
            )
            started = time.monotonic()
            probe(conn)
            elapsed = time.monotonic() - started
        except (ka.ClientException, sdk.SDKException) as error:
            failure = translate(error, action=f"{service} API")
            checks.append(Check(name, Status.FAIL, failure.message, failure.hint))
            continue
        if data is None:
            checks.append(Check(name, Status.FAIL, "no endpoint found in the catalog"))
            continue
        version = _version(data.api_version)
        micro = ""
        if data.max_microversion:
            micro = f", microversions {_version(data.min_microversion)}–"
            micro += _version(data.max_microversion)
        checks.append(
            Check(name, Status.PASS, f"v{version}{micro} at {data.url} ({elapsed:.2f} s)")
        )
    return checks


def _version(value: Any) -> str:
    if not value:
        return "?"
    return ".".join(str(part) for part in value)


# -- rights and services -------------------------------------------------------------------------


def _check_rights(conn: Connection, access: Any) -> Check:
    roles = set(access.role_names)
    try:
        domains = list(identity(conn).domains())
    except sdk.ForbiddenException:
        level = "reader" if "reader" in roles else "member"
        return Check(
            "rights",
            Status.WARN,
            f"{level} only (roles: {', '.join(sorted(roles)) or 'none'})",
            "plan, show and compliance work; apply, suspend and delete need the admin role",
        )
    except (ka.ClientException, sdk.SDKException) as error:
        failure = translate(error, action="admin probe")
        return Check("rights", Status.FAIL, failure.message, failure.hint)
    return Check("rights", Status.PASS, f"admin (can list all {len(domains)} domains)")


def _check_services(conn: Connection) -> list[Check]:
    checks: list[Check] = []
    probes: dict[str, Callable[[], list[Any]]] = {
        "compute services": lambda: list(conn.compute.services()),
        "volume services": lambda: list(conn.block_storage.services()),
    }
    for name, list_services in probes.items():
        try:
            services = list_services()
        except (ka.ClientException, sdk.SDKException) as error:
            failure = translate(error, action=name)
            checks.append(Check(name, Status.FAIL, failure.message, failure.hint))
            continue
        down = [
            f"{service.binary}@{service.host}"
            for service in services
            if service.state != "up" or service.status != "enabled"
        ]
        if not services:
            checks.append(Check(name, Status.FAIL, "none registered"))
        elif down:
            checks.append(
                Check(
                    name,
                    Status.FAIL,
                    "down or disabled: " + ", ".join(down),
                    "check those services' logs on their hosts",
                )
            )
        else:
            binaries = sorted({str(service.binary) for service in services})
            checks.append(Check(name, Status.PASS, f"{len(services)} up: {', '.join(binaries)}"))
    try:
        providers = list(conn.placement.resource_providers())
    except (ka.ClientException, sdk.SDKException) as error:
        failure = translate(error, action="placement")
        checks.append(Check("capacity", Status.FAIL, failure.message, failure.hint))
        return checks
    if providers:
        checks.append(
            Check("capacity", Status.PASS, f"{len(providers)} resource provider(s) in placement")
        )
    else:
        checks.append(
            Check(
                "capacity",
                Status.FAIL,
                "no compute resource providers in placement",
                "start nova-compute and run 'nova-manage cell_v2 discover_hosts'",
            )
        )
    return checks
