"""``dcctl tenant``: onboard, converge, suspend and decommission agency tenants."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dcctl.cli.app import App
from dcctl.errors import DataError, ExitCode, UsageError

if TYPE_CHECKING:
    from dcctl.spec.inventory import Site
    from dcctl.tenant.engine import ApplyReport, TenantEngine
    from dcctl.tenant.planner import SitePlan

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
    else:
        shown = engine.plan(engine.select(targets, all_agencies=all_agencies))
    if not app.json_output:
        render_plan(app, shown)
    if shown.problems:
        if app.json_output:
            app.emit_json(shown.as_dict())
        raise DataError("the plan has problems; nothing was applied", hint="fix them and re-run")
    if not shown.has_changes:
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
            "its user, then delete the file. Users must change them at first login."
        )
        if show_passwords:
            for line in path.read_text().splitlines():
                if line and not line.startswith("#"):
                    app.display(f"  {line}")
    if not report.ok:
        app.display("Some changes failed; re-run the same command to converge.", style="red")
