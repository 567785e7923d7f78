"""Which sandbox, and every name derived from it: databases, MariaDB user, RabbitMQ vhost, paths.

Everything that must differ between two sandboxes on one machine is derived here from the
sandbox name, so that the derivation is tested once and cannot drift between modules.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dcctl.errors import DataError, UsageError
from dcctl.paths import state_dir
from dcctl.sandbox.ports import DEFAULT_PORT_BASE, PortLayout

DEFAULT_NAME = "sandbox"
MAX_API_WORKERS = 8
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
#: Logical database names; the MariaDB names add the sandbox prefix.
DATABASES = (
    "keystone",
    "glance",
    "placement",
    "nova_api",
    "nova",
    "nova_cell0",
    "neutron",
    "cinder",
)


def validate_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"invalid sandbox name {name!r}",
            hint="use 1-24 characters: lower-case letters, digits and '-', starting with a letter",
        )
    return name


@dataclass(frozen=True)
class SandboxSettings:
    """The persistent choices of one sandbox (``sandbox.json`` in its state dir)."""

    name: str = DEFAULT_NAME
    port_base: int = DEFAULT_PORT_BASE
    with_swift: bool = False
    #: ``debug = true`` in every service's config (the test suite greps these logs for secrets).
    debug_logs: bool = False
    #: Processes of the busiest APIs (neutron, nova-api). 1 keeps the sandbox small (each more
    #: costs ~170 MiB); a production cloud runs one per core.
    api_workers: int = 1

    def __post_init__(self) -> None:
        validate_name(self.name)
        if not 1 <= self.api_workers <= MAX_API_WORKERS:
            raise UsageError(
                f"api_workers must be 1-{MAX_API_WORKERS}, not {self.api_workers}",
                hint="give --api-workers a small number, e.g. the machine's cores",
            )
        PortLayout(self.port_base)  # validates the range

    @property
    def ports(self) -> PortLayout:
        return PortLayout(self.port_base)

    @property
    def db_prefix(self) -> str:
        """``dcctl_<name>`` with '-' → '_'; injective because names never contain '_'."""
        return "dcctl_" + self.name.replace("-", "_")

    def database(self, logical: str) -> str:
        if logical not in DATABASES:
            raise KeyError(logical)
        return f"{self.db_prefix}_{logical}"

    @property
    def databases(self) -> dict[str, str]:
        return {logical: self.database(logical) for logical in DATABASES}

    @property
    def db_user(self) -> str:
        return self.db_prefix

    @property
    def rabbit_vhost(self) -> str:
        return f"dcctl-{self.name}"

    @property
    def rabbit_user(self) -> str:
        return f"dcctl-{self.name}"

    @property
    def cloud_name(self) -> str:
        """The clouds.yaml entry: the sandbox name itself (``sandbox`` for the default one)."""
        return self.name

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: Path) -> SandboxSettings:
        try:
            return cls(
                name=str(data["name"]),
                port_base=int(data["port_base"]),
                with_swift=bool(data.get("with_swift", False)),
                debug_logs=bool(data.get("debug_logs", False)),
                api_workers=int(data.get("api_workers", 1)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(
                f"{source}: invalid sandbox settings ({error})",
                hint="fix the file or run 'dcctl sandbox reset --yes-wipe'",
            ) from error


@dataclass(frozen=True)
class SandboxPaths:
    """Where one sandbox keeps its state; all of it goes away on ``reset``."""

    root: Path
    name: str = field(default=DEFAULT_NAME)

    @classmethod
    def for_name(cls, name: str, base: Path | None = None) -> SandboxPaths:
        return cls(root=(base or state_dir()) / "sandboxes" / validate_name(name), name=name)

    @property
    def settings_file(self) -> Path:
        return self.root / "sandbox.json"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def clouds_file(self) -> Path:
        return self.root / "clouds.yaml"

    @property
    def records_file(self) -> Path:
        return self.root / "processes.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def migrated_file(self) -> Path:
        return self.root / "migrated.json"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def log(self, service: str) -> Path:
        return self.logs / f"{service}.log"


def load_settings(paths: SandboxPaths) -> SandboxSettings | None:
    """The saved settings of a sandbox, or None if it was never brought up."""
    if not paths.settings_file.is_file():
        return None
    try:
        data = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DataError(f"{paths.settings_file}: {error}") from error
    if not isinstance(data, dict):
        raise DataError(f"{paths.settings_file}: expected a JSON object")
    return SandboxSettings.from_json(data, source=paths.settings_file)


def save_settings(paths: SandboxPaths, settings: SandboxSettings) -> None:
    paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(settings.to_json(), indent=2, sort_keys=True) + "\n"
    tmp = paths.settings_file.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(paths.settings_file)


def known_sandboxes(base: Path | None = None) -> list[SandboxSettings]:
    """Every sandbox with saved settings under the state dir."""
    root = (base or state_dir()) / "sandboxes"
    found: list[SandboxSettings] = []
    if not root.is_dir():
        return found
    for child in sorted(root.iterdir()):
        if not NAME_PATTERN.fullmatch(child.name):
            continue
        settings = load_settings(SandboxPaths(root=child, name=child.name))
        if settings is not None:
            found.append(settings)
    return found
