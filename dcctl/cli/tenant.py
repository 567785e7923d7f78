"""``dcctl tenant``: onboard, converge, suspend and decommission agency tenants."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dcctl.cli.app import App
from dcctl.errors import Aborted, DataError, ExitCode, UsageError

if TYPE_CHECKING:
    from dcctl.spec.agency import Agency
    from dcctl.spec.inventory import Site
    from dcctl.tenant.engine import ApplyReport, ApplySettings, TenantEngine
    from dcctl.tenant.planner import SitePlan
    from dcctl.tenant.session import TenantSession

F = TypeVar("F", bound=Callable[..., Any])

_STYLES = {
    "create": "green",
    "update": "yellow",
    "adopt": "cyan",
    "delete": "red",
    "title": "bold",
    "problem": "bold red",
    "dim": "dim",
}


def site_option(function: F) -> F:
    return click.option(
        "--site",
        "site_path",
        default="inventory",
        show_default=True,
        type=click.Path(path_type=Path),
        help="inventory/ (with one site) or a site directory holding site.yaml.",
    )(function)


def load_site(path: Path) -> Site:
    from dcctl.spec import load_site as load
    from dcctl.spec.loader import find_sites

    sites = find_sites(path)
    if len(sites) > 1:
        raise UsageError(
            f"{path} holds several sites: {', '.join(s.name for s in sites)}",
            hint="choose one with --site inventory/<site>",
        )
    return load(sites[0] if sites else path)


def make_engine(
    app: App, site: Site, *, keep_unmanaged: bool = False, purge: bool = False
) -> TenantEngine:
    from dcctl.tenant.engine import TenantEngine
    from dcctl.tenant.planner import PlanOptions

    cloud = site.cloud_name(app.cloud)
    return TenantEngine(
        site,
        app.connection(cloud=cloud),
        cloud=cloud,
        reporter=app.reporter(),
        options=PlanOptions(keep_unmanaged=keep_unmanaged, purge_users=purge),
    )


def render_plan(app: App, plan: SitePlan) -> None:
    from dcctl.tenant.render import plan_lines

    for style, text in plan_lines(plan, show_noop=app.verbose > 0):
        app.display(text, style=_STYLES.get(style))


@click.group()
def tenant() -> None:
    """Agency tenants as code: plan, apply, list, suspend, resume, delete."""


@tenant.command()
@click.argument("codes", nargs=-1)
@click.option("--all", "all_agencies", is_flag=True, help="Every agency of the site.")
@click.option("--out", "out_file", type=click.Path(path_type=Path), help="Save the plan (JSON).")
@click.option("--keep-unmanaged", is_flag=True, help="Keep rules and grants made by hand.")
@site_option
@click.pass_obj
def plan(
    app: App,
    codes: tuple[str, ...],
    all_agencies: bool,
    out_file: Path | None,
    keep_unmanaged: bool,
    site_path: Path,
) -> int:
    """Show what apply would change, read from the live cloud (exit 2 = changes)."""
    site = load_site(site_path)
    engine = make_engine(app, site, keep_unmanaged=keep_unmanaged)
    result = engine.plan(engine.select(codes, all_agencies=all_agencies))
    if out_file is not None:
        out_file.write_text(json.dumps(result.as_dict(), indent=1, ensure_ascii=False) + "\n")
        app.info(f"plan saved to {out_file}; apply it with: dcctl tenant apply {out_file}")
    if app.json_output:
        app.emit_json(result.as_dict())
    else:
        render_plan(app, result)
    if result.problems:
        return int(ExitCode.ERROR)
    return int(ExitCode.CHANGES if result.has_changes else ExitCode.OK)


@tenant.command()
@click.argument("targets", nargs=-1)
@click.option("--all", "all_agencies", is_flag=True, help="Every agency of the site.")
@click.option("--parallel", default=4, show_default=True, type=click.IntRange(1, 32))
@click.option("--yes", "-y", is_flag=True, envvar="DCCTL_YES", help="Do not ask; apply.")
@click.option("--keep-unmanaged", is_flag=True, help="Keep rules and grants made by hand.")
@click.option("--purge", is_flag=True, help="Delete users removed from the spec.")
@click.option("--allow-overcommit", is_flag=True, help="Apply even if quotas exceed capacity.")
@click.option("--wait", "wait_s", default=0.0, type=float, help="Wait this long for a lock.")
@click.option(
    "--lock-lease",
    "lease_s",
    default=60.0,
    type=click.FloatRange(2, 3600),
    show_default=True,
    help="Seconds a lock outlives a dcctl that died (renewed while alive).",
)
@click.option("--show-passwords", is_flag=True, help="Also print new initial passwords.")
@site_option
@click.pass_obj
def apply(
    app: App,
    targets: tuple[str, ...],
    all_agencies: bool,
    parallel: int,
    yes: bool,
    keep_unmanaged: bool,
    purge: bool,
    allow_overcommit: bool,
    wait_s: float,
    lease_s: float,
    show_passwords: bool,
    site_path: Path,
) -> int:
    """Converge agencies (codes, --all, or a saved plan FILE) to the spec."""
    from dcctl.tenant.engine import ApplySettings
    from dcctl.tenant.planner import load_plan

    saved = [t for t in targets if t.endswith(".json") or Path(t).is_file()]
    site = load_site(site_path)
    engine = make_engine(app, site, keep_unmanaged=keep_unmanaged, purge=purge)
    strict = False
    if saved:
        if len(targets) != 1:
            raise UsageError("give either one saved plan file or agency codes, not both")
        try:
            shown = load_plan(json.loads(Path(saved[0]).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as error:
            raise DataError(f"{saved[0]}: not a readable dcctl plan ({error})") from error
        if shown.site != site.name or shown.cloud != engine.cloud:
            raise UsageError(
                f"{saved[0]} was made for site {shown.site} on cloud {shown.cloud}",
                hint="apply it with the same --site and --cloud",
            )
        engine.options = shown.options
        strict = True
    elif yes:
        return _apply_unattended(
            app,
            engine,
            engine.select(targets, all_agencies=all_agencies),
            ApplySettings(
                parallel=parallel,
                wait_lock_s=wait_s,
                lease_s=lease_s,
                allow_overcommit=allow_overcommit,
            ),
            show_passwords=show_passwords,
        )
    else:
        shown = engine.plan(engine.select(targets, all_agencies=all_agencies))
    if not app.json_output:
        render_plan(app, shown)
    if shown.problems:
        if app.json_output:
            app.emit_json(shown.as_dict())
        raise DataError("the plan has problems; nothing was applied", hint="fix them and re-run")
    if not shown.has_changes:
        engine.reap_locks([agency.scope for agency in shown.agencies])
        if app.json_output:
            app.emit_json({"plan": shown.as_dict(), "results": []})
        else:
            app.display("Nothing to do: the cloud matches the spec.", style="green")
        return int(ExitCode.OK)
    app.confirm("Apply these changes?", assume_yes=yes)
    report = engine.apply(
        shown,
        ApplySettings(
            parallel=parallel,
            wait_lock_s=wait_s,
            lease_s=lease_s,
            strict=strict,
            allow_overcommit=allow_overcommit,
        ),
    )
    render_report(app, shown, report, show_passwords=show_passwords)
    return int(ExitCode.OK if report.ok else ExitCode.ERROR)


@tenant.command()
@click.argument("code")
@click.option("--yes", "-y", is_flag=True, envvar="DCCTL_YES", help="Do not ask; apply.")
@click.option("--show-passwords", is_flag=True, help="Also print new initial passwords.")
@site_option
@click.pass_context
def create(ctx: click.Context, code: str, yes: bool, show_passwords: bool, site_path: Path) -> int:
    """Onboard one agency from its spec file (apply for one agency)."""
    result = ctx.invoke(
        apply, targets=(code,), yes=yes, show_passwords=show_passwords, site_path=site_path
    )
    return int(result)


def _apply_unattended(
    app: App,
    engine: TenantEngine,
    agencies: list[Agency],
    settings: ApplySettings,
    *,
    show_passwords: bool,
) -> int:
    """--yes: the engine locks, reads once and applies; the plan is shown as it is made."""

    def show(plan: SitePlan) -> None:
        if not app.json_output:
            render_plan(app, plan)
        elif plan.problems:
            app.emit_json(plan.as_dict())

    shown, report = engine.apply_unattended(agencies, settings, show=show)
    if not shown.has_changes and report.ok:
        if app.json_output:
            app.emit_json({"plan": shown.as_dict(), "results": []})
        else:
            app.display("Nothing to do: the cloud matches the spec.", style="green")
        return int(ExitCode.OK)
    render_report(app, shown, report, show_passwords=show_passwords)
    return int(ExitCode.OK if report.ok else ExitCode.ERROR)


def render_report(app: App, plan: SitePlan, report: ApplyReport, *, show_passwords: bool) -> None:
    delivered = report.credentials.delivered if report.credentials else []
    if app.json_output:
        app.emit_json(
            {
                "plan": plan.as_dict(),
                "ok": report.ok,
                "results": [
                    {
                        "agency": result.code,
                        "ok": result.ok,
                        "error": result.error,
                        "hint": result.hint,
                        "outcomes": [
                            {
                                "resource": str(o.ref),
                                "action": o.action.value,
                                "status": o.status,
                                "error": o.error,
                            }
                            for o in result.outcomes
                        ],
                    }
                    for result in report.results
                ],
                "initial_passwords_file": str(delivered[0].path) if delivered else None,
                "new_users": [d.user for d in delivered],
            }
        )
        return
    rows = []
    for result in report.results:
        status = "ok" if result.ok else "FAILED"
        detail = result.error or (
            f"{result.count('done')} applied"
            + (f", {result.count('failed')} failed" if result.count("failed") else "")
            + (f", {result.count('skipped')} skipped" if result.count("skipped") else "")
        )
        rows.append((result.code, status, detail))
    app.table(["AGENCY", "RESULT", "DETAIL"], rows)
    for result in report.results:
        if result.hint:
            app.display(f"  {result.code}: {result.hint}", style="dim")
        for outcome in result.outcomes:
            if outcome.status == "failed":
                app.display(f"  {result.code} {outcome.ref}: {outcome.error}", style="red")
    if delivered:
        path = delivered[0].path
        app.display(
            f"{len(delivered)} initial password(s) written to {path} (mode 0600): hand each to "
            "its user, then delete the file. Keystone makes users change them at first login "
            "where [security_compliance] change_password_upon_first_use is on."
        )
        if show_passwords:
            for line in path.read_text().splitlines():
                if line and not line.startswith("#"):
                    app.display(f"  {line}")
    if not report.ok:
        app.display("Some changes failed; re-run the same command to converge.", style="red")


# -- lifecycle: list, show, suspend, resume, delete, orphans --------------------------------------


def make_session(app: App, site: Site) -> TenantSession:
    from dcctl.tenant.session import TenantSession

    cloud = site.cloud_name(app.cloud)
    return TenantSession(site, app.connection(cloud=cloud), cloud=cloud, reporter=app.reporter())


def render_lines(app: App, lines: Iterable[tuple[str, str]]) -> None:
    for style, text in lines:
        app.display(text, style=_STYLES.get(style))


def wait_option(function: F) -> F:
    return click.option(
        "--wait", "wait_s", default=0.0, type=float, help="Wait this long for the agency's lock."
    )(function)


@tenant.command("list")
@site_option
@click.pass_obj
def list_tenants(app: App, site_path: Path) -> int:
    """Every agency of the site and its state: active, suspended, not created, or in the
    cloud but not in the spec (one project listing)."""
    from dcctl.tenant.overview import list_tenants as read

    site = load_site(site_path)
    rows = read(make_session(app, site))
    if app.json_output:
        app.emit_json({"site": site.name, "agencies": [row.as_dict() for row in rows]})
        return int(ExitCode.OK)
    styles = {"active": None, "suspended": "yellow", "not created": "dim"}
    app.table(
        ["CODE", "NAME", "LEVEL", "STATUS", "PROJECT ID"],
        [(r.code, r.name, r.security_level, r.status, r.project_id or "-") for r in rows],
        styles=[styles.get(r.status, "red") for r in rows],
    )
    return int(ExitCode.OK)


@tenant.command()
@click.argument("code")
@site_option
@click.pass_obj
def show(app: App, code: str, site_path: Path) -> int:
    """One agency: project, users, quota usage against limits, resource counts."""
    from dcctl.tenant.overview import show_tenant
    from dcctl.tenant.render_lifecycle import details_lines

    details = show_tenant(make_session(app, load_site(site_path)), code)
    if app.json_output:
        app.emit_json(details.as_dict())
    else:
        render_lines(app, details_lines(details))
    return int(ExitCode.OK)


def _lifecycle(
    app: App, action: str, code: str, reason: str, wait_s: float, site_path: Path
) -> int:
    from dcctl.tenant.lifecycle import Lifecycle

    lifecycle = Lifecycle(make_session(app, load_site(site_path)))
    run = lifecycle.suspend if action == "suspend" else lifecycle.resume
    result = run(code, reason=reason, wait_s=wait_s)
    if app.json_output:
        app.emit_json(result.as_dict())
    elif not result.changed:
        state = "already suspended" if action == "suspend" else "not suspended"
        app.display(f"{code} is {state}: nothing to do.", style="green")
    else:
        past = "suspended" if action == "suspend" else "resumed"
        users = ", ".join(result.users_changed) or "none"
        verb = "disabled" if action == "suspend" else "enabled"
        app.display(f"{code} {past}; users {verb}: {users}.", style="green")
        if action == "resume" and result.users_kept_disabled:
            kept = ", ".join(result.users_kept_disabled)
            app.display(f"  kept disabled (the spec says so, or not in it): {kept}", style="dim")
    return int(ExitCode.OK)


@tenant.command()
@click.argument("code")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@wait_option
@site_option
@click.pass_obj
def suspend(app: App, code: str, reason: str, wait_s: float, site_path: Path) -> int:
    """Disable the agency's project and users (reversible; apply keeps them disabled)."""
    return _lifecycle(app, "suspend", code, reason, wait_s, site_path)


@tenant.command()
@click.argument("code")
@click.option("--reason", default="", help="Why (recorded in the audit log).")
@wait_option
@site_option
@click.pass_obj
def resume(app: App, code: str, reason: str, wait_s: float, site_path: Path) -> int:
    """Lift a suspension: users the spec enables, then the project, are enabled again."""
    return _lifecycle(app, "resume", code, reason, wait_s, site_path)


@tenant.command()
@click.argument("code")
@click.option("--dry-run", is_flag=True, help="List what would be backed up, kept and deleted.")
@click.option(
    "--purge",
    is_flag=True,
    help="Also delete what holds data (servers, volumes, snapshots, images), after taking "
    "final backups of the volumes, which are kept.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for the agency code to confirm.")
@wait_option
@click.option(
    "--lock-lease",
    "lease_s",
    default=60.0,
    type=click.FloatRange(2, 3600),
    show_default=True,
    help="Seconds the lock outlives a dcctl that died (renewed while alive).",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=1800.0,
    type=click.FloatRange(1),
    show_default=True,
    help="Longest wait for one asynchronous step (a backup, servers going away).",
)
@site_option
@click.pass_obj
def delete(
    app: App,
    code: str,
    dry_run: bool,
    purge: bool,
    yes: bool,
    wait_s: float,
    lease_s: float,
    timeout_s: float,
    site_path: Path,
) -> int:
    """Decommission a SUSPENDED agency: final backups of its volumes (kept), then delete
    everything it has, its users and its project. Re-running finishes an interrupted delete."""
    from dcctl.tenant.decommission import Decommission, DeleteOptions
    from dcctl.tenant.render_lifecycle import preview_lines, result_lines
    from dcctl.tenant.waiting import Waiting

    decommission = Decommission(make_session(app, load_site(site_path)))
    preview = decommission.preview(code)
    if dry_run:
        if app.json_output:
            app.emit_json({"dry_run": True, **preview.as_dict(purge=purge)})
        else:
            render_lines(app, preview_lines(preview, purge=purge))
        return int(ExitCode.OK)
    if not app.json_output:
        render_lines(app, preview_lines(preview, purge=purge))
    if preview.nothing_left and preview.open_record is None:
        if app.json_output:
            app.emit_json(preview.as_dict(purge=purge))
        return int(ExitCode.OK)
    refusal = preview.refusal(purge=purge)
    if refusal is not None:
        raise refusal
    confirm_code(app, code, assume_yes=yes)
    result = decommission.execute(
        code,
        DeleteOptions(
            purge=purge,
            wait_lock_s=wait_s,
            lease_s=lease_s,
            waiting=Waiting(timeout_s=timeout_s),
        ),
    )
    if app.json_output:
        app.emit_json(result.as_dict())
    else:
        render_lines(app, result_lines(result))
    return int(ExitCode.OK)


def confirm_code(app: App, code: str, *, assume_yes: bool) -> None:
    """Deleting a tenant is confirmed by typing its code (or --yes)."""
    import sys

    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise Aborted(
            "confirmation needed but stdin is not a terminal; nothing was deleted",
            hint="re-run with --yes once you have read what will be deleted (--dry-run shows it)",
        )
    typed = app.prompt(f"This deletes agency {code} for good. Type its code to confirm")
    if typed.strip() != code:
        raise Aborted("the code typed does not match; nothing was deleted")


@tenant.command()
@site_option
@click.pass_obj
def orphans(app: App, site_path: Path) -> int:
    """Find resources whose project is gone and agency users/groups without a project
    (exit 2 = findings). Backups kept by decommission records are not findings."""
    from dcctl.tenant.orphans import scan
    from dcctl.tenant.records import RecordStore, kept_backup_ids
    from dcctl.tenant.render_lifecycle import orphan_lines

    session = make_session(app, load_site(site_path))
    report = scan(session, kept_backup_ids(RecordStore(), session.audit_log))
    if app.json_output:
        app.emit_json(report.as_dict())
    else:
        render_lines(app, orphan_lines(report))
    return int(ExitCode.CHANGES if report.findings else ExitCode.OK)
