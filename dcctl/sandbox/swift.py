"""Optional Swift (``--with-swift``): one-replica rings on a local directory, keystone auth.

Swift costs about 235 MiB RSS and a few seconds of start-up, so it is off by default; see the
README's sandbox section.
"""

from __future__ import annotations

from dcctl.sandbox import subproc
from dcctl.sandbox.installer import Venv
from dcctl.sandbox.settings import SandboxPaths, SandboxSettings

DEVICE = "sdb1"
RING_RUNNER = "dcctl_sbx_swiftrings"


def ensure_rings(
    settings: SandboxSettings, paths: SandboxPaths, venv: Venv, env: dict[str, str]
) -> None:
    """Create the device directory and the rings (idempotent; existing rings are kept)."""
    swift_dir = paths.etc / "swift"
    swift_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (paths.data / "swift" / "disk" / DEVICE).mkdir(parents=True, exist_ok=True)
    (paths.data / "swift" / "cache").mkdir(parents=True, exist_ok=True)
    if all(
        (swift_dir / f"{kind}.ring.gz").is_file() for kind in ("account", "container", "object")
    ):
        return
    ports = settings.ports
    subproc.run(
        [
            str(venv.python),
            "-m",
            RING_RUNNER,
            str(swift_dir),
            DEVICE,
            str(ports.port("swift-account")),
            str(ports.port("swift-container")),
            str(ports.port("swift-object")),
        ],
        env=env,
        what="build swift rings",
        timeout=120,
    )
