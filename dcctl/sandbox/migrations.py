"""Database schemas: run every service's db sync once per lock, in parallel chains.

The ``migrated.json`` marker records the lock hash the schemas were last synced with; a restart
with the same lock and non-empty databases skips the syncs entirely (that is most of the
difference between a 45 s cold start and a 15 s restart). Every sync is idempotent, so running
them again after a failed start is always safe.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from dcctl.errors import ServiceUnavailable
from dcctl.progress import Reporter
from dcctl.sandbox import subproc
from dcctl.sandbox.configs import REGION
from dcctl.sandbox.database import SandboxDB
from dcctl.sandbox.installer import Venv
from dcctl.sandbox.settings import SandboxPaths, SandboxSettings

#: Plugin module (dcctl/sandbox/plugins) that runs nova's four schema steps in one process.
NOVA_DB_RUNNER = "dcctl_sbx_novadb"
#: Niceness of the chains whose services are not on the critical path.
BACKGROUND_NICE = 10


@dataclass(frozen=True)
class Step:
    """One command of a migration chain; ``skip`` decides at run time (idempotence checks)."""

    label: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    skip: Callable[[], bool] | None = None
    #: Niceness: chains off the critical path (keystone → nova → nova-compute) yield the CPU.
    nice: int = 0


def chains(
    settings: SandboxSettings,
    paths: SandboxPaths,
    venv: Venv,
    admin_password: str,
) -> dict[str, list[Step]]:
    """The db syncs per chain; chains run in parallel, steps within a chain in order.

    A chain is named after the service(s) it unblocks (see ``Service.chain``).
    """
    etc = paths.etc
    keystone_url = settings.ports.url("keystone") + "/v3"

    def tool(name: str, *args: str) -> tuple[str, ...]:
        return (str(venv.python), str(venv.script(name)), *args)

    return {
        "keystone": [
            Step("keystone db_sync", tool("keystone-manage", "--config-file",
                 str(etc / "keystone/keystone.conf"), "db_sync")),
            Step(
                "keystone bootstrap",
                tool("keystone-manage", "--config-file", str(etc / "keystone/keystone.conf"),
                     "--config-file", str(etc / "keystone/keystone-bootstrap.conf"),
                     "bootstrap", "--bootstrap-username", "admin",
                     "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                     "--bootstrap-service-name", "keystone", "--bootstrap-region-id", REGION,
                     "--bootstrap-admin-url", keystone_url, "--bootstrap-public-url", keystone_url,
                     "--bootstrap-internal-url", keystone_url),
                # The password travels in the environment, never on a command line.
                env=(("OS_BOOTSTRAP_PASSWORD", admin_password),),
            ),
        ],
        "glance": [
            Step("glance db_sync", tool("glance-manage", "--config-file",
                 str(etc / "glance/glance-api.conf"), "db_sync"), nice=BACKGROUND_NICE),
        ],
        "placement": [
            Step("placement db sync", tool("placement-manage", "--config-file",
                 str(etc / "placement/placement.conf"), "db", "sync")),
        ],
        "nova": [
            # One interpreter for api_db sync, map_cell0, create_cell and db sync (see plugin).
            Step("nova api_db/cells/db sync", (str(venv.python), "-m", NOVA_DB_RUNNER,
                 str(etc / "nova/nova.conf"))),
        ],
        "neutron": [
            Step("neutron db upgrade", tool("neutron-db-manage", "--config-file",
                 str(etc / "neutron/neutron.conf"), "--config-file",
                 str(etc / "neutron/ml2_conf.ini"), "upgrade", "heads"), nice=BACKGROUND_NICE),
        ],
        "cinder": [
            Step("cinder db sync", tool("cinder-manage", "--config-file",
                 str(etc / "cinder/cinder.conf"), "db", "sync"), nice=BACKGROUND_NICE),
        ],
    }  # fmt: skip


def is_current(paths: SandboxPaths, db: SandboxDB, lock_digest: str) -> bool:
    """True if the schemas were synced with this lock and no database is empty."""
    try:
        marker = json.loads(paths.migrated_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("lock") != lock_digest:
        return False
    return all(count > 0 for count in db.table_counts().values())


def mark_current(paths: SandboxPaths, lock_digest: str) -> None:
    paths.migrated_file.write_text(json.dumps({"lock": lock_digest}) + "\n", encoding="utf-8")


class MigrationRun:
    """The db-sync chains running in background threads.

    ``on_done(chain)`` is called (in the chain's thread) as soon as that chain succeeds, so the
    lifecycle can start a service while the others still migrate: Keystone answers long before
    neutron's hundred-odd migrations are through.
    """

    def __init__(
        self,
        steps_by_chain: Mapping[str, Sequence[Step]],
        *,
        env: Mapping[str, str],
        reporter: Reporter,
        on_done: Callable[[str], None],
    ) -> None:
        self._chains = dict(steps_by_chain)
        self._env = dict(env)
        self._reporter = reporter
        self._on_done = on_done
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self._chains)))
        self._futures: dict[str, Future[None]] = {}

    def start(self) -> None:
        for chain, steps in self._chains.items():
            self._futures[chain] = self._pool.submit(self._run_chain, chain, steps)

    def _run_chain(self, chain: str, steps: Sequence[Step]) -> None:
        for step in steps:
            if step.skip is not None and step.skip():
                self._reporter.step(f"db {chain}", "skipped", step.label)
                continue
            started = time.monotonic()
            argv = ("nice", "-n", str(step.nice), *step.argv) if step.nice else step.argv
            subproc.run(argv, env={**self._env, **dict(step.env)}, what=step.label, timeout=600)
            self._reporter.step(
                f"db {chain}", "done", f"{step.label} {time.monotonic() - started:.1f} s"
            )
        self._on_done(chain)

    def done(self, chain: str) -> bool:
        future = self._futures.get(chain)
        return future is None or (future.done() and future.exception() is None)

    def check(self) -> None:
        """Raise the first failure among finished chains (non-blocking)."""
        for chain, future in self._futures.items():
            if future.done() and future.exception() is not None:
                error = future.exception()
                raise ServiceUnavailable(
                    f"database migration for {chain} failed: {error}",
                    hint="fix the cause and run 'dcctl sandbox up' again "
                    "(migrations are idempotent)",
                ) from error

    def wait(self) -> None:
        """Block until every chain is through; raise the first failure."""
        for future in self._futures.values():
            with contextlib.suppress(Exception):
                future.result()
        self.check()

    def close(self) -> None:
        """Wait for running commands (never leave a half-run migration behind) and stop."""
        self._pool.shutdown(wait=True, cancel_futures=True)
