"""``dcctl audit``: read and verify the hash-chained log of every change dcctl made."""

from __future__ import annotations

from pathlib import Path

import click

from dcctl.cli.app import App
from dcctl.errors import DataError


def _log_path(log: Path | None, site_path: Path) -> Path:
    if log is not None:
        return log
    from dcctl.cli.tenant import load_site

    return load_site(site_path).audit_log_path


@click.group()
def audit() -> None:
    """The audit log: every change, who made it, before and after."""


_log_option = click.option(
    "--log", type=click.Path(path_type=Path), help="Log file (default: the site's audit_log)."
)
_site_option = click.option(
    "--site", "site_path", default="inventory", type=click.Path(path_type=Path), show_default=True
)


@audit.command()
@_log_option
@_site_option
@click.pass_obj
def verify(app: App, log: Path | None, site_path: Path) -> None:
    """Walk the hash chain; exit 65 naming every edited, removed or reordered line."""
    from dcctl.audit import AuditLog

    result = AuditLog(_log_path(log, site_path)).verify()
    if app.json_output:
        app.emit_json(
            {
                "path": str(result.path),
                "ok": result.ok,
                "records": result.records,
                "head": result.head,
                "problems": [{"line": p.line, "reason": p.reason} for p in result.problems],
            }
        )
    else:
        for problem in result.problems:
            app.display(f"{result.path}:{problem.line}: {problem.reason}", style="red")
        if result.ok:
            app.display(
                f"{result.path}: {result.records} records, chain intact (head {result.head[:16]})",
                style="green",
            )
    if not result.ok:
        raise DataError(
            f"{result.path}: the audit chain is broken ({len(result.problems)} problem(s))",
            hint="restore the log from its backup copy and investigate who changed it",
        )


@audit.command()
@_log_option
@_site_option
@click.option("--agency", help="Only this agency's records.")
@click.option("--last", default=20, show_default=True, help="How many records to show.")
@click.pass_obj
def show(app: App, log: Path | None, site_path: Path, agency: str | None, last: int) -> None:
    """The most recent changes."""
    from dcctl.audit import AuditLog

    records = [
        record
        for record in AuditLog(_log_path(log, site_path)).records()
        if agency is None or record.get("agency") == agency
    ][-last:]
    if app.json_output:
        app.emit_json(records)
        return
    app.table(
        ["TIME", "OPERATOR", "AGENCY", "ACTION", "RESOURCE"],
        [
            (r["time"], r["operator"], r.get("agency") or "-", r["action"], r["resource"])
            for r in records
        ],
    )
