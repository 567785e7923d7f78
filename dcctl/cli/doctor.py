"""``dcctl doctor``: is the selected cloud ready for dcctl?"""

from __future__ import annotations

import click

from dcctl.cli.app import App
from dcctl.errors import ExitCode

_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


@click.command()
@click.pass_obj
def doctor(app: App) -> int:
    """Check login, catalog, API versions, rights, TLS and services of --cloud."""
    from dcctl.doctor import run_doctor

    report = run_doctor(app.cloud)
    if app.json_output:
        app.emit_json(report.as_dict())
    else:
        app.display(f"cloud {report.cloud or '-'}  {report.auth_url}", style="bold")
        rows = [(c.name, c.status.value.upper(), c.detail) for c in report.checks]
        app.table(
            ["CHECK", "STATUS", "DETAIL"],
            rows,
            styles=[_STYLE[c.status.value] for c in report.checks],
        )
        for check in report.checks:
            if check.hint and check.status.value in ("warn", "fail"):
                app.display(f"  {check.name}: {check.hint}", style="dim")
        counts = report.counts()
        app.display(
            f"{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed"
            + (f", {counts['skip']} skipped" if counts["skip"] else "")
        )
    return int(ExitCode.OK if report.ok else ExitCode.ERROR)
