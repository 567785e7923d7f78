"""Onboard ONE agency: dcctl versus the openstack CLI, Ansible and plain openstacksdk.

Every tool creates the same thing for its own fresh agency code on the same real sandbox: a
project, 3 users, 3 role assignments, compute/volume/network quotas, a network and subnet, a
router with an external gateway (network ``public``) and an interface, 2 security groups with 5
rules (the shape of ``tests.support.sites.agency_doc``):

- ``dcctl``: ``dcctl --cloud dcctl-bench tenant apply --site DIR CODE --yes`` in a fresh process
  (validation of the whole site, plan, lock, capacity check, tags, audit log, password file);
- (a) ``bench/onboard/openstack_cli.sh``: one ``openstack`` command per step (sandbox venv);
- (b) ``bench/onboard/onboard.yml``: openstack.cloud modules, ``ansible-playbook`` from a
  benchmark-only venv (``~/.cache/dcctl-bench/ansible-venv``, created if missing);
- (c) ``bench/onboard/sdk_sequential.py``: the same calls one after another (dcctl's venv).

Wall time is the median of ``--runs`` runs per tool WITHOUT the proxy (tools interleaved, the
round's agencies deleted after each round so every run sees the same cloud). Then one more run
per tool goes through ``tests.support.faultproxy.FaultProxy`` to count HTTP requests per service.
CPU is the user+system time of the tool's process tree. Figures are printed, never asserted.

Reproduce (from the repo root; brings up sandbox ``dcctl-bench`` on ports 17000+ if needed):

    .venv/bin/python bench/onboard_bench.py --runs 3 [--json out.json] [--no-wait]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import _common as c

from dcctl.sandbox.handle import SandboxHandle

TOOLS = ("dcctl", "cli", "ansible", "sdk")
LABELS = {
    "dcctl": "dcctl tenant apply",
    "cli": "(a) openstack CLI script",
    "ansible": "(b) Ansible openstack.cloud",
    "sdk": "(c) sequential openstacksdk",
}
#: tool -> the largest acceptable dcctl/tool wall-time ratio (issue 3)
TARGETS = {"cli": 1 / 12, "ansible": 1 / 8, "sdk": 1.0}


@dataclass
class Figures:
    started: str
    machine: str
    runs: int
    loads: list[str] = field(default_factory=list)
    walls: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TOOLS})
    cpus: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TOOLS})
    requests: dict[str, dict[str, int]] = field(default_factory=dict)
    proxied_walls: dict[str, float] = field(default_factory=dict)
    leftovers: dict[str, int] = field(default_factory=dict)
    tools: list[str] = field(default_factory=lambda: list(TOOLS))


class Bench:
    def __init__(
        self,
        handle: SandboxHandle,
        ansible_bin: Path,
        tmp: Path,
        rounds: int,
        tools: tuple[str, ...] = TOOLS,
    ) -> None:
        self.tools = tools
        self.handle = handle
        self.ansible_bin = ansible_bin
        self.tmp = tmp
        self.site = c.make_bench_site(tmp, generated=len(tools) * rounds, examples=False)
        self.env = c.base_env(handle, tmp / "state")
        c.validate(self.site, self.env)
        self.codes = iter(self.site.codes)

    def command(self, tool: str, code: str) -> tuple[list[str | Path], dict[str, str]]:
        cidr = str(self.site.docs[code]["networks"][0]["cidr"])
        passwords = self.tmp / f"passwords-{code}.txt"
        if tool == "dcctl":
            cmd: list[str | Path] = [c.DCCTL, "--cloud", self.handle.cloud, "tenant", "apply"]
            return [*cmd, "--site", self.site.path, code, "--yes"], self.env
        if tool == "cli":
            return ["bash", c.ONBOARD / "openstack_cli.sh", code, cidr, passwords], self.env
        if tool == "ansible":
            cmd = c.playbook_cmd(self.ansible_bin, code, cidr, passwords)
            return cmd, c.ansible_env(self.env, self.ansible_bin)
        return [sys.executable, c.ONBOARD / "sdk_sequential.py", code, cidr, passwords], self.env

    def timed_round(self, figures: Figures, round_no: int) -> None:
        made = []
        for tool in self.tools:
            code = next(self.codes)
            made.append(self.site.docs[code])
            cmd, tool_env = self.command(tool, code)
            result = c.run(cmd, tool_env).check(f"{tool} onboarding {code}")
            figures.walls[tool].append(result.wall)
            figures.cpus[tool].append(result.cpu)
            print(
                f"round {round_no}: {tool:8} {result.wall:6.2f} s wall "
                f"{result.cpu:5.2f} s CPU  ({c.load_text()})",
                flush=True,
            )
        figures.loads.append(c.load_text())
        c.purge(self.handle, made)

    def counted_round(self, figures: Figures) -> None:
        made = []
        with c.counting(self.handle, self.tmp) as cloud:
            for tool in self.tools:
                code = next(self.codes)
                made.append(self.site.docs[code])
                cmd, tool_env = self.command(tool, code)
                cloud.proxy.clear()
                result = c.run(cmd, {**tool_env, **cloud.env}).check(f"{tool} (proxied)")
                figures.requests[tool] = c.per_service(cloud)
                figures.proxied_walls[tool] = result.wall
                total = sum(figures.requests[tool].values())
                print(f"counted: {tool:8} {total} requests", flush=True)
            assert not cloud.proxy.unproxied_endpoints, cloud.proxy.unproxied_endpoints
        c.purge(self.handle, made)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool (median)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    parser.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated subset of {','.join(TOOLS)} (dcctl is always run)",
    )
    args = parser.parse_args()
    tools = ("dcctl", *[t for t in TOOLS[1:] if t in args.tools.split(",")])

    handle = c.sandbox()
    c.lift_admin_rule_quota(handle)
    ansible_bin = c.ensure_ansible() if "ansible" in tools else Path("/nonexistent")
    tmp = Path(tempfile.mkdtemp(prefix="dcctl-bench-onboard-"))
    # one round more for counting the requests
    bench = Bench(handle, ansible_bin, tmp, rounds=args.runs + 1, tools=tools)
    c.purge_domain(handle)  # start from an empty site domain
    print(f"sandbox {handle.name}; site {bench.site.path}", flush=True)
    machine = c.wait_for_quiet(enabled=not args.no_wait)
    print(f"machine: {machine}", flush=True)
    figures = Figures(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", machine, args.runs)
    figures.tools = list(tools)
    try:
        for round_no in range(1, args.runs + 1):
            bench.timed_round(figures, round_no)
        bench.counted_round(figures)
    finally:
        c.purge(handle, bench.site.docs.values())
    figures.leftovers = c.leftovers(handle)
    print_report(figures)
    c.dump(args.json, asdict(figures))
    return 0


def print_report(figures: Figures) -> None:
    walls, counts = figures.walls, figures.requests
    services = sorted({label for tool in counts.values() for label in tool})
    dcctl = c.median(walls["dcctl"])
    fmt: Callable[[float], str] = "{:.2f}".format
    rows = []
    for tool in figures.tools:
        wall = c.median(walls[tool])
        ratio = "1×" if tool == "dcctl" else f"{wall / dcctl:.2f}× dcctl"
        if tool in TARGETS:
            limit = TARGETS[tool]
            met = dcctl <= wall * limit
            wanted = "faster" if limit == 1.0 else f"≤ 1/{round(1 / limit)}"
            ratio += f" (target {wanted}: {'met' if met else 'NOT met'})"
        rows.append(
            [
                LABELS[tool],
                f"{fmt(wall)} ({' / '.join(fmt(w) for w in walls[tool])})",
                fmt(c.median(figures.cpus[tool])),
                sum(counts[tool].values()),
                ", ".join(f"{s} {counts[tool].get(s, 0)}" for s in services),
                fmt(figures.proxied_walls[tool]),
                ratio,
            ]
        )
    print()
    print(f"Onboard one agency — {figures.started}, {figures.runs} runs per tool")
    print(f"machine before the runs: {figures.machine}")
    print("load after each round: " + "; ".join(figures.loads))
    print(f"left in the site domain afterwards: {figures.leftovers}")
    headers = ["tool", "wall s, median (runs)", "client CPU s", "requests", "per service"]
    print(c.table([*headers, "wall s via proxy", "time ÷ dcctl's"], rows))


if __name__ == "__main__":
    raise SystemExit(main())
