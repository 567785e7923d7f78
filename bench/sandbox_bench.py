"""Measure the sandbox: cold start, restart, memory, and (optionally) a first install.

Usage (from the repo root, with nothing else starting on the machine):

    .venv/bin/python bench/sandbox_bench.py                 # cold start + restart + RSS
    .venv/bin/python bench/sandbox_bench.py --install       # also a first install, empty caches
    .venv/bin/python bench/sandbox_bench.py --runs 3 --json

It uses its own sandbox (``dcctl-bench`` on ports 17000+), resets it before the cold start and
wipes it at the end unless ``--keep``. Figures are printed, never asserted: record them in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dcctl.progress import NullReporter
from dcctl.sandbox import installer, processes
from dcctl.sandbox.lifecycle import Sandbox

GIB = 1024**3
MIB = 1024**2


def measure_install() -> dict[str, float]:
    """Build the venv into a throw-away cache dir with pip's own cache disabled."""
    with tempfile.TemporaryDirectory(prefix="dcctl-bench-cache-") as cache:
        env = {**os.environ, "DCCTL_CACHE_DIR": cache, "PIP_NO_CACHE_DIR": "1"}
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from dcctl.sandbox.installer import ensure_venv; ensure_venv()",
            ],
            env=env,
            check=True,
        )
        elapsed = time.monotonic() - started
        size = sum(f.stat().st_size for f in Path(cache).rglob("*") if f.is_file())
    return {"install_seconds": round(elapsed, 1), "venv_mib": round(size / MIB)}


def sandbox_rss(box: Sandbox) -> dict[str, Any]:
    """RSS of every process of the sandbox (services and their forks/helpers)."""
    stats = processes.all_stats()
    per_service = {
        name: processes.session_rss(record, stats=stats)
        for name, record in box.store.load().items()
    }
    total = sum(per_service.values())
    return {
        "rss_total_gib": round(total / GIB, 3),
        "rss_by_service_mib": {name: round(rss / MIB) for name, rss in per_service.items()},
    }


def timed_up(box: Sandbox, **options: Any) -> float:
    started = time.monotonic()
    result = box.up(**options)
    assert not result.already_running
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="dcctl-bench")
    parser.add_argument("--port-base", type=int, default=17000)
    parser.add_argument("--runs", type=int, default=1, help="cold/restart repetitions")
    parser.add_argument("--install", action="store_true", help="also time a first install")
    parser.add_argument("--with-swift", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    figures: dict[str, Any] = {"cpus": os.cpu_count(), "lock": installer.lock_hash()[:16]}
    if args.install:
        figures.update(measure_install())
    installer.ensure_venv()  # the timed starts below exclude the install

    box = Sandbox(args.name, reporter=NullReporter())
    cold, restart, down = [], [], []
    for _ in range(args.runs):
        box.reset()
        cold.append(timed_up(box, port_base=args.port_base, with_swift=args.with_swift))
        started = time.monotonic()
        box.down()
        down.append(time.monotonic() - started)
        restart.append(timed_up(box))
    time.sleep(5)  # let the services settle after start-up before sampling memory
    figures.update(sandbox_rss(box))
    figures["cold_up_seconds"] = [round(value, 1) for value in cold]
    figures["restart_up_seconds"] = [round(value, 1) for value in restart]
    figures["down_seconds"] = [round(value, 1) for value in down]
    figures["cold_up_median"] = round(statistics.median(cold), 1)
    figures["restart_up_median"] = round(statistics.median(restart), 1)
    if not args.keep:
        box.reset()

    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:22} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
