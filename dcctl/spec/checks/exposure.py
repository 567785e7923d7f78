"""Security-group rules: consistent, not duplicated, and never opening admin or database ports to
any source without a current waiver (the port list is data in :mod:`dcctl.spec.ports`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from dcctl.spec.checks import CheckContext, agency_rule_sets, check
from dcctl.spec.ports import Category, SensitivePort, covered
from dcctl.spec.problems import FieldPath, Kind, Problem, format_path
from dcctl.spec.secgroup import EGRESS_ALL, Rule, RuleSet
from dcctl.spec.yamldoc import Document

_OPEN_KIND: dict[Category, Kind] = {
    "admin": Kind.OPEN_ADMIN_PORT,
    "database": Kind.OPEN_DATABASE_PORT,
}
_LISTED = 4  # sensitive ports named in one message before "and N more"


def _rule_sets(context: CheckContext) -> Iterator[tuple[Document, FieldPath, RuleSet]]:
    """Every rule set of the site: the per-level default groups, then each agency's groups."""
    if context.config is not None and context.site_doc is not None:
        for level, defaults in context.config.security_levels.items():
            path = ("security_levels", level, "default_security_group")
            yield context.site_doc, path, defaults.default_security_group
    for loaded in context.agencies:
        for base, rule_set in agency_rule_sets(loaded.agency):
            yield loaded.doc, base, rule_set


def _rules(context: CheckContext) -> Iterator[tuple[Document, FieldPath, Rule]]:
    for doc, base, rule_set in _rule_sets(context):
        for index, rule in enumerate(rule_set.rules):
            yield doc, (*base, "rules", index), rule


@check("rule-consistency", "A rule's port range, protocol, ethertype and remotes fit together")
def rule_consistency(context: CheckContext) -> Iterator[Problem]:
    for doc, path, rule in _rules(context):
        if rule.port_range is not None and rule.protocol not in ("tcp", "udp"):
            protocol = rule.protocol or "any (omitted)"
            yield doc.problem(
                (*path, "port_range"),
                f"port_range needs protocol tcp or udp, not {protocol}",
                Kind.INVALID_RULE,
            )
        if rule.remote_ip_prefix is not None and rule.remote_group is not None:
            yield doc.problem(
                (*path, "remote_group"),
                "give remote_ip_prefix or remote_group, not both",
                Kind.INVALID_RULE,
            )
        if (
            rule.ethertype is not None
            and rule.remote_ip_prefix is not None
            and rule.ethertype != rule.effective_ethertype
        ):
            yield doc.problem(
                (*path, "ethertype"),
                f"ethertype {rule.ethertype} does not match "
                f"remote_ip_prefix {rule.remote_ip_prefix}",
                Kind.INVALID_RULE,
            )
        if rule.protocol == "icmpv6" and rule.effective_ethertype != "IPv6":
            yield doc.problem((*path, "protocol"), "icmpv6 needs ethertype IPv6", Kind.INVALID_RULE)


@check("duplicate-rules", "No rule is written twice in one group (neutron refuses duplicates)")
def duplicate_rules(context: CheckContext) -> Iterator[Problem]:
    for doc, base, rule_set in _rule_sets(context):
        first: dict[object, int] = {}
        for index, rule in enumerate(rule_set.rules):
            path = (*base, "rules", index)
            normal = rule.normalised()
            if normal in first:
                earlier = format_path((*base, "rules", first[normal]))
                yield doc.problem(path, f"same rule as {earlier}", Kind.DUPLICATE_RULE)
            elif rule_set.egress_all and normal in EGRESS_ALL:
                yield doc.problem(
                    path,
                    "same rule as the allow-all egress rule that egress_all adds",
                    Kind.DUPLICATE_RULE,
                )
            else:
                first[normal] = index


def _ports_text(rule: Rule, category: Category, hits: list[SensitivePort]) -> str:
    names = ", ".join(port.label for port in hits[:_LISTED])
    if len(hits) > _LISTED:
        names += f" and {len(hits) - _LISTED} more"
    plural = "ports" if len(hits) > 1 else "port"
    if rule.port_range is not None and rule.port_range.low == rule.port_range.high:
        port = hits[0]
        return f"port {rule.port_range.low} ({category}: {port.service})"
    if rule.port_range is not None:
        return f"ports {rule.port_range} include {category} {plural} {names}"
    what = "every port" if rule.protocol not in (None, "any") else "every protocol and port"
    return f"{what} (no port_range) includes {category} {plural} {names}"


@check("sensitive-ports", "Admin and database ports are not open to any source without a waiver")
def sensitive_ports(context: CheckContext) -> Iterator[Problem]:
    for doc, path, rule in _rules(context):
        normal = rule.normalised()
        if rule.direction != "ingress" or not normal.any_source or rule.waiver is not None:
            continue
        source = normal.remote_ip_prefix or "no remote_ip_prefix and no remote_group"
        hits = covered(normal.protocol, normal.port_min, normal.port_max)
        at = (*path, "port_range") if rule.port_range is not None else path
        for category, kind in _OPEN_KIND.items():
            in_category = [port for port in hits if port.category == category]
            if in_category:
                yield doc.problem(
                    at,
                    f"{_ports_text(rule, category, in_category)} open to any source ({source}) "
                    "without a waiver",
                    kind,
                )


@check("waiver-expiry", "Waivers have not expired")
def waiver_expiry(context: CheckContext) -> Iterator[Problem]:
    today: date = context.today
    for doc, path, rule in _rules(context):
        if rule.waiver is not None and rule.waiver.expires < today:
            yield doc.problem(
                (*path, "waiver", "expires"),
                f"waiver expired on {rule.waiver.expires.isoformat()} (approved by "
                f"{rule.waiver.approved_by}); renew it or close the rule",
                Kind.WAIVER_EXPIRED,
            )
