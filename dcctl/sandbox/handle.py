"""What a caller (the test suite, a benchmark, a library user) needs to use a running sandbox."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openstack.connection import Connection


@dataclass(frozen=True)
class SandboxHandle:
    """A running sandbox: its cloud name, clouds file, environment and state directory.

    ``env`` holds ``OS_CLIENT_CONFIG_FILE`` and ``OS_CLOUD``: merge it into a subprocess
    environment to point the ``openstack`` CLI (or ``dcctl --cloud``) at the sandbox.
    """

    name: str
    cloud: str
    clouds_file: Path
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    venv_bin: Path | None = None

    def connect(self) -> Connection:
        """A new openstacksdk Connection as the sandbox's admin (admin project, Default domain)."""
        from openstack.config import loader  # noqa: PLC0415 - openstacksdk is slow to import
        from openstack.connection import Connection  # noqa: PLC0415

        config = loader.OpenStackConfig(config_files=[str(self.clouds_file)], load_envvars=False)
        return Connection(config=config.get_one(cloud=self.cloud), app_name="dcctl-sandbox")

    def subprocess_env(self) -> dict[str, str]:
        """``os.environ`` + ``env``, with the sandbox venv first on PATH (for ``openstack``)."""
        merged = {**os.environ, **self.env}
        if self.venv_bin is not None:
            merged["PATH"] = f"{self.venv_bin}{os.pathsep}{merged.get('PATH', '')}"
        return merged
