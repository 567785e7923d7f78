"""Generate throw-away sites for tests and benchmarks: unique agency codes, realistic shape.

Each generated agency has the example shape of the benchmarks: a project, 3 users (3 role
assignments), compute/volume/network quotas, one network and subnet, a router with gateway and
interface, and 2 security groups with 5 rules. Codes carry a random run id, so tests sharing one
sandbox never collide; the site keeps the shipped site.yaml (domain ``quangngai``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED_SITE = REPO / "inventory" / "quangngai"


def run_id() -> str:
    return secrets.token_hex(3)


def agency_doc(code: str, index: int, *, level: int = 2, users: int = 3) -> dict[str, Any]:
    """One agency of the benchmark's example shape; ``index`` picks a distinct /24."""
    second, third = 100 + index // 250, index % 250
    return {
        "code": code,
        "name": f"Cơ quan thử nghiệm {code}",
        "source": {"decision": "172/QĐ-UBND", "items": ["II.2.b.1"]},
        "systems": [{"name": f"Hệ thống {code}", "item": "II.2.b.1"}],
        "owner": f"Cơ quan {code}",
        "operator": "Trung tâm CNTT",
        "contacts": [{"name": "Nguyễn Văn Thử", "role": "technical"}],
        "security_level": level,
        "users": [
            {
                "name": f"{code}.user{n}",
                "full_name": f"Người dùng {n}",
                "email": f"user{n}@{code}.example.vn",
                "roles": ["reader" if n == users - 1 else "member"],
            }
            for n in range(users)
        ],
        "networks": [{"name": f"{code}-app", "cidr": f"10.{second}.{third}.0/24"}],
        "router": {"interfaces": [f"{code}-app"]},
        "security_groups": [
            {
                "name": "web",
                "description": "web tier",
                "rules": [
                    {"protocol": "tcp", "port_range": 443, "remote_ip_prefix": "0.0.0.0/0"},
                    {"protocol": "tcp", "port_range": 80, "remote_ip_prefix": "10.0.0.0/8"},
                    {"protocol": "tcp", "port_range": 22, "remote_ip_prefix": "10.0.0.0/24"},
                ],
            },
            {
                "name": "db",
                "description": "database tier",
                "rules": [
                    {"protocol": "tcp", "port_range": 5432, "remote_group": "web"},
                    {"protocol": "tcp", "port_range": 22, "remote_ip_prefix": "10.0.0.0/24"},
                ],
            },
        ],
    }


@dataclass
class TestSite:
    path: Path
    codes: list[str]

    @property
    def agencies_dir(self) -> Path:
        return self.path / "agencies"

    def agency_file(self, code: str) -> Path:
        return self.agencies_dir / f"{code}.yaml"

    def read(self, code: str) -> dict[str, Any]:
        data = yaml.safe_load(self.agency_file(code).read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        return data

    def write(self, code: str, data: dict[str, Any]) -> None:
        self.agency_file(code).write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )

    def edit(self, code: str, **changes: Any) -> dict[str, Any]:
        data = self.read(code)
        data.update(changes)
        self.write(code, data)
        return data


def make_site(
    root: Path,
    *,
    count: int = 1,
    prefix: str = "t",
    cloud: str | None = None,
    docs: Iterable[dict[str, Any]] = (),
    audit_log: Path | None = None,
) -> TestSite:
    """A site directory under ``root`` named ``quangngai`` with ``count`` generated agencies."""
    site_dir = root / "quangngai"
    (site_dir / "agencies").mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((SHIPPED_SITE / "site.yaml").read_text(encoding="utf-8"))
    if cloud is not None:
        config["cloud"] = cloud
    config["audit_log"] = str(audit_log or (root / "audit.jsonl"))
    (site_dir / "site.yaml").write_text(
        yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    (site_dir / "hosts.yml").write_text("all:\n  children: {}\n", encoding="utf-8")
    site = TestSite(site_dir, [])
    rid = run_id()
    for index in range(count):
        code = f"{prefix}{rid}-{index}"
        site.write(code, agency_doc(code, index))
        site.codes.append(code)
    for doc in docs:
        site.write(str(doc["code"]), doc)
        site.codes.append(str(doc["code"]))
    return site
