"""Names that must be unique (in the domain, the site or one agency) and names that are reserved."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from dcctl.spec.checks import CheckContext, check
from dcctl.spec.problems import FieldPath, Kind, Problem, format_path
from dcctl.spec.secgroup import DEFAULT_GROUP

GENERIC_ACCOUNTS = frozenset({"admin", "root", "test", "demo", "guest", "user", "administrator"})
RESERVED_PROJECTS = frozenset({"admin", "service"})


@dataclass(frozen=True)
class _Seen:
    file: str
    path: FieldPath


class _FirstUse:
    """First place each name of one namespace was written; later uses are duplicates."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.first: dict[str, _Seen] = {}

    def claim(self, name: str, file: str, path: FieldPath) -> str | None:
        """None for a new name, else the reason the name is a duplicate."""
        seen = self.first.get(name)
        if seen is None:
            self.first[name] = _Seen(file, path)
            return None
        where = format_path(seen.path)
        place = where if seen.file == file else f"{seen.file} ({where})"
        return f"{self.what} {name!r} is already used at {place}"


def _duplicates(
    file: str, what: str, field: str, names: Iterable[str]
) -> Iterator[tuple[FieldPath, str]]:
    """(path, reason) for each name of the list ``field`` already used earlier in the list."""
    registry = _FirstUse(what)
    for index, name in enumerate(names):
        path = (field, index, "name")
        if reason := registry.claim(name, file, path):
            yield path, reason


@check(
    "unique-names",
    "Codes, projects, users and groups are unique in the domain; "
    "resources in their agency; flavors and images in the site",
)
def unique_names(context: CheckContext) -> Iterator[Problem]:
    codes = _FirstUse("agency code")
    projects = _FirstUse("project name")
    users = _FirstUse("user name")
    groups = _FirstUse("group name")
    for loaded in context.agencies:
        agency, file = loaded.agency, loaded.doc.file
        if reason := codes.claim(agency.code, file, ("code",)):
            yield loaded.problem(("code",), reason, Kind.DUPLICATE_NAME)
        project_path: FieldPath = ("project", "name") if agency.project.name else ("code",)
        if reason := projects.claim(agency.project_name, file, project_path):
            yield loaded.problem(project_path, reason, Kind.DUPLICATE_NAME)
        for index, user in enumerate(agency.users):
            if reason := users.claim(user.name, file, ("users", index, "name")):
                yield loaded.problem(("users", index, "name"), reason, Kind.DUPLICATE_NAME)
        for index, group in enumerate(agency.groups):
            if reason := groups.claim(group.name, file, ("groups", index, "name")):
                yield loaded.problem(("groups", index, "name"), reason, Kind.DUPLICATE_NAME)
        for what, field, names in (
            ("network name", "networks", [n.name for n in agency.networks]),
            ("security group name", "security_groups", [g.name for g in agency.security_groups]),
            ("server name", "servers", [s.name for s in agency.servers]),
            ("volume name", "volumes", [v.name for v in agency.volumes]),
            ("database name", "databases", [d.name for d in agency.databases]),
        ):
            for path, reason in _duplicates(file, what, field, names):
                yield loaded.problem(path, reason, Kind.DUPLICATE_NAME)
    if context.config is not None:
        for what, field, names in (
            ("flavor name", "flavors", [f.name for f in context.config.flavors]),
            ("image name", "images", [i.name for i in context.config.images]),
        ):
            for path, reason in _duplicates("site.yaml", what, field, names):
                yield context.site_problem(path, reason, Kind.DUPLICATE_NAME)


@check("reserved-names", "No 'default' security group, generic accounts or keystone's own projects")
def reserved_names(context: CheckContext) -> Iterator[Problem]:
    for loaded in context.agencies:
        agency = loaded.agency
        for index, group in enumerate(agency.security_groups):
            if group.name == DEFAULT_GROUP:
                yield loaded.problem(
                    ("security_groups", index, "name"),
                    "'default' is the group neutron creates with every project; "
                    "write its rules under default_security_group",
                    Kind.RESERVED_NAME,
                )
        for index, user in enumerate(agency.users):
            if user.name.lower() in GENERIC_ACCOUNTS:
                yield loaded.problem(
                    ("users", index, "name"),
                    f"{user.name!r} is a generic account name; every account belongs to one "
                    "named person",
                    Kind.RESERVED_NAME,
                )
        if agency.project_name in RESERVED_PROJECTS:
            path: FieldPath = ("project", "name") if agency.project.name else ("code",)
            yield loaded.problem(
                path,
                f"project name {agency.project_name!r} is reserved for the cloud's own use",
                Kind.RESERVED_NAME,
            )
