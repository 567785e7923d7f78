"""Root command: global options, lazy sub-command loading, and errors → exit codes in one place."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from dcctl import __version__
from dcctl.cli.app import App
from dcctl.errors import DcctlError, ExitCode

# name -> "module:attribute"; modules are imported only when their command runs, so that
# `dcctl --help` does not pay for openstacksdk or ansible.
COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("dcctl.cli.audit:audit", "Show and verify the hash-chained audit log."),
    "doctor": ("dcctl.cli.doctor:doctor", "Check that a cloud is reachable, complete and safe."),
    "sandbox": ("dcctl.cli.sandbox:sandbox", "Run a real single-node OpenStack on this machine."),
    "spec": ("dcctl.cli.spec:spec", "Validate the desired-state spec of agency tenants."),
    "tenant": ("dcctl.cli.tenant:tenant", "Plan, apply, suspend and decommission agency tenants."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attribute = COMMANDS[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module_name}.{attribute} is not a click command")
            _add_output_option(command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from the table above, so listing commands imports nothing.
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    app = ctx.find_object(App)
    if value is not None and app is not None:
        app.output = value


def _add_output_option(command: click.Command) -> None:
    """Accept ``--output/-o`` after the sub-command too (``dcctl tenant plan -o json``)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_output_option(sub)
        return
    if any("--output" in getattr(param, "opts", ()) for param in command.params):
        return
    command.params.append(
        click.Option(
            ["--output", "-o"],
            type=click.Choice(["text", "json"]),
            default=None,
            expose_value=False,
            is_eager=True,
            callback=_set_output,
            help="Output format (same as the global option).",
        )
    )


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dcctl")
@click.option(
    "--cloud",
    envvar="OS_CLOUD",
    show_envvar=True,
    help="Cloud name from clouds.yaml (or the sandbox's own clouds file).",
)
@click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format for results.",
)
@click.option("-v", "--verbose", count=True, help="More detail; -vv also logs API requests.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, cloud: str | None, output: str, verbose: int, debug: bool) -> None:
    """dcctl — provision and audit the provincial OpenStack cloud data center."""
    ctx.obj = App(cloud=cloud, output=output, verbose=verbose, debug=debug)
    _configure_logging(verbose, debug)


def _configure_logging(verbose: int, debug: bool) -> None:
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2 or debug:
        level = logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from dcctl.redact import install

    install()
    if verbose < 2:
        # openstacksdk/keystoneauth request logs are useful only on request.
        for noisy in ("keystoneauth", "openstack", "urllib3", "stevedore"):
            logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the only place that turns errors into exit codes."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        result: Any = cli.main(args=argv, prog_name="dcctl", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return int(exit_.exit_code)
    except click.UsageError as error:
        error.show()
        return int(ExitCode.USAGE)
    except click.Abort:
        click.echo("aborted", err=True)
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except DcctlError as error:
        if debug:
            import traceback

            traceback.print_exc()
        _show_error(error)
        return int(error.exit_code)
    except click.ClickException as error:
        error.show()
        return int(ExitCode.ERROR)
    except Exception as error:
        translated = _cloud_error(error)
        if translated is None:
            raise
        if debug:
            import traceback

            traceback.print_exc()
        _show_error(translated)
        return int(translated.exit_code)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def _cloud_error(error: Exception) -> DcctlError | None:
    """An openstacksdk/keystoneauth exception that escaped the domain, as a dcctl error."""
    module = type(error).__module__
    if not module.startswith(("openstack", "keystoneauth1", "requests", "urllib3")):
        return None
    from dcctl.cloud.errors import translate

    return translate(error)


def _show_error(error: DcctlError) -> None:
    click.secho(f"error: {error.message}", err=True, fg="red")
    for line in error.details:
        click.echo(f"  {line}", err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)
