"""The one application object every command receives through ``ctx.obj``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import click

from dcctl.errors import Aborted, DcctlError, ExitCode

if TYPE_CHECKING:
    from openstack.connection import Connection
    from rich.console import Console


@dataclass
class App:
    cloud: str | None = None
    output: str = "text"
    verbose: int = 0
    debug: bool = False
    _connection: Connection | None = field(default=None, repr=False)
    _console: Console | None = field(default=None, repr=False)
    _err_console: Console | None = field(default=None, repr=False)

    # -- cloud -------------------------------------------------------------------------------
    def connection(self, *, cloud: str | None = None) -> Connection:
        """Open the selected cloud once per command (lazily: --help never loads openstacksdk)."""
        if self._connection is None:
            from dcctl.cloud.connection import connect

            self._connection = connect(cloud or self.cloud)
        return self._connection

    # -- rendering ---------------------------------------------------------------------------
    @property
    def json_output(self) -> bool:
        return self.output == "json"

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=True)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            from rich.console import Console

            self._err_console = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._err_console

    def display(self, text: str = "", *, style: str | None = None) -> None:
        self.console.print(text, style=style, markup=False)

    def display_markup(self, text: str) -> None:
        self.console.print(text)

    def info(self, text: str) -> None:
        """Status chatter goes to stderr so that stdout stays parseable."""
        self.err_console.print(text, markup=False, style="dim")

    def warn(self, text: str) -> None:
        self.err_console.print(f"warning: {text}", markup=False, style="yellow")

    def emit_json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        styles: Sequence[str | None] | None = None,
    ) -> None:
        from rich.table import Table

        table = Table(title=title, box=None, header_style="bold", pad_edge=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for index, row in enumerate(rows):
            style = styles[index] if styles else None
            table.add_row(*("" if cell is None else str(cell) for cell in row), style=style)
        self.console.print(table)

    def confirm(self, question: str, *, assume_yes: bool) -> None:
        if assume_yes:
            return
        if not sys.stdin.isatty():
            raise Aborted(
                "confirmation needed but stdin is not a terminal",
                hint="re-run with --yes once you have read the plan",
            )
        if not click.confirm(question, default=False, err=True):
            raise Aborted("nothing was changed")

    def prompt(self, question: str) -> str:
        return str(click.prompt(question, err=True))

    def reporter(self) -> StderrReporter:
        return StderrReporter(self)

    def abort(
        self, message: str, *, code: ExitCode = ExitCode.ERROR, hint: str | None = None
    ) -> NoReturn:
        error = DcctlError(message, hint=hint)
        error.exit_code = code
        raise error


class StderrReporter:
    """Draws domain progress events on stderr, one line per event."""

    _STYLES: ClassVar[dict[str, str]] = {
        "ok": "green",
        "ready": "green",
        "running": "green",
        "done": "green",
        "created": "green",
        "updated": "yellow",
        "deleted": "red",
        "failed": "bold red",
        "waiting": "dim",
        "starting": "dim",
        "skipped": "dim",
    }

    def __init__(self, app: App) -> None:
        self._app = app

    def step(self, subject: str, status: str, detail: str = "") -> None:
        if self._app.json_output and self._app.verbose == 0:
            return
        from rich.text import Text

        line = Text()
        line.append(f"{subject:<24} ", style="bold")
        line.append(status, style=self._STYLES.get(status, ""))
        if detail:
            line.append(f"  {detail}", style="dim")
        self._app.err_console.print(line)

    def warn(self, message: str) -> None:
        self._app.warn(message)
