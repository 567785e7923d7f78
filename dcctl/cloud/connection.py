"""Open an openstacksdk connection to a named cloud.

Lookup order: the standard clouds.yaml search of openstacksdk (``OS_CLIENT_CONFIG_FILE``,
``./clouds.yaml``, ``~/.config/openstack/clouds.yaml``, ``/etc/openstack/clouds.yaml``), then the
clouds files that ``dcctl sandbox up`` writes under dcctl's state directory. The operator's own
clouds.yaml is never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keystoneauth1.session import TCPKeepAliveAdapter
from openstack import exceptions
from openstack.config import loader
from openstack.config.cloud_region import CloudRegion
from openstack.connection import Connection

from dcctl import __version__
from dcctl.errors import ConfigError
from dcctl.paths import sandbox_clouds_files


@dataclass(frozen=True)
class CloudEntry:
    name: str
    source: Path | None  # the clouds.yaml file the entry came from
    region: CloudRegion

    @property
    def auth_url(self) -> str:
        return str(self.region.config.get("auth", {}).get("auth_url", ""))

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.region.config)


def known_clouds() -> dict[str, Path | None]:
    """Every cloud name dcctl can resolve, with the file that defines it."""
    found: dict[str, Path | None] = {}
    for file in sandbox_clouds_files():
        config = loader.OpenStackConfig(config_files=[str(file)], load_envvars=False)
        for name in config.get_cloud_names():
            found[name] = file
    standard = loader.OpenStackConfig()
    if standard.config_filename:
        for name in standard.get_cloud_names():
            if name != "envvars":
                found[name] = Path(standard.config_filename)
    return found


def resolve(cloud: str | None) -> CloudEntry:
    """Find the cloud entry for ``cloud`` or explain which names exist."""
    if not cloud:
        names = sorted(known_clouds())
        raise ConfigError(
            "no cloud selected",
            hint="pass --cloud NAME or set OS_CLOUD; known clouds: "
            + (", ".join(names) if names else "none (run 'dcctl sandbox up' for a local one)"),
        )
    candidates: list[tuple[Path | None, Any]] = [(None, loader.OpenStackConfig())]
    candidates += [
        (file, loader.OpenStackConfig(config_files=[str(file)], load_envvars=False))
        for file in sandbox_clouds_files()
    ]
    for file, config in candidates:
        if cloud not in config.get_cloud_names():
            continue
        source = file or (Path(config.config_filename) if config.config_filename else None)
        try:
            region = config.get_one(cloud=cloud)
        except exceptions.ConfigException as error:
            raise ConfigError(
                f"cloud '{cloud}' in {source}: {error}", hint="fix that entry in clouds.yaml"
            ) from error
        return CloudEntry(name=cloud, source=source, region=region)
    names = sorted(known_clouds())
    raise ConfigError(
        f"cloud '{cloud}' is not defined in any clouds.yaml",
        hint="known clouds: "
        + (", ".join(names) if names else "none")
        + " (dcctl sandbox up creates 'sandbox')",
    )


#: HTTP connections kept per host: ``--parallel`` agencies × workers per agency share one
#: session, and requests' default of 10 made them open and discard connections.
POOL_SIZE = 64


def connect(cloud: str | None) -> Connection:
    """A connection for ``cloud``; authentication happens on the first request."""
    entry = resolve(cloud)
    conn = Connection(config=entry.region, app_name="dcctl", app_version=__version__)
    http = conn.session.session
    for scheme in list(http.adapters):
        http.mount(scheme, TCPKeepAliveAdapter(pool_maxsize=POOL_SIZE))
    return conn
