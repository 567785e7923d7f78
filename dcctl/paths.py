"""Where dcctl keeps files outside the checkout (XDG layout, overridable for tests and CI)."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else Path.home() / default


def cache_dir() -> Path:
    """Reusable, re-creatable data (the sandbox's package venvs). ``DCCTL_CACHE_DIR`` overrides."""
    override = os.environ.get("DCCTL_CACHE_DIR")
    return Path(override) if override else _xdg("XDG_CACHE_HOME", ".cache") / "dcctl"


def state_dir() -> Path:
    """Data that must survive (sandbox state, audit log). ``DCCTL_STATE_DIR`` overrides."""
    override = os.environ.get("DCCTL_STATE_DIR")
    return Path(override) if override else _xdg("XDG_STATE_HOME", ".local/state") / "dcctl"


def sandbox_clouds_files() -> list[Path]:
    """clouds.yaml files written by ``dcctl sandbox up``, one per sandbox, newest name order."""
    root = state_dir() / "sandboxes"
    if not root.is_dir():
        return []
    return sorted(path for path in root.glob("*/clouds.yaml") if path.is_file())
