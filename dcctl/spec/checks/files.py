"""Each agency file is named by its code; site.yaml defines every security level."""

from __future__ import annotations

from collections.abc import Iterator

from dcctl.spec.checks import CheckContext, check
from dcctl.spec.problems import Kind, Problem

LEVELS = range(1, 6)


@check("agency-code-matches-file", "An agency's code is its file name")
def code_matches_file(context: CheckContext) -> Iterator[Problem]:
    for loaded in context.agencies:
        if loaded.agency.code != loaded.stem:
            yield loaded.problem(
                ("code",),
                f"code {loaded.agency.code!r} must equal the file name ({loaded.stem!r}): the code "
                "names the file, the project and the Ansible group",
                Kind.CODE_MISMATCH,
            )


@check("security-levels-complete", "site.yaml gives defaults for every security level 1-5")
def levels_complete(context: CheckContext) -> Iterator[Problem]:
    if context.config is None:
        return
    for level in LEVELS:
        if level not in context.config.security_levels:
            yield context.site_problem(
                ("security_levels", level),
                f"security level {level} has no defaults; every level 1-5 needs quota_template, "
                "backup_policy, rpo_hours, encrypt_volumes and default_security_group",
                Kind.MISSING_FIELD,
            )
