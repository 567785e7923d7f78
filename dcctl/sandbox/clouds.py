"""The sandbox's own clouds.yaml (in its state dir; the operator's clouds.yaml is never touched).

dcctl finds it through :func:`dcctl.paths.sandbox_clouds_files`; the ``openstack`` CLI through
the two variables ``dcctl sandbox env`` prints.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from dcctl.sandbox.configs import REGION
from dcctl.sandbox.credentials import write_private
from dcctl.sandbox.settings import SandboxSettings


def cloud_entry(settings: SandboxSettings, admin_password: str) -> dict[str, Any]:
    return {
        "auth": {
            "auth_url": settings.ports.url("keystone") + "/v3",
            "username": "admin",
            "password": admin_password,
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": REGION,
        "identity_api_version": 3,
        "interface": "public",
    }


def write_clouds_file(path: Path, settings: SandboxSettings, admin_password: str) -> None:
    """Write the one-entry clouds.yaml (mode 0600: it holds the admin password)."""
    document = {"clouds": {settings.cloud_name: cloud_entry(settings, admin_password)}}
    header = (
        f"# Written by 'dcctl sandbox up' for sandbox '{settings.name}'. Regenerated on every up.\n"
    )
    write_private(path, header + yaml.safe_dump(document, sort_keys=False))


def environment(path: Path, settings: SandboxSettings) -> dict[str, str]:
    return {"OS_CLIENT_CONFIG_FILE": str(path), "OS_CLOUD": settings.cloud_name}


def export_lines(env: dict[str, str]) -> list[str]:
    """Shell lines for ``eval "$(dcctl sandbox env)"``."""
    return [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
