"""Shared pytest configuration.

Tests mirror the package tree (tests/sandbox ↔ dcctl/sandbox, …). Every test module declares
``pytestmark = pytest.mark.unit`` (no services) or ``pytest.mark.integration`` (real sandbox
OpenStack and local services); an unmarked test is a collection error, so the two suites
(``-m unit``, ``-m integration``) always add up to the whole.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dcctl.sandbox.handle import SandboxHandle

#: The sandbox the test suite runs against; it sits beside a developer's own ``sandbox``.
TEST_SANDBOX = "dcctl-test"
#: Its default port base (ports base..base+19); the demo sandbox uses 15000.
TEST_PORT_BASE = int(os.environ.get("DCCTL_TEST_SANDBOX_PORT_BASE", "16000"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [
        item.nodeid
        for item in items
        if not any(item.get_closest_marker(marker) for marker in ("unit", "integration"))
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests without a 'unit' or 'integration' marker: " + ", ".join(unmarked[:10])
        )


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxHandle]:
    """A running real OpenStack sandbox named ``dcctl-test``, shared by the whole session.

    Brings the sandbox up with debug logging in every service (installing the OpenStack venv
    on first use: ~1-2 min; a cold start from empty databases ~50 s; a restart ~15 s), or
    reuses it if it already runs. Its port base
    is 16000 unless ``DCCTL_TEST_SANDBOX_PORT_BASE`` says otherwise (or the sandbox was created
    earlier with another base, which is kept). If this fixture started it, it stops it at the
    end of the session, unless ``DCCTL_TEST_KEEP_SANDBOX=1``.

    The handle (:class:`dcctl.sandbox.handle.SandboxHandle`) gives:

    - ``cloud``: the cloud name (``dcctl-test``), for ``dcctl --cloud`` or openstacksdk;
    - ``clouds_file``: the clouds.yaml that defines it (dcctl finds it by itself);
    - ``env``: ``{"OS_CLIENT_CONFIG_FILE": ..., "OS_CLOUD": ...}`` for subprocesses, and
      ``subprocess_env()`` = ``os.environ`` + ``env`` + the sandbox venv on PATH (``openstack``);
    - ``state_dir``: the sandbox's state directory (logs under ``logs/<service>.log``);
    - ``connect()``: a new openstacksdk Connection as the cloud admin.

    Tests share one cloud: give every resource a unique name (e.g. a uuid suffix), delete what
    you create (also on failure), and never assume you are alone in a project. Do not stop or
    reset the sandbox from a test; a test that must restart it has to bring it back up.
    """
    from dcctl.sandbox.lifecycle import Sandbox

    box = Sandbox(TEST_SANDBOX)
    was_running = box.status().running
    port_base = None if box.settings is not None else TEST_PORT_BASE
    # Debug logging everywhere: tests/tenant/test_secrets.py greps these logs for passwords.
    if was_running and box.settings is not None and not box.settings.debug_logs:
        box.down()
        was_running = False
    box.up(port_base=port_base, debug_logs=True)
    try:
        yield box.handle()
    finally:
        if not was_running and os.environ.get("DCCTL_TEST_KEEP_SANDBOX") != "1":
            box.down()
