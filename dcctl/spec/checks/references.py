"""Every name a spec refers to is defined: templates, policies, flavors, images, networks,
security groups (remote_group), users, servers, hosts and plan items."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from dcctl.spec.checks import CheckContext, LoadedAgency, agency_rule_sets, check, known
from dcctl.spec.problems import FieldPath, Kind, Problem
from dcctl.spec.secgroup import DEFAULT_GROUP, RuleSet
from dcctl.spec.site import SiteConfig


@dataclass(frozen=True)
class _Ref:
    """``name`` (a ``what``) written at ``path`` must be one of ``defined`` (found in ``where``)."""

    path: FieldPath
    what: str
    name: str
    where: str
    defined: Collection[str]

    @property
    def reason(self) -> str:
        return f"{self.what} {self.name!r} is not defined in {self.where} {known(self.defined)}"


def _remote_group_refs(
    base: FieldPath, rule_set: RuleSet, defined: Collection[str], where: str
) -> Iterator[_Ref]:
    for index, rule in enumerate(rule_set.rules):
        if rule.remote_group is not None:
            path = (*base, "rules", index, "remote_group")
            yield _Ref(path, "remote_group", rule.remote_group, where, defined)


@check("site-references", "Security levels name defined quota templates and backup policies")
def site_references(context: CheckContext) -> Iterator[Problem]:
    config = context.config
    if config is None:
        return
    for ref in _site_refs(config):
        if ref.name not in ref.defined:
            yield context.site_problem(ref.path, ref.reason, Kind.UNDEFINED_REFERENCE)


def _site_refs(config: SiteConfig) -> Iterator[_Ref]:
    for level, defaults in config.security_levels.items():
        base = ("security_levels", level)
        yield _Ref(
            (*base, "quota_template"),
            "quota template",
            defaults.quota_template,
            "quota_templates",
            config.quota_templates,
        )
        yield _Ref(
            (*base, "backup_policy"),
            "backup policy",
            defaults.backup_policy,
            "backup_policies",
            config.backup_policies,
        )
        yield from _remote_group_refs(
            (*base, "default_security_group"),
            defaults.default_security_group,
            [DEFAULT_GROUP],
            "a new project (a default group can only refer to itself)",
        )


@check(
    "agency-references",
    "Agencies refer only to names defined in site.yaml, their own file or hosts.yml",
)
def agency_references(context: CheckContext) -> Iterator[Problem]:
    for loaded in context.agencies:
        refs = list(_agency_refs(loaded))
        if context.config is not None:
            refs += _agency_site_refs(context.config, loaded)
        for ref in refs:
            if ref.name not in ref.defined:
                yield loaded.problem(ref.path, ref.reason, Kind.UNDEFINED_REFERENCE)
        yield from _host_references(context, loaded)


def _agency_refs(loaded: LoadedAgency) -> Iterator[_Ref]:
    agency = loaded.agency
    for index, system in enumerate(agency.systems):
        yield _Ref(
            ("systems", index, "item"),
            "plan item",
            system.item,
            "source.items",
            agency.source.items,
        )
    groups = [DEFAULT_GROUP, *(group.name for group in agency.security_groups)]
    for base, rule_set in agency_rule_sets(agency):
        yield from _remote_group_refs(base, rule_set, groups, "security_groups")
    networks = [network.name for network in agency.networks]
    for index, name in enumerate(agency.router.interfaces if agency.router else ()):
        yield _Ref(("router", "interfaces", index), "network", name, "networks", networks)
    users = [user.name for user in agency.users]
    for group_index, user_group in enumerate(agency.groups):
        for index, name in enumerate(user_group.members):
            path = ("groups", group_index, "members", index)
            yield _Ref(path, "user", name, "this agency's users", users)
    for server_index, server in enumerate(agency.servers):
        base = ("servers", server_index)
        for index, name in enumerate(server.networks):
            yield _Ref((*base, "networks", index), "network", name, "networks", networks)
        for index, name in enumerate(server.security_groups):
            path = (*base, "security_groups", index)
            yield _Ref(path, "security group", name, "security_groups", groups)
    servers = [server.name for server in agency.servers]
    for index, volume in enumerate(agency.volumes):
        if volume.server is not None:
            yield _Ref(("volumes", index, "server"), "server", volume.server, "servers", servers)


def _agency_site_refs(config: SiteConfig, loaded: LoadedAgency) -> Iterator[_Ref]:
    agency = loaded.agency
    if agency.quota.template is not None:
        yield _Ref(
            ("quota", "template"),
            "quota template",
            agency.quota.template,
            "site.yaml quota_templates",
            config.quota_templates,
        )
    if agency.backup_policy is not None:
        yield _Ref(
            ("backup_policy",),
            "backup policy",
            agency.backup_policy,
            "site.yaml backup_policies",
            config.backup_policies,
        )
    flavors = [flavor.name for flavor in config.flavors]
    images = [image.name for image in config.images]
    for index, server in enumerate(agency.servers):
        base = ("servers", index)
        yield _Ref((*base, "flavor"), "flavor", server.flavor, "site.yaml flavors", flavors)
        yield _Ref((*base, "image"), "image", server.image, "site.yaml images", images)


def _host_references(context: CheckContext, loaded: LoadedAgency) -> Iterator[Problem]:
    """A database's host is in hosts.yml, in the Ansible group named by the agency code."""
    agency = loaded.agency
    for index, database in enumerate(agency.databases):
        path = ("databases", index, "host")
        if context.hosts is None:
            reason = (
                f"host {database.host!r}: the site has no readable hosts.yml ({context.hosts_file})"
            )
        elif database.host not in context.hosts.hosts_of(agency.code):
            where = "is not in" if database.host in context.hosts.hosts else "is not defined in"
            reason = (
                f"host {database.host!r} {where} the Ansible group {agency.code!r} of hosts.yml "
                + known(context.hosts.hosts_of(agency.code))
            )
        else:
            continue
        yield loaded.problem(path, reason, Kind.UNDEFINED_REFERENCE)
