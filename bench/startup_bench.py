"""Start-up time: ``dcctl --help`` versus ``openstack --help``.

Each command runs ``--runs`` times (default 10) in a fresh process, output discarded, after one
untimed warm-up run each (so both read their files from the page cache). ``dcctl`` is the dev
venv's entry point (``.venv/bin/dcctl``), ``openstack`` the sandbox venv's (the
python-openstackclient that dcctl installs). No cloud is contacted. Target (issue 3): dcctl
≤ 1/10 of openstack. Figures are printed, never asserted.

Reproduce (from the repo root; about 30 s):

    .venv/bin/python bench/startup_bench.py [--runs 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import _common as c

from dcctl.sandbox import installer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    args = parser.parse_args()

    openstack = installer.venv_path() / "bin" / "openstack"
    if not openstack.exists():
        print(f"{openstack} is missing: run 'dcctl sandbox up' once (it installs the venv)")
        return 1
    env = {**os.environ, "OS_CLOUD": "", "PYTHONWARNINGS": "ignore"}
    commands: dict[str, list[str | Path]] = {
        "dcctl --help": [c.DCCTL, "--help"],
        "openstack --help": [openstack, "--help"],
    }
    machine = c.wait_for_quiet(enabled=not args.no_wait)
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        c.run(cmd, env).check(str(cmd[0]))  # warm-up
    for _ in range(args.runs):
        for name, cmd in commands.items():  # interleaved: load changes hit both alike
            result = c.run(cmd, env).check(name)
            walls[name].append(result.wall)
            cpus[name].append(result.cpu)
    dcctl = c.median(walls["dcctl --help"])
    other = c.median(walls["openstack --help"])
    print()
    print(f"Start-up — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {args.runs} runs each")
    print(f"machine before: {machine}; after: {c.load_text()}; python {sys.version.split()[0]}")
    rows = [
        [
            name,
            f"{c.median(walls[name]) * 1000:.0f}",
            f"{min(walls[name]) * 1000:.0f} – {max(walls[name]) * 1000:.0f}",
            f"{c.median(cpus[name]) * 1000:.0f}",
        ]
        for name in commands
    ]
    print(c.table(["command", "median ms", "min – max ms", "CPU ms (median)"], rows))
    verdict = "met" if dcctl <= other / 10 else "NOT met"
    print(f"dcctl = 1/{other / dcctl:.0f} of openstack (target ≤ 1/10: {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
