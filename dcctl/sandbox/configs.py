"""Render the services' config files from the Jinja2 templates shipped in ``templates/``.

Configs are regenerated on every ``up`` from the sandbox settings, its secrets and the venv path,
so they always match the running code; the files are 0600 because they hold passwords.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from dcctl.sandbox import database
from dcctl.sandbox.credentials import Secrets, write_private
from dcctl.sandbox.installer import Venv
from dcctl.sandbox.ports import OFFSETS
from dcctl.sandbox.settings import DATABASES, SandboxPaths, SandboxSettings

REGION = "RegionOne"
PHYSNET = "public"

#: rendered file (relative to the sandbox's etc dir) -> template name and extra variables
FILES: Mapping[str, tuple[str, Mapping[str, Any]]] = {
    "keystone/keystone.conf": ("keystone.conf.j2", {}),
    "keystone/keystone-bootstrap.conf": ("keystone-bootstrap.conf.j2", {}),
    "glance/glance-api.conf": ("glance-api.conf.j2", {}),
    "placement/placement.conf": ("placement.conf.j2", {}),
    "nova/nova.conf": ("nova.conf.j2", {"compute": False}),
    "nova/nova-compute.conf": ("nova.conf.j2", {"compute": True}),
    "neutron/neutron.conf": ("neutron.conf.j2", {}),
    "neutron/ml2_conf.ini": ("ml2_conf.ini.j2", {}),
    "cinder/cinder.conf": ("cinder.conf.j2", {}),
}
#: paste files shipped in the venv, copied beside the configs: nova and glance load their paste
#: pipeline from their config *directory* (OS_NOVA_CONFIG_DIR, OS_GLANCE_CONFIG_DIR).
PASTE_FILES = {
    "nova/api-paste.ini": "nova/api-paste.ini",
    "glance/glance-api-paste.ini": "glance/glance-api-paste.ini",
}
SWIFT_FILES: Mapping[str, tuple[str, Mapping[str, Any]]] = {
    "swift/swift.conf": ("swift.conf.j2", {}),
    "swift/proxy-server.conf": ("swift-proxy-server.conf.j2", {}),
    "swift/account-server.conf": ("swift-storage-server.conf.j2", {"kind": "account"}),
    "swift/container-server.conf": ("swift-storage-server.conf.j2", {"kind": "container"}),
    "swift/object-server.conf": ("swift-storage-server.conf.j2", {"kind": "object"}),
}


@dataclass(frozen=True)
class ConfigContext:
    """Everything the templates may use; building it is pure (no I/O)."""

    settings: SandboxSettings
    paths: SandboxPaths
    venv: Venv
    secrets: Secrets = field(repr=False)

    def variables(self) -> dict[str, Any]:
        settings = self.settings
        ports = settings.ports
        return {
            "name": settings.name,
            "host": f"dcctl-{settings.name}",
            "region": REGION,
            "physnet": PHYSNET,
            "with_swift": settings.with_swift,
            "debug_logs": settings.debug_logs,
            "etc": str(self.paths.etc),
            "data": str(self.paths.data),
            "venv_bin": str(self.venv.bin),
            "venv_etc": str(self.venv.etc),
            "urls": {service: ports.url(service) for service in OFFSETS},
            "ports": {service: ports.port(service) for service in OFFSETS},
            "db": {
                logical: database.connection_url(settings, self.secrets["db"], logical)
                for logical in DATABASES
            },
            "transport_url": database.transport_url(settings, self.secrets["rabbit"]),
            "passwords": dict(self.secrets.values),
        }


def _environment() -> jinja2.Environment:
    templates = resources.files("dcctl.sandbox").joinpath("templates")

    def load(name: str) -> str:
        return templates.joinpath(name).read_text(encoding="utf-8")

    # INI files, not HTML: there is nothing to escape, and escaping would corrupt values.
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701
    )


def render_all(context: ConfigContext) -> dict[str, str]:
    """Rendered text of every config file, keyed by its path relative to the etc dir."""
    env = _environment()
    base = context.variables()
    files = dict(FILES)
    if context.settings.with_swift:
        files.update(SWIFT_FILES)
    return {
        relative: env.get_template(template).render({**base, **extra})
        for relative, (template, extra) in files.items()
    }


def write_all(context: ConfigContext) -> list[Path]:
    """Render and write every config file (0600, dirs 0700); returns the paths written."""
    written: list[Path] = []
    for relative, text in render_all(context).items():
        path = context.paths.etc / relative
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(path, text)
        written.append(path)
    for relative, source in PASTE_FILES.items():
        path = context.paths.etc / relative
        write_private(path, (context.venv.etc / source).read_text(encoding="utf-8"))
        written.append(path)
    return written


def fernet_key() -> str:
    """A Fernet key as keystone-manage fernet_setup writes it (url-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def ensure_key_repository(directory: Path) -> bool:
    """Create keys 0 (staged) and 1 (primary) unless present; True if created.

    Writing them directly saves two ``keystone-manage`` runs (seconds of CPU) per cold start.
    """
    if (directory / "0").is_file() and (directory / "1").is_file():
        return False
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for index in ("0", "1"):
        if not (directory / index).is_file():
            write_private(directory / index, fernet_key())
    return True
