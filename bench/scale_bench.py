"""Onboard 40 agencies at once: ``tenant apply --all --parallel 8`` versus ``--parallel 1``.

The site is a copy of ``inventory/quangngai`` (its 12 agencies) plus 28 generated agencies of the
example shape (``tests.support.sites.agency_doc``), on the real sandbox ``dcctl-bench``. Each
apply starts from an empty site domain (everything of the previous one is deleted first), so
both create the same 40 tenants. Per apply it prints the wall time (no proxy), the CPU time of
the dcctl process (resource usage of the child) and the CPU time each sandbox service spent
meanwhile (``/proc/<pid>/stat`` of every process of the service's session, before and after).
A last ``--parallel 8`` apply goes through ``tests.support.faultproxy.FaultProxy`` to count the
requests and sum the response times per service (concurrent requests overlap, so these sums
exceed the wall time). Keystone keeps its default bcrypt cost. Figures are printed, never
asserted.

Reproduce (from the repo root; brings up sandbox ``dcctl-bench`` on ports 17000+ if needed;
about 10 minutes):

    .venv/bin/python bench/scale_bench.py [--parallel 8 1] [--no-proxied] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import _common as c

from dcctl.sandbox.handle import SandboxHandle

GENERATED = 28  # + the 12 shipped agencies = 40


@dataclass
class Apply:
    parallel: int
    proxied: bool
    wall: float
    client_cpu: float
    service_cpu: dict[str, float]
    load_before: str
    load_after: str
    requests: dict[str, int] = field(default_factory=dict)
    response_time: dict[str, float] = field(default_factory=dict)
    purge_s: float = 0.0


def apply_all(
    handle: SandboxHandle, site: c.BenchSite, env: dict[str, str], parallel: int, tmp: Path | None
) -> Apply:
    """One apply of every agency from an empty domain (through the proxy if ``tmp``)."""
    cmd: list[str | Path] = [c.DCCTL, "--cloud", handle.cloud, "tenant", "apply", "--all"]
    cmd += ["--site", site.path, "--parallel", str(parallel), "--yes"]
    load_before = c.load_text()
    if tmp is None:
        before = c.sandbox_cpu()
        result = c.run(cmd, env).check(f"apply --parallel {parallel}")
        service_cpu = c.cpu_delta(before, c.sandbox_cpu())
        figures = Apply(parallel, False, result.wall, result.cpu, service_cpu, load_before, "")
    else:
        with c.counting(handle, tmp) as cloud:
            before = c.sandbox_cpu()
            result = c.run(cmd, {**env, **cloud.env}).check(f"proxied apply --parallel {parallel}")
            service_cpu = c.cpu_delta(before, c.sandbox_cpu())
            figures = Apply(parallel, True, result.wall, result.cpu, service_cpu, load_before, "")
            figures.requests = c.per_service(cloud)
            figures.response_time = c.time_per_service(cloud)
    figures.load_after = c.load_text()
    summary = [line for line in result.stdout.splitlines() if "ok" in line or "failed" in line]
    failed = [line for line in summary if " failed" in line and "0 failed" not in line]
    if failed:
        raise RuntimeError("agencies failed:\n" + "\n".join(failed))
    print(
        f"--parallel {parallel}{' (proxied)' if tmp else ''}: {result.wall:.1f} s wall, "
        f"dcctl CPU {result.cpu:.1f} s, services CPU {sum(service_cpu.values()):.1f} s "
        f"({figures.load_after})",
        flush=True,
    )
    started = time.monotonic()
    c.purge_domain(handle)
    figures.purge_s = round(time.monotonic() - started, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, nargs="+", default=[8, 1])
    parser.add_argument("--no-proxied", action="store_true", help="skip the counting apply")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    args = parser.parse_args()

    handle = c.sandbox()
    c.lift_admin_rule_quota(handle)
    tmp = Path(tempfile.mkdtemp(prefix="dcctl-bench-scale-"))
    site = c.make_bench_site(tmp, generated=GENERATED, examples=True)
    env = c.base_env(handle, tmp / "state")
    c.validate(site, env)
    c.purge_domain(handle)
    print(f"sandbox {handle.name}; site {site.path} ({len(site.codes)} agencies)", flush=True)
    started = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    runs: list[Apply] = []
    machine: list[str] = []
    try:
        for parallel in args.parallel:
            machine.append(c.wait_for_quiet(enabled=not args.no_wait))
            runs.append(apply_all(handle, site, env, parallel, None))
        if not args.no_proxied:
            machine.append(c.wait_for_quiet(enabled=not args.no_wait))
            runs.append(apply_all(handle, site, env, max(args.parallel), tmp))
    finally:
        c.purge_domain(handle)
    report(started, len(site.codes), runs, machine)
    c.dump(args.json, {"started": started, "machine": machine, "runs": [asdict(r) for r in runs]})
    return 0


def report(started: str, agencies: int, runs: list[Apply], machine: list[str]) -> None:
    timed = [run for run in runs if not run.proxied]
    slowest = max(run.wall for run in timed)
    services = sorted({name for run in runs for name in run.service_cpu})
    busiest = sorted(services, key=lambda s: -max(run.service_cpu.get(s, 0) for run in runs))[:6]
    rows: list[list[Any]] = []
    for run in runs:
        others = sum(v for s, v in run.service_cpu.items() if s not in busiest)
        rows.append(
            [
                f"--parallel {run.parallel}" + (" via proxy" if run.proxied else ""),
                f"{run.wall:.1f}",
                "–" if run.proxied else f"{slowest / run.wall:.2f}×",
                f"{run.client_cpu:.1f}",
                ", ".join(f"{s} {run.service_cpu.get(s, 0):.1f}" for s in busiest)
                + f", others {others:.1f}",
                f"{sum(run.service_cpu.values()):.1f}",
                run.load_after,
            ]
        )
    print()
    print(f"{agencies} agencies, apply --all from an empty domain — {started}")
    print("machine before each apply: " + "; ".join(machine))
    headers = ["apply", "wall s", "speed-up", "dcctl CPU s", "service CPU s (busiest)"]
    print(c.table([*headers, "all services CPU s", "load after"], rows))
    for run in runs:
        if run.proxied:
            total = sum(run.requests.values())
            print()
            print(f"--parallel {run.parallel} via proxy: {total} requests; per service:")
            rows = [
                [label, run.requests[label], f"{run.response_time.get(label, 0):.1f}"]
                for label in run.requests
            ]
            print(c.table(["service", "requests", "sum of response times s"], rows))
    print()
    print(
        "deleting the 40 tenants (bench cleanup) took: " + ", ".join(f"{r.purge_s} s" for r in runs)
    )


if __name__ == "__main__":
    raise SystemExit(main())
