"""No-change check of 40 applied agencies: ``tenant plan --all`` versus a no-change Ansible run.

Sets up the 40 agencies of ``bench/scale_bench.py`` (the 12 shipped ones + 28 generated, applied
with ``tenant apply --all --parallel 8``) on the real sandbox ``dcctl-bench``, then measures
``dcctl tenant plan --all`` (fresh process each time; exit 2 would mean changes): wall time,
median of ``--runs`` (default 5) without the proxy, and its HTTP requests through
``tests.support.faultproxy.FaultProxy``. Target (issue 3): ≤ 2 s and ≤ 3 requests per agency + 20.

Against it: the second, no-change run of the Ansible playbook (b) of ``bench/onboard_bench.py``
for ONE agency (onboarded by the playbook first, beside the 40), median of 3, scaled ×40 (running
it for 40 agencies would take ~20 minutes; each agency is an independent play, so ×40 is what a
sequential run costs). Its requests are counted through the proxy too. Everything is deleted at
the end. Figures are printed, never asserted.

Reproduce (from the repo root; about 5 minutes):

    .venv/bin/python bench/noop_plan_bench.py [--runs 5] [--json out.json] [--no-wait]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import _common as c

GENERATED = 28
ANSIBLE_RUNS = 3


@dataclass
class Figures:
    started: str
    agencies: int
    machine: str = ""
    apply_s: float = 0.0
    plan_walls: list[float] = field(default_factory=list)
    plan_cpu: list[float] = field(default_factory=list)
    plan_requests: dict[str, int] = field(default_factory=dict)
    plan_exit: int = 0
    ansible_walls: list[float] = field(default_factory=list)
    ansible_requests: dict[str, int] = field(default_factory=dict)
    ansible_recap: dict[str, int] = field(default_factory=dict)
    loads: list[str] = field(default_factory=list)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    args = parser.parse_args()

    handle = c.sandbox()
    c.lift_admin_rule_quota(handle)
    ansible_bin = c.ensure_ansible()
    tmp = Path(tempfile.mkdtemp(prefix="dcctl-bench-noop-"))
    site = c.make_bench_site(tmp, generated=GENERATED, examples=True)
    env = c.base_env(handle, tmp / "state")
    c.validate(site, env)
    figures = Figures(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", len(site.codes))
    # The Ansible agency: generated like the others, but not in the dcctl site.
    extra = c.make_bench_site(tmp / "ansible", generated=1, examples=False, first_index=200)
    code = extra.codes[0]
    cidr = str(extra.docs[code]["networks"][0]["cidr"])
    playbook = c.playbook_cmd(ansible_bin, code, cidr, tmp / "ansible-passwords.txt")
    ansible_env = c.ansible_env(env, ansible_bin)
    plan: list[str | Path] = [c.DCCTL, "--cloud", handle.cloud, "tenant", "plan", "--all"]
    plan += ["--site", site.path]

    c.purge_domain(handle)
    try:
        apply: list[str | Path] = [c.DCCTL, "--cloud", handle.cloud, "tenant", "apply", "--all"]
        done = c.run([*apply, "--site", site.path, "--parallel", "8", "--yes"], env)
        figures.apply_s = round(done.check("apply --all").wall, 1)
        c.run(playbook, ansible_env).check("first playbook run")
        print(
            f"40 agencies applied in {figures.apply_s} s; {code} onboarded by Ansible", flush=True
        )

        figures.machine = c.wait_for_quiet(enabled=not args.no_wait)
        for _ in range(args.runs):
            result = c.run(plan, env).check("tenant plan --all")
            figures.plan_exit = result.code
            figures.plan_walls.append(round(result.wall, 2))
            figures.plan_cpu.append(round(result.cpu, 2))
        figures.loads.append(c.load_text())
        for _ in range(ANSIBLE_RUNS):
            result = c.run(playbook, ansible_env).check("no-change playbook run")
            figures.ansible_walls.append(round(result.wall, 2))
        figures.ansible_recap = c.recap(result.stdout)
        figures.loads.append(c.load_text())
        with c.counting(handle, tmp) as cloud:
            c.run(plan, {**env, **cloud.env}).check("proxied plan")
            figures.plan_requests = c.per_service(cloud)
            cloud.proxy.clear()
            c.run(playbook, {**ansible_env, **cloud.env}).check("proxied playbook")
            figures.ansible_requests = c.per_service(cloud)
    finally:
        c.purge_domain(handle)
    report(figures)
    c.dump(args.json, asdict(figures))
    return 0


def report(figures: Figures) -> None:
    n = figures.agencies
    plan_wall = c.median(figures.plan_walls)
    plan_total = sum(figures.plan_requests.values())
    one = c.median(figures.ansible_walls)
    one_total = sum(figures.ansible_requests.values())
    request_target = 3 * n + 20
    print()
    print(f"No-change check of {n} applied agencies — {figures.started}")
    print(f"machine before: {figures.machine}; after: {'; '.join(figures.loads)}")
    print(
        f"plan exit status {figures.plan_exit} (0 = no changes); playbook {figures.ansible_recap}"
    )
    rows = [
        [
            f"dcctl tenant plan --all ({n} agencies)",
            f"{plan_wall:.2f} ({' / '.join(f'{w:.2f}' for w in figures.plan_walls)})",
            f"{c.median(figures.plan_cpu):.2f}",
            plan_total,
            ", ".join(f"{k} {v}" for k, v in figures.plan_requests.items()),
            f"≤ 2 s: {'met' if plan_wall <= 2 else 'NOT met'}; ≤ {request_target} requests: "
            + ("met" if plan_total <= request_target else "NOT met"),
        ],
        [
            "(b) Ansible, no-change run, 1 agency",
            f"{one:.2f} ({' / '.join(f'{w:.2f}' for w in figures.ansible_walls)})",
            "–",
            one_total,
            ", ".join(f"{k} {v}" for k, v in figures.ansible_requests.items()),
            "–",
        ],
        [
            f"(b) Ansible, no-change, ×{n} (scaled)",
            f"{one * n:.0f}",
            "–",
            one_total * n,
            "–",
            f"dcctl = 1/{one * n / plan_wall:.0f} of the time, "
            f"1/{one_total * n / max(plan_total, 1):.0f} of the requests",
        ],
    ]
    headers = ["what", "wall s, median (runs)", "client CPU s", "requests", "per service"]
    print(c.table([*headers, "target / ratio"], rows))


if __name__ == "__main__":
    raise SystemExit(main())
