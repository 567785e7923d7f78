"""``dcctl spec``: the desired-state spec of agency tenants (inventory/<site>/)."""

from __future__ import annotations

from datetime import date, datetime

import click

from dcctl.cli.app import App


@click.group()
def spec() -> None:
    """Work with the agency tenant spec under inventory/<site>/."""


@spec.command()
@click.argument("path", default="inventory", type=click.Path(path_type=str))
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge waiver expiry as of this date (YYYY-MM-DD) instead of today.",
)
@click.pass_obj
def validate(app: App, path: str, as_of: datetime | None) -> None:
    """Check a spec offline: PATH is inventory/ (every site under it) or one site directory.

    Lists every problem as file:line: field: reason and exits 65 when there is any.
    """
    from dcctl.spec import SpecInvalid, check_inventory

    today: date | None = as_of.date() if as_of else None
    report = check_inventory(path, today=today)
    if app.json_output:
        app.emit_json(
            {
                "valid": report.valid,
                "sites": [
                    {"name": site.name, "path": str(site.path), "agencies": len(site.agencies)}
                    for site in report.sites
                ],
                "problems": [problem.as_dict() for problem in report.problems],
            }
        )
    else:
        for problem in report.problems:
            app.display(str(problem))
        for site in report.sites:
            app.display(f"{site.path}: valid ({len(site.agencies)} agencies)", style="green")
    if not report.valid:
        raise SpecInvalid(report.problems, where=path, shown=True)
