"""``dcctl sandbox``: a real single-node OpenStack on this machine (thin shell over the domain)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from dcctl.cli.app import App
from dcctl.errors import Aborted, ExitCode

F = TypeVar("F", bound=Callable[..., Any])

MIB = 1024 * 1024


def name_option(func: F) -> F:
    return click.option(
        "--name",
        default="sandbox",
        show_default=True,
        envvar="DCCTL_SANDBOX",
        show_envvar=True,
        help="Which sandbox (two can run side by side on different port bases).",
    )(func)


def output_option(func: F) -> F:
    """``--output`` after the sub-command too (same as the global option)."""

    def set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            ctx.ensure_object(App).output = value

    return click.option(
        "--output",
        "-o",
        type=click.Choice(["text", "json"]),
        default=None,
        expose_value=False,
        callback=set_output,
        help="Output format (overrides the global --output).",
    )(func)


def _sandbox(app: App, name: str) -> Any:
    from dcctl.sandbox.lifecycle import Sandbox

    return Sandbox(name, reporter=app.reporter())


@click.group()
def sandbox() -> None:
    """Run a real single-node OpenStack (Keystone, Glance, Placement, Nova, Neutron, Cinder).

    Services run as background processes on 127.0.0.1 and use the local MariaDB and RabbitMQ.
    The cloud is written to its own clouds.yaml; 'dcctl sandbox env' prints the variables the
    openstack CLI needs.
    """


@sandbox.command()
@name_option
@click.option("--port-base", type=int, help="First port of the sandbox (default 15000; kept).")
@click.option(
    "--with-swift/--without-swift",
    default=None,
    help="Also run Swift object storage (about +235 MiB RSS; the choice is kept).",
)
@click.option(
    "--debug-logs/--no-debug-logs",
    default=None,
    help="Run every service with debug logging (the choice is kept).",
)
@click.option(
    "--api-workers",
    type=click.IntRange(1, 8),
    default=None,
    help="Processes of neutron and nova-api (default 1, ~170 MiB each; the choice is kept).",
)
@click.option(
    "--with-deps",
    is_flag=True,
    help="As root: install MariaDB/RabbitMQ from apt and start them if they are missing.",
)
@click.option(
    "--fast-db",
    is_flag=True,
    help="SET GLOBAL innodb_flush_log_at_trx_commit=0 on the shared MariaDB (faster, less "
    "durable for every database on it, until MariaDB restarts).",
)
@click.option("--timeout", type=float, default=300, show_default=True, help="Seconds to wait.")
@output_option
@click.pass_obj
def up(
    app: App,
    name: str,
    port_base: int | None,
    with_swift: bool | None,
    debug_logs: bool | None,
    api_workers: int | None,
    with_deps: bool,
    fast_db: bool,
    timeout: float,
) -> None:
    """Start the sandbox (install, provision, migrate and bootstrap as needed); idempotent."""
    result = _sandbox(app, name).up(
        port_base=port_base,
        with_swift=with_swift,
        debug_logs=debug_logs,
        api_workers=api_workers,
        with_deps=with_deps,
        fast_db=fast_db,
        timeout=timeout,
    )
    if app.json_output:
        app.emit_json(
            {
                "name": result.name,
                "cloud": result.cloud,
                "clouds_file": str(result.clouds_file),
                "already_running": result.already_running,
                "elapsed_seconds": round(result.elapsed, 1),
                "migrated": result.migrated,
            }
        )
        return
    if result.already_running:
        app.display(f"sandbox '{name}' is already running")
    else:
        app.display(f"sandbox '{name}' is up ({result.elapsed:.1f} s)")
    suffix = "" if name == "sandbox" else f" --name {name}"
    app.info(f'use it with: eval "$(dcctl sandbox env{suffix})"; openstack server list')


@sandbox.command()
@name_option
@output_option
@click.pass_obj
def down(app: App, name: str) -> None:
    """Stop the processes this sandbox started (by pid and start time, never by name)."""
    result = _sandbox(app, name).down()
    if app.json_output:
        app.emit_json(
            {
                "name": result.name,
                "stopped": [
                    {"service": item.service, "pid": item.pid, "outcome": item.outcome}
                    for item in result.outcomes
                ],
                "orphans_killed": result.strays_killed,
            }
        )
        return
    if not result.outcomes:
        app.display(f"sandbox '{name}' was not running")
    else:
        app.display(f"sandbox '{name}' is down")


@sandbox.command()
@name_option
@output_option
@click.pass_obj
def status(app: App, name: str) -> int:
    """Show each service, its pid, port and state. Exit 0 if all are up, 69 if not."""
    from dcctl.sandbox.lifecycle import Sandbox

    state = Sandbox(name).status()
    if app.json_output:
        app.emit_json(state.to_json())
    elif not state.exists:
        app.display(f"sandbox '{name}' does not exist (dcctl sandbox up{_name_arg(name)})")
    else:
        styles = {"up": "green", "down": "red", "stale": "red", "starting": "yellow"}
        app.table(
            ["SERVICE", "STATE", "PID", "PORT", "RSS MiB"],
            [
                (
                    item.name,
                    item.state,
                    item.pid,
                    item.port,
                    round(item.rss_bytes / MIB) if item.rss_bytes else None,
                )
                for item in state.services
            ],
            title=f"sandbox '{name}' (ports {state.port_base}+, {state.state_dir})",
            styles=[styles.get(item.state) for item in state.services],
        )
        total = round(state.rss_bytes / MIB)
        app.info(f"{'running' if state.running else 'not running'}; total RSS {total} MiB")
    return int(ExitCode.OK if state.running else ExitCode.UNAVAILABLE)


@sandbox.command()
@name_option
@output_option
@click.pass_obj
def env(app: App, name: str) -> None:
    """Print the exports for the openstack CLI: eval "$(dcctl sandbox env)"."""
    from dcctl.sandbox.clouds import export_lines
    from dcctl.sandbox.lifecycle import Sandbox

    variables = Sandbox(name).env()
    if app.json_output:
        app.emit_json(variables)
        return
    for line in export_lines(variables):
        app.display(line)


@sandbox.command()
@name_option
@click.argument("service", required=False)
@click.option("-n", "--lines", type=int, default=50, show_default=True, help="Lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
@click.pass_obj
def logs(app: App, name: str, service: str | None, lines: int, follow: bool) -> None:
    """Show the end of SERVICE's log; without SERVICE, list the log files."""
    from dcctl.sandbox import services
    from dcctl.sandbox.lifecycle import Sandbox, follow_log
    from dcctl.sandbox.startup import tail

    box = Sandbox(name)
    if service is None:
        app.table(
            ["SERVICE", "LOG"],
            [(item, box.paths.log(item)) for item in services.names()],
        )
        return
    path = box.log_path(service)
    app.display(tail(path, lines))
    if follow:
        for line in follow_log(path):
            app.display(line)


@sandbox.command()
@name_option
@click.option(
    "--yes-wipe",
    is_flag=True,
    help="Do not ask: delete the sandbox's databases, RabbitMQ vhost and all its local state.",
)
@click.pass_obj
def reset(app: App, name: str, yes_wipe: bool) -> None:
    """Stop the sandbox and wipe its databases AND local state together (a fresh start)."""
    if not yes_wipe and not sys.stdin.isatty():
        raise Aborted(
            "reset deletes data and needs a confirmation, but stdin is not a terminal",
            hint="re-run with --yes-wipe",
        )
    app.confirm(
        f"Delete sandbox '{name}': its databases, RabbitMQ vhost and local state?",
        assume_yes=yes_wipe,
    )
    result = _sandbox(app, name).reset()
    dropped = len(result.databases_dropped)
    app.display(f"sandbox '{name}' wiped ({dropped} databases dropped)")


def _name_arg(name: str) -> str:
    return "" if name == "sandbox" else f" --name {name}"
