"""Shared helpers of the tenant benchmarks (``bench/*_bench.py``); not a benchmark itself.

Every benchmark runs against its own real sandbox OpenStack, ``dcctl-bench`` on ports 17000+
(started here if it is not running), never against ``sandbox`` or ``dcctl-test``. Request counts
come from ``tests.support.faultproxy.FaultProxy`` put in front of every endpoint of the catalog;
wall times are measured without it unless a table says otherwise. The benchmarks empty the
site domain (``quangngai``) of the benchmark sandbox before and after they run.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from dcctl.sandbox import processes  # noqa: E402
from dcctl.sandbox.handle import SandboxHandle  # noqa: E402
from dcctl.sandbox.lifecycle import Sandbox  # noqa: E402
from tests.support.cloudproxy import ProxiedCloud, proxied_cloud  # noqa: E402
from tests.support.sites import SHIPPED_SITE, agency_doc, run_id  # noqa: E402

SANDBOX = "dcctl-bench"
PORT_BASE = 17000
DOMAIN = "quangngai"
DCCTL = REPO / ".venv" / "bin" / "dcctl"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- machine load


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def load_text() -> str:
    return "load {:.2f} / {:.2f} / {:.2f}".format(*loadavg())


def wait_for_quiet(limit: float = 1.5, max_wait: float = 600, *, enabled: bool = True) -> str:
    """Wait (up to ``max_wait`` s) for a 1-min load average below ``limit``; say what happened."""
    if not enabled:
        return f"did not wait ({load_text()})"
    started = time.monotonic()
    while loadavg()[0] >= limit and time.monotonic() - started < max_wait:
        time.sleep(10)
    waited = time.monotonic() - started
    quiet = loadavg()[0] < limit
    verdict = "quiet" if quiet else f"still busy after {waited:.0f} s"
    return f"{verdict} ({load_text()}, waited {waited:.0f} s)"


# ---- the sandbox


def sandbox() -> SandboxHandle:
    """The running ``dcctl-bench`` sandbox (brought up first if needed)."""
    box = Sandbox(SANDBOX)
    if not box.status().running:
        print(f"bringing up sandbox {SANDBOX} (ports {PORT_BASE}+) ...", flush=True)
        box.up(port_base=PORT_BASE if box.settings is None else None)
    return box.handle()


def lift_admin_rule_quota(handle: SandboxHandle) -> None:
    """Work around a dcctl bug: it creates security group rules without ``project_id``, so they
    belong to (and count against the quota of) the operator's ``admin`` project, whose default
    neutron limit of 100 rules stops an apply after ~15 agencies ("Quota exceeded for
    resources: ['security_group_rule']"). Benchmark sandbox only: unlimited rules for admin."""
    assert handle.name == SANDBOX, "only ever change the benchmark sandbox"
    conn = handle.connect()
    try:
        admin = conn.identity.find_project("admin", domain_id="default", ignore_missing=False)
        conn.network.update_quota(admin.id, security_group_rules=-1)
    finally:
        conn.close()


def cloud_entry(handle: SandboxHandle) -> dict[str, Any]:
    clouds = yaml.safe_load(Path(handle.clouds_file).read_text(encoding="utf-8"))
    entry = clouds["clouds"][handle.cloud]
    assert isinstance(entry, dict)
    return entry


def base_env(handle: SandboxHandle, state_dir: Path) -> dict[str, str]:
    """Environment of every tool run: the sandbox's clouds.yaml, a throw-away dcctl state dir."""
    env = handle.subprocess_env()
    env.update(
        {
            "OS_CLIENT_CONFIG_FILE": str(handle.clouds_file),
            "OS_CLOUD": handle.cloud,
            "DCCTL_STATE_DIR": str(state_dir),
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


@contextlib.contextmanager
def counting(handle: SandboxHandle, tmp: Path) -> Iterator[ProxiedCloud]:
    """A FaultProxy (no faults) in front of every catalog endpoint and a clouds.yaml entry named
    like the sandbox's cloud that goes through it (use ``.env`` on top of ``base_env``)."""
    conn = handle.connect()
    try:
        with proxied_cloud(conn, cloud_entry(handle), tmp, name=handle.cloud) as cloud:
            yield cloud
    finally:
        conn.close()


def per_service(cloud: ProxiedCloud) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in cloud.proxy.records:
        counts[record.label] = counts.get(record.label, 0) + 1
    return dict(sorted(counts.items()))


def time_per_service(cloud: ProxiedCloud) -> dict[str, float]:
    """Sum of response times (as the proxy saw them) per service, seconds."""
    totals: dict[str, float] = {}
    for record in cloud.proxy.records:
        totals[record.label] = totals.get(record.label, 0.0) + record.duration
    return {label: round(value, 2) for label, value in sorted(totals.items())}


def sandbox_cpu(name: str = SANDBOX) -> dict[str, float]:
    """CPU seconds (user + system, with reaped children) used so far by each service session."""
    box = Sandbox(name)
    stats = processes.all_stats()
    usage: dict[str, float] = {}
    for service, record in box.store.load().items():
        ticks = 0
        for pid in processes.session_members(record, stats=stats):
            with contextlib.suppress(OSError, ValueError, IndexError):
                raw = (Path("/proc") / str(pid) / "stat").read_text(encoding="utf-8")
                fields = raw.rpartition(")")[2].split()
                ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        usage[service] = ticks / CLK_TCK
    return usage


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(after.get(name, 0.0) - before.get(name, 0.0), 1) for name in after}


# ---- running tools


@dataclass
class Run:
    wall: float
    cpu: float  # user + system seconds of the child and everything it waited for
    code: int
    stdout: str
    stderr: str

    def check(self, what: str) -> Run:
        if self.code not in (0, 2):
            tail = "\n".join((self.stdout + self.stderr).splitlines()[-25:])
            raise RuntimeError(f"{what} failed with exit {self.code}:\n{tail}")
        return self


def run(
    cmd: Sequence[str | Path], env: dict[str, str], *, cwd: Path | None = None, timeout: float = 900
) -> Run:
    """Run ``cmd`` to completion (sequentially: CPU comes from RUSAGE_CHILDREN deltas)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(
        [str(part) for part in cmd],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, done.returncode, done.stdout, done.stderr)


def median(values: Iterable[float]) -> float:
    return round(statistics.median(list(values)), 2)


# ---- sites


@dataclass
class BenchSite:
    path: Path
    codes: list[str] = field(default_factory=list)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, doc: dict[str, Any]) -> str:
        code = str(doc["code"])
        (self.path / "agencies" / f"{code}.yaml").write_text(
            yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        self.codes.append(code)
        self.docs[code] = doc
        return code

    def remove(self, code: str) -> None:
        (self.path / "agencies" / f"{code}.yaml").unlink()
        self.codes.remove(code)
        del self.docs[code]

    @property
    def config(self) -> dict[str, Any]:
        data = yaml.safe_load((self.path / "site.yaml").read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        return data


def make_bench_site(
    root: Path, *, generated: int, examples: bool, cloud: str = SANDBOX, first_index: int = 0
) -> BenchSite:
    """A copy of ``inventory/quangngai`` (cloud ``dcctl-bench``, audit log under ``root``), with
    the 12 shipped agencies if ``examples`` and ``generated`` agencies of the example shape
    (``tests.support.sites.agency_doc``: 3 users, 1 network, router, 2 groups, 5 rules)."""
    site_dir = root / "quangngai"
    shutil.copytree(SHIPPED_SITE, site_dir)
    config = yaml.safe_load((site_dir / "site.yaml").read_text(encoding="utf-8"))
    config["cloud"] = cloud
    config["audit_log"] = str(root / "audit.jsonl")
    (site_dir / "site.yaml").write_text(
        yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    site = BenchSite(site_dir)
    for path in sorted((site_dir / "agencies").glob("*.yaml")):
        if examples:
            site.codes.append(path.stem)
            site.docs[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
        else:
            path.unlink()
    rid = run_id()
    for index in range(generated):
        site.add(agency_doc(f"b{rid}-{index}", first_index + index))
    return site


def validate(site: BenchSite, env: dict[str, str]) -> None:
    run([DCCTL, "spec", "validate", site.path], env).check("dcctl spec validate")


# ---- cleanup (by name: every tool names the project after the code, users "<code>.*")


def user_prefixes(doc: dict[str, Any]) -> set[str]:
    return {f"{doc['code']}."} | {str(user["name"]) for user in doc.get("users", [])}


def purge(handle: SandboxHandle, docs: Iterable[dict[str, Any]]) -> int:
    """Delete what any tool made for these agencies: projects (with routers, ports, networks,
    security groups, quota overrides), users and groups. Returns the number of projects."""
    conn = handle.connect()
    removed = 0
    try:
        domain = conn.identity.find_domain(DOMAIN)
        assert domain is not None
        docs = list(docs)
        codes = {str(doc["code"]) for doc in docs}
        names = set().union(*(user_prefixes(doc) for doc in docs)) if docs else set()
        groups = {str(g["name"]) for doc in docs for g in doc.get("groups", [])}
        for project in conn.identity.projects(domain_id=domain.id):
            if project.name in codes:
                _purge_project(conn, project.id)
                removed += 1
        for user in conn.identity.users(domain_id=domain.id):
            if user.name in names or any(user.name.startswith(f"{c}.") for c in codes):
                conn.identity.delete_user(user, ignore_missing=True)
        for group in conn.identity.groups(domain_id=domain.id):
            if group.name in groups or any(group.name.startswith(f"{c}-") for c in codes):
                conn.identity.delete_group(group, ignore_missing=True)
    finally:
        conn.close()
    return removed


def _purge_project(conn: Any, project_id: str) -> None:
    net = conn.network
    for router in net.routers(project_id=project_id):
        for port in net.ports(device_id=router.id, device_owner="network:router_interface"):
            net.remove_interface_from_router(router, port_id=port.id)
        net.delete_router(router, ignore_missing=True)
    for port in net.ports(project_id=project_id):
        if not str(port.device_owner or "").startswith("network:dhcp"):
            net.delete_port(port, ignore_missing=True)
    for network in net.networks(project_id=project_id):
        net.delete_network(network, ignore_missing=True)
    for group in net.security_groups(project_id=project_id):
        net.delete_security_group(group, ignore_missing=True)
    with contextlib.suppress(Exception):
        net.delete_quota(project_id)
    with contextlib.suppress(Exception):
        conn.compute.revert_quota_set(project_id)
    with contextlib.suppress(Exception):
        conn.block_storage.revert_quota_set(project_id)
    conn.identity.delete_project(project_id, ignore_missing=True)


def leftovers(handle: SandboxHandle) -> dict[str, int]:
    """What is left in the site domain (should be nothing after a benchmark)."""
    conn = handle.connect()
    try:
        domain = conn.identity.find_domain(DOMAIN)
        assert domain is not None
        return {
            "projects": len(list(conn.identity.projects(domain_id=domain.id))),
            "users": len(list(conn.identity.users(domain_id=domain.id))),
            "groups": len(list(conn.identity.groups(domain_id=domain.id))),
        }
    finally:
        conn.close()


def purge_domain(handle: SandboxHandle) -> None:
    """Delete every project, user and group of the site domain (the bench sandbox only)."""
    assert handle.name == SANDBOX, "only ever purge the benchmark sandbox"
    conn = handle.connect()
    try:
        domain = conn.identity.find_domain(DOMAIN)
        assert domain is not None
        for project in list(conn.identity.projects(domain_id=domain.id)):
            _purge_project(conn, project.id)
        for user in list(conn.identity.users(domain_id=domain.id)):
            conn.identity.delete_user(user, ignore_missing=True)
        for group in list(conn.identity.groups(domain_id=domain.id)):
            conn.identity.delete_group(group, ignore_missing=True)
    finally:
        conn.close()


def dump(path: Path | None, data: Any) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (pasted as is into docs/benchmarks.md)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ---- the competing tools (bench/onboard/)

ONBOARD = REPO / "bench" / "onboard"
ANSIBLE_VENV = Path.home() / ".cache" / "dcctl-bench" / "ansible-venv"
#: openstack.cloud in ansible 12.x fails with newer openstacksdk ("module 'openstack' has no
#: attribute 'version'"), hence the pin.
ANSIBLE_PACKAGES = ("ansible", "openstacksdk==4.13.0")


def ensure_ansible() -> Path:
    """The benchmark-only Ansible venv (created on first use); returns its bin directory."""
    bin_dir = ANSIBLE_VENV / "bin"
    if not (bin_dir / "ansible-playbook").exists():
        print(f"creating {ANSIBLE_VENV} ({' '.join(ANSIBLE_PACKAGES)}) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", *ANSIBLE_PACKAGES], check=True)
    return bin_dir


def playbook_cmd(ansible_bin: Path, code: str, cidr: str, passwords: Path) -> list[str | Path]:
    return [
        ansible_bin / "ansible-playbook",
        "-i",
        "localhost,",
        "-c",
        "local",
        ONBOARD / "onboard.yml",
        "-e",
        f"code={code}",
        "-e",
        f"cidr={cidr}",
        "-e",
        f"passwords_file={passwords}",
    ]


def ansible_env(env: dict[str, str], ansible_bin: Path) -> dict[str, str]:
    return {
        **env,
        "ANSIBLE_PYTHON_INTERPRETER": str(ansible_bin / "python"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    }


def recap(stdout: str) -> dict[str, int]:
    """``ok``/``changed``/``failed`` of a playbook's PLAY RECAP line."""
    for line in stdout.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            parts = dict(item.split("=", 1) for item in line.split(":", 1)[1].split())
            return {key: int(parts[key]) for key in ("ok", "changed", "failed") if key in parts}
    return {}
