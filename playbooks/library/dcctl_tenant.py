#!/usr/bin/python
# Copyright: Quang Ngai DIC data-center team
# Apache-2.0 (see pyproject.toml)
"""Ansible module ``dcctl_tenant``: converge agency tenants with dcctl's own engine.

It imports :class:`dcctl.tenant.engine.TenantEngine` (it never runs the ``dcctl`` command), so a
playbook and ``dcctl tenant plan/apply`` read the same spec and make the same plan. Check mode is
``dcctl tenant plan``; otherwise the module applies like ``dcctl tenant apply --yes``.

It must run on the control node with a Python that has dcctl installed (the playbook sets
``ansible_python_interpreter`` to ``ansible_playbook_python``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback

DCCTL_IMPORT_ERROR: str | None = None
try:
    from dcctl.cloud.connection import connect
    from dcctl.cloud.errors import translate
    from dcctl.errors import DcctlError, UsageError
    from dcctl.reconcile.model import Action, Change, plain
    from dcctl.redact import redact_text
    from dcctl.spec import load_site
    from dcctl.spec.inventory import Site
    from dcctl.spec.loader import find_sites
    from dcctl.spec.problems import SpecInvalid
    from dcctl.tenant.credentials import CredentialDelivery, Delivered
    from dcctl.tenant.engine import ApplyReport, ApplySettings, TenantEngine
    from dcctl.tenant.planner import AgencyPlan, PlanOptions, SitePlan
    from dcctl.tenant.render import plan_lines
except ImportError as error:  # the interpreter that runs the module lacks dcctl
    DCCTL_IMPORT_ERROR = f"{type(error).__name__}: {error}"

DOCUMENTATION = r"""
---
module: dcctl_tenant
short_description: Converge agency tenants to the dcctl spec (inventory/<site>/)
description:
  - Plans and applies the keystone projects, users, groups, role assignments, quotas, networks,
    routers and security groups of the agencies of one site, from C(inventory/<site>/), with
    dcctl's own tenant engine (the one behind C(dcctl tenant plan) and C(dcctl tenant apply)).
  - In check mode it only reads the cloud and returns the plan (C(dcctl tenant plan)); C(changed)
    says whether applying would change anything. With C(--diff) it shows one diff per agency.
  - Otherwise it applies the plan under the agencies' cloud locks and audit log, like
    C(dcctl tenant apply --yes). A second run against an unchanged cloud reports no change.
  - New users get an initial password written to a file of mode 0600 under dcctl's state
    directory; the result names that file and the users, never a password.
  - Any dcctl error (invalid spec, problems in the plan, a lock held by someone else, a cloud
    that cannot be reached, quotas beyond capacity) fails the task with dcctl's message and hint.
  - Runs on the control node (C(connection=local)) with a Python interpreter that can import
    dcctl, e.g. C(ansible_python_interpreter={{ ansible_playbook_python }}).
version_added: "0.1.0"
author:
  - Quang Ngai DIC data-center team
options:
  site:
    description:
      - The site directory C(inventory/<site>) holding C(site.yaml), or an C(inventory)
        directory holding exactly one site.
    type: path
    required: true
  agencies:
    description:
      - Codes of the agencies to act on (file names of C(agencies/<code>.yaml)).
      - Give either O(agencies) or O(all=true).
    type: list
    elements: str
    default: []
  all:
    description:
      - Act on every agency of the site.
    type: bool
    default: false
  cloud:
    description:
      - Name of the cloud in clouds.yaml (or a sandbox's clouds file). Defaults to the
        E(OS_CLOUD) environment variable, then to C(cloud) in C(site.yaml).
    type: str
  keep_unmanaged:
    description:
      - Keep security group rules and role assignments that are not in the spec (made by hand)
        instead of deleting them.
    type: bool
    default: false
  purge_users:
    description:
      - Delete users removed from the spec; by default they are only disabled.
    type: bool
    default: false
  parallel:
    description:
      - How many agencies are applied at once (1 to 32).
    type: int
    default: 4
  wait_lock:
    description:
      - Seconds to wait for an agency's cloud lock held by another run; V(0) fails at once.
    type: float
    default: 0.0
  lock_lease:
    description:
      - Seconds an agency's lock outlives a run that died (it is renewed while the run lives).
    type: float
    default: 60.0
  allow_overcommit:
    description:
      - Apply even when the agencies' quotas exceed what the cloud has.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Check mode is C(dcctl tenant plan); nothing is written to the cloud.
  diff_mode:
    support: full
    description: One before/after text per agency with changes.
requirements:
  - dcctl importable by the Python interpreter that runs the module
notes:
  - The environment of the control node is used as is, e.g. E(OS_CLIENT_CONFIG_FILE) and
    E(DCCTL_STATE_DIR).
  - C(playbooks/tenant.yml) in the dcctl repository runs this module; see C(docs/playbooks.md),
    and C(docs/spec.md) for the spec.
"""

EXAMPLES = r"""
- name: Onboard every agency of the site (check mode shows the plan)
  dcctl_tenant:
    site: "{{ playbook_dir }}/../inventory/quangngai"
    all: true
  register: tenants

- name: Converge two agencies on another cloud, waiting up to 5 minutes for their locks
  dcctl_tenant:
    site: inventory/quangngai
    agencies: [soyte, congan]
    cloud: sandbox
    wait_lock: 300

- name: Only show the plan, whatever the playbook's mode
  dcctl_tenant:
    site: inventory/quangngai
    all: true
  check_mode: true
  register: plan

- name: Print it
  ansible.builtin.debug:
    msg: "{{ plan.plan_text }}"
"""

RETURN = r"""
changed:
  description: Check mode, whether the plan has changes; otherwise, whether any change was made.
  returned: always
  type: bool
site:
  description: Name of the site (its directory name).
  returned: success
  type: str
  sample: quangngai
cloud:
  description: The cloud the plan was made against.
  returned: success
  type: str
  sample: sandbox
agencies:
  description: Codes of the agencies acted on.
  returned: success
  type: list
  elements: str
  sample: [soyte, congan]
summary:
  description: Number of planned changes by action, over all agencies.
  returned: success
  type: dict
  sample: {"create": 31, "update": 0, "adopt": 0, "delete": 0, "no-op": 0}
plan:
  description:
    - The plan as data, the same document as C(dcctl tenant plan --output json) (format
      C(dcctl-plan/1)) with one entry per agency listing its changes, problems and warnings.
  returned: success, and on failure when a plan was made
  type: dict
plan_text:
  description: The plan as C(dcctl tenant plan) prints it, one line per item.
  returned: success, and on failure when a plan was made
  type: list
  elements: str
results:
  description: Outside check mode, what happened to each agency.
  returned: when not in check mode
  type: list
  elements: dict
  contains:
    agency:
      description: Agency code.
      type: str
    ok:
      description: Every change of the agency was made.
      type: bool
    error:
      description: Why the agency was not applied at all (lock busy, cloud changed …), or null.
      type: str
    hint:
      description: What to do about that error, or null.
      type: str
    applied:
      description: Number of changes made.
      type: int
    failed:
      description: Number of changes that failed.
      type: int
    skipped:
      description: Number of changes skipped because one they depend on failed.
      type: int
    outcomes:
      description:
        - Each change attempted, as resource, action, status (done, failed or skipped) and error.
      type: list
      elements: dict
initial_passwords_file:
  description:
    - Path of the file (mode 0600) holding the initial passwords of new users; hand each to its
      user, then delete the file. Null when no user got a password.
  returned: when not in check mode
  type: str
  sample: /home/admin/.local/state/dcctl/credentials/initial-passwords-20260101T080000-4242.txt
new_users:
  description: Users that got an initial password in this run (agency and user name).
  returned: when not in check mode
  type: list
  elements: dict
  sample: [{"agency": "soyte", "user": "soyte.admin"}]
hint:
  description: On failure, what to do next (dcctl's hint).
  returned: failure
  type: str
error_kind:
  description: On failure from a dcctl error, its class (e.g. SpecInvalid, ConfigError, Busy).
  returned: failure
  type: str
problems:
  description:
    - On failure, each problem found, in the spec (file, line, path, reason, kind) or in the
      plan (agency, resource, reason, hint).
  returned: failure
  type: list
  elements: dict
"""

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "site": {"type": "path", "required": True},
    "agencies": {"type": "list", "elements": "str", "default": []},
    "all": {"type": "bool", "default": False},
    "cloud": {"type": "str", "fallback": (env_fallback, ["OS_CLOUD"])},
    "keep_unmanaged": {"type": "bool", "default": False},
    "purge_users": {"type": "bool", "default": False},
    "parallel": {"type": "int", "default": 4},
    "wait_lock": {"type": "float", "default": 0.0},
    "lock_lease": {"type": "float", "default": 60.0},
    "allow_overcommit": {"type": "bool", "default": False},
}

_SDK_MODULES = ("openstack", "keystoneauth1", "requests", "urllib3")


class Failed(Exception):
    """Stop with ``fail_json``: a message and the extra result keys."""

    def __init__(self, msg: str, **result: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


# -- what the engine reports while it works --------------------------------------------------------


class WarningCollector(logging.Handler):
    """dcctl's warnings (reporter and logging), to be shown as Ansible warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self._guard = threading.Lock()

    def add(self, message: str) -> None:
        with self._guard:
            if message not in self.messages:
                self.messages.append(message)

    def emit(self, record: logging.LogRecord) -> None:
        self.add(f"{record.name}: {record.getMessage()}")

    # the dcctl.progress.Reporter protocol
    def step(self, subject: str, status: str, detail: str = "") -> None:
        return None

    def warn(self, message: str) -> None:
        self.add(message)


def no_log_delivery(module: AnsibleModule) -> CredentialDelivery:
    """dcctl's 0600 password file; every password delivered is also a no_log value, so that
    Ansible masks it should it ever reach the result."""

    class NoLogDelivery(CredentialDelivery):
        def deliver(self, *, agency: str, user: str, password: str) -> Delivered:
            module.no_log_values.add(password)
            return super().deliver(agency=agency, user=user, password=password)

    return NoLogDelivery()


# -- turning the plan into results -----------------------------------------------------------------


def _value(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=False, sort_keys=True, default=str)


def _attr_lines(attrs: Any) -> Iterator[str]:
    for key, value in sorted((attrs or {}).items()):
        if value in (None, "", (), [], frozenset(), {}):
            continue
        yield f"  {key}: {_value(value)}"


def change_sides(change: Change) -> tuple[list[str], list[str]]:
    """The lines a change adds to the cloud's side (before) and to the spec's side (after)."""
    title = f"{change.ref}:" + (f"  # {change.note}" if change.note else "")
    if change.action is Action.CREATE:
        return [], [title, *_attr_lines(change.after)]
    if change.action is Action.DELETE:
        return [title, *_attr_lines(change.before)], []
    before, after = [title], [title]
    if change.action is Action.ADOPT:
        before.append("  managed by dcctl: false")
        after.append("  managed by dcctl: true")
    for field in change.fields:
        before.append(f"  {field.field}: {_value(field.old)}")
        after.append(f"  {field.field}: {_value(field.new)}")
    return before, after


def agency_diff(plan: SitePlan, agency: AgencyPlan) -> dict[str, str]:
    """Ansible's diff form for one agency: the changed resources as the cloud has them (before)
    and as the spec wants them (after)."""
    before: list[str] = []
    after: list[str] = []
    for change in agency.pending:
        old, new = change_sides(change)
        before += old
        after += new
    return {
        "before_header": f"{agency.scope} on cloud {plan.cloud}",
        "after_header": f"{agency.scope} in site {plan.site}",
        "before": "".join(f"{line}\n" for line in before),
        "after": "".join(f"{line}\n" for line in after),
    }


def plan_result(plan: SitePlan, *, with_diff: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "site": plan.site,
        "cloud": plan.cloud,
        "agencies": [agency.scope for agency in plan.agencies],
        "summary": plan.counts().as_dict(),
        "plan": plan.as_dict(),
        "plan_text": [text for _, text in plan_lines(plan)],
    }
    if with_diff:
        result["diff"] = [agency_diff(plan, agency) for agency in plan.agencies if agency.pending]
    return result


def plan_problems(plan: SitePlan) -> list[dict[str, Any]]:
    return [
        {"agency": code, "resource": p.ref, "reason": p.reason, "hint": p.hint}
        for code, p in plan.problems
    ]


def report_result(report: ApplyReport) -> dict[str, Any]:
    delivered = report.credentials.delivered if report.credentials else []
    return {
        "results": [
            {
                "agency": result.code,
                "ok": result.ok,
                "error": result.error,
                "hint": result.hint,
                "applied": result.count("done"),
                "failed": result.count("failed"),
                "skipped": result.count("skipped"),
                "outcomes": [
                    {
                        "resource": str(outcome.ref),
                        "action": outcome.action.value,
                        "status": outcome.status,
                        "error": outcome.error,
                    }
                    for outcome in result.outcomes
                ],
            }
            for result in report.results
        ],
        "initial_passwords_file": str(delivered[0].path) if delivered else None,
        "new_users": [{"agency": item.agency, "user": item.user} for item in delivered],
    }


def report_failures(report: ApplyReport) -> list[str]:
    lines: list[str] = []
    for result in report.results:
        if result.error:
            hint = f" (hint: {result.hint})" if result.hint else ""
            lines.append(f"{result.code}: {result.error}{hint}")
        lines += [
            f"{result.code} {outcome.ref}: {outcome.error}"
            for outcome in result.outcomes
            if outcome.status == "failed"
        ]
    return lines


def redacted(result: dict[str, Any]) -> dict[str, Any]:
    """Error texts pass through dcctl's redaction (every password it generated is masked)."""
    if "results" in result:
        result = {**result, "results": _redact(result["results"])}
    return result


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


# -- the module ------------------------------------------------------------------------------------


def open_site(path: Path) -> Site:
    """Like ``--site``: a site directory, or an inventory directory with exactly one site."""
    sites = find_sites(path)
    if len(sites) > 1:
        raise UsageError(
            f"{path} holds several sites: {', '.join(s.name for s in sites)}",
            hint="set site to one of them: inventory/<site>",
        )
    return load_site(sites[0] if sites else path)


def run(module: AnsibleModule, warnings: WarningCollector) -> dict[str, Any]:
    params = module.params
    codes: list[str] = [code for code in params["agencies"] if code]
    if params["all"] and codes:
        raise UsageError("give either agencies or all: true, not both")
    if not params["all"] and not codes:
        raise UsageError(
            "name the agencies to act on", hint="set agencies to a list of codes, or all: true"
        )
    if not 1 <= params["parallel"] <= 32:
        raise UsageError(f"parallel must be between 1 and 32, got {params['parallel']}")
    if not 2 <= params["lock_lease"] <= 3600:
        raise UsageError(f"lock_lease must be between 2 and 3600 s, got {params['lock_lease']}")

    site = open_site(Path(params["site"]))
    cloud = site.cloud_name(params["cloud"] or None)
    try:
        engine = TenantEngine(
            site,
            connect(cloud),
            cloud=cloud,
            reporter=warnings,
            options=PlanOptions(
                keep_unmanaged=params["keep_unmanaged"], purge_users=params["purge_users"]
            ),
        )
        return converge(module, engine, codes, warnings)
    except Exception as error:
        if type(error).__module__.startswith(_SDK_MODULES):
            raise translate(error, cloud=cloud) from error
        raise


def converge(
    module: AnsibleModule, engine: TenantEngine, codes: list[str], warnings: WarningCollector
) -> dict[str, Any]:
    params = module.params
    plan = engine.plan(engine.select(codes, all_agencies=params["all"]))
    for agency in plan.agencies:
        for warning in agency.warnings:
            warnings.add(f"{agency.scope}: {warning}")
    result = plan_result(plan, with_diff=module._diff)
    if plan.problems:
        raise Failed(
            "the plan has problems; nothing was applied: "
            + "; ".join(f"{code}: {p.ref}: {p.reason}" for code, p in plan.problems),
            hint="fix them (see problems) and re-run",
            problems=plan_problems(plan),
            **result,
        )
    if module.check_mode:
        return {"changed": plan.has_changes, **result}
    if not plan.has_changes:
        engine.reap_locks([agency.scope for agency in plan.agencies])
        return {"changed": False, **result, **report_result(ApplyReport())}
    report = engine.apply(
        plan,
        ApplySettings(
            parallel=params["parallel"],
            wait_lock_s=params["wait_lock"],
            lease_s=params["lock_lease"],
            allow_overcommit=params["allow_overcommit"],
        ),
        delivery=no_log_delivery(module),
    )
    changed = any(agency.count("done") for agency in report.results)
    result.update(report_result(report))
    if not report.ok:
        failures = report_failures(report)
        raise Failed(
            "the apply did not complete; re-run to converge: " + "; ".join(failures),
            hint=next(
                (r.hint for r in report.results if r.hint),
                "re-run the playbook; applying again converges",
            ),
            changed=changed,
            **result,
        )
    return {"changed": changed, **result}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if DCCTL_IMPORT_ERROR is not None:
        module.fail_json(
            msg=f"dcctl cannot be imported by this Python interpreter: {DCCTL_IMPORT_ERROR}",
            hint="run the module with the Python that has dcctl installed, e.g. "
            "ansible_python_interpreter={{ ansible_playbook_python }} "
            "(or -e ansible_python_interpreter=/path/to/venv/bin/python)",
        )
    warnings = WarningCollector()
    root = logging.getLogger()
    root.addHandler(warnings)
    outcome: dict[str, Any] | None = None
    failure: tuple[str, dict[str, Any]] | None = None
    try:
        outcome = run(module, warnings)
    except Failed as error:
        failure = (error.msg, error.result)
    except SpecInvalid as error:
        failure = (
            f"{error.message}: " + "; ".join(str(problem) for problem in error.problems),
            {
                "hint": error.hint,
                "error_kind": type(error).__name__,
                "problems": [problem.as_dict() for problem in error.problems],
            },
        )
    except DcctlError as error:
        failure = (error.message, {"hint": error.hint, "error_kind": type(error).__name__})
    finally:
        root.removeHandler(warnings)
    for message in warnings.messages:
        module.warn(redact_text(message))
    if failure is not None:
        msg, extra = failure
        module.fail_json(msg=redact_text(msg), **redacted(extra))
    module.exit_json(**redacted(outcome or {}))


if __name__ == "__main__":
    main()
