"""What a planner reads from a loaded site: NFC text, effective quotas, normalised rules, names."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml

from dcctl.spec import NormalRule, Quota, QuotaOverrides, Rule, SecurityGroup, load_site, quota
from tests.spec.data import DATA, GOOD_SITE, TODAY
from tests.spec.patching import build_site

pytestmark = pytest.mark.unit


def test_decomposed_vietnamese_is_accepted_and_normalised_to_nfc(tmp_path: Path) -> None:
    case = yaml.safe_load((DATA / "good" / "decomposed-names.yaml").read_text(encoding="utf-8"))
    site_dir = build_site(GOOD_SITE, tmp_path / "site", case["patch"])
    raw = (site_dir / "agencies" / "alpha.yaml").read_text(encoding="utf-8")
    assert not unicodedata.is_normalized("NFC", raw)  # the input really is decomposed

    alpha = load_site(site_dir, today=TODAY).agency("alpha")

    assert alpha.name == case["expected"]["name"]
    assert unicodedata.is_normalized("NFC", alpha.name)
    assert alpha.users[0].full_name == case["expected"]["full_name"]


def test_effective_quota_is_the_level_template_with_overrides(tmp_path: Path) -> None:
    site_dir = build_site(
        GOOD_SITE,
        tmp_path / "site",
        [
            {
                "file": "agencies/alpha.yaml",
                "set": "quota",
                "value": {"overrides": {"compute": {"cores": 3}, "network": {"ports": 12}}},
            }
        ],
    )
    site = load_site(site_dir, today=TODAY)
    alpha, beta = site.agency("alpha"), site.agency("beta")

    quota = site.effective_quota(alpha)  # level 2 → template small
    small = site.config.quota_templates["small"]
    assert quota.compute.cores == 3
    assert quota.network.ports == 12
    assert quota.compute.instances == small.compute.instances
    assert quota.volume == small.volume
    assert site.effective_quota(beta) == site.config.quota_templates["big"]  # level 3 → big


def test_quota_template_named_by_the_agency_wins_over_the_level(tmp_path: Path) -> None:
    patch = [{"file": "agencies/alpha.yaml", "set": "quota", "value": {"template": "big"}}]
    site = load_site(build_site(GOOD_SITE, tmp_path / "site", patch), today=TODAY)
    assert site.effective_quota(site.agency("alpha")) == site.config.quota_templates["big"]


def test_quota_merge_and_sdk_field_names() -> None:
    base = Quota.model_validate(
        {
            "compute": dict.fromkeys(
                ("instances", "cores", "ram", "key_pairs", "server_groups", "server_group_members"),
                1,
            ),
            "volume": dict.fromkeys(
                ("volumes", "gigabytes", "snapshots", "backups", "backup_gigabytes"), 1
            ),
            "network": dict.fromkeys(
                (
                    "networks",
                    "subnets",
                    "ports",
                    "routers",
                    "floating_ips",
                    "security_groups",
                    "security_group_rules",
                ),
                1,
            ),
        }
    )
    merged = base.merged(QuotaOverrides.model_validate({"volume": {"gigabytes": 50}}))
    assert merged.volume.values() == {
        "volumes": 1,
        "gigabytes": 50,
        "snapshots": 1,
        "backups": 1,
        "backup_gigabytes": 1,
    }
    assert base.volume.gigabytes == 1  # the template itself is untouched
    assert set(merged.network.values()) >= {"floating_ips", "security_group_rules"}


def test_overrides_name_exactly_the_quota_fields() -> None:
    for full, partial in (
        (quota.ComputeQuota, quota.ComputeOverrides),
        (quota.VolumeQuota, quota.VolumeOverrides),
        (quota.NetworkQuota, quota.NetworkOverrides),
    ):
        assert list(full.model_fields) == list(partial.model_fields)


@pytest.mark.parametrize(
    ("rule", "normal"),
    [
        (
            {"protocol": "tcp", "port_range": 443, "remote_ip_prefix": "0.0.0.0/0"},
            NormalRule("ingress", "IPv4", "tcp", 443, 443, "0.0.0.0/0", None),
        ),
        (
            {"protocol": "tcp", "port_range": "8000-8080", "remote_group": "web"},
            NormalRule("ingress", "IPv4", "tcp", 8000, 8080, None, "web"),
        ),
        (
            {"protocol": "any", "remote_ip_prefix": "2001:db8::/32"},
            NormalRule("ingress", "IPv6", None, None, None, "2001:db8::/32", None),
        ),
        (
            {"ethertype": "IPv6", "remote_group": "default"},
            NormalRule("ingress", "IPv6", None, None, None, None, "default"),
        ),
        (
            {"direction": "egress", "protocol": "udp", "port_range": " 53 "},
            NormalRule("egress", "IPv4", "udp", 53, 53, None, None),
        ),
        (
            {"protocol": "icmp", "remote_ip_prefix": "10.0.0.0/24"},
            NormalRule("ingress", "IPv4", "icmp", None, None, "10.0.0.0/24", None),
        ),
    ],
)
def test_rule_normalisation(rule: dict[str, object], normal: NormalRule) -> None:
    assert Rule.model_validate(rule).normalised() == normal


def test_any_source_follows_prowlers_definition() -> None:
    def any_source(**rule: object) -> bool:
        return Rule.model_validate(rule).normalised().any_source

    assert any_source(remote_ip_prefix="0.0.0.0/0")
    assert any_source(remote_ip_prefix="::/0")
    assert any_source()
    assert not any_source(remote_group="web")
    assert not any_source(remote_ip_prefix="10.0.0.0/8")


def test_a_group_keeps_neutrons_egress_rules_unless_told_not_to() -> None:
    group = SecurityGroup.model_validate(
        {"name": "web", "rules": [{"protocol": "tcp", "port_range": 443}]}
    )
    assert group.normalised_rules() == (
        NormalRule("ingress", "IPv4", "tcp", 443, 443, None, None),
        NormalRule("egress", "IPv4", None, None, None, None, None),
        NormalRule("egress", "IPv6", None, None, None, None, None),
    )
    closed = group.model_copy(update={"egress_all": False})
    assert closed.normalised_rules() == (
        NormalRule("ingress", "IPv4", "tcp", 443, 443, None, None),
    )


def test_default_group_rules_come_from_the_level_or_the_agency(tmp_path: Path) -> None:
    own = {"rules": [{"protocol": "tcp", "port_range": 22, "remote_ip_prefix": "10.0.0.0/24"}]}
    patch = [{"file": "agencies/beta.yaml", "set": "default_security_group", "value": own}]
    site = load_site(build_site(GOOD_SITE, tmp_path / "site", patch), today=TODAY)

    assert site.default_security_group_rules(site.agency("alpha")) == (
        NormalRule("ingress", "IPv4", None, None, None, None, "default"),
        NormalRule("egress", "IPv4", None, None, None, None, None),
        NormalRule("egress", "IPv6", None, None, None, None, None),
    )
    assert site.default_security_group_rules(site.agency("beta"))[0] == NormalRule(
        "ingress", "IPv4", "tcp", 22, 22, "10.0.0.0/24", None
    )


def test_names_and_defaults_a_planner_reads(tmp_path: Path) -> None:
    site = load_site(GOOD_SITE, today=TODAY)
    alpha, beta = site.agency("alpha"), site.agency("beta")

    assert alpha.project_name == "alpha"
    assert alpha.router_name == "alpha-router"
    assert str(alpha.networks[0].effective_gateway) == "10.1.0.1"
    assert site.backup_policy(alpha)[0] == "daily"
    assert site.volume_encrypted(beta, beta.volumes[0]) is True  # level 3 encrypts by default
    assert site.volume_encrypted(alpha, alpha.volumes[0]) is False
    assert site.cloud_name() == "testcloud"
    assert site.cloud_name("sandbox") == "sandbox"
    assert site.hosts.hosts_of("alpha") == {"alpha-db-01"}
    with pytest.raises(KeyError, match="known: alpha, beta"):
        site.agency("gamma")


def test_audit_log_defaults_to_the_state_dir_and_is_relative_to_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DCCTL_STATE_DIR", str(tmp_path / "state"))
    site = load_site(GOOD_SITE, today=TODAY)
    assert site.audit_log_path == tmp_path / "state" / "audit" / "minimal.jsonl"

    patch = [{"file": "site.yaml", "set": "audit_log", "value": "../audit/site.jsonl"}]
    site = load_site(build_site(GOOD_SITE, tmp_path / "site", patch), today=TODAY)
    assert site.audit_log_path == tmp_path / "site" / ".." / "audit" / "site.jsonl"


def test_models_are_immutable() -> None:
    site = load_site(GOOD_SITE, today=TODAY)
    with pytest.raises(ValueError, match="frozen"):
        site.agency("alpha").security_level = 5  # type: ignore[misc]
