"""Serve one OpenStack API's WSGI application with waitress.

Usage: python -m dcctl_sbx_wsgi --prog NAME --app MODULE:ATTR --port PORT [--processes N]
       [--config-file F]...

The runner's own arguments are removed from sys.argv *before* the application module is
imported: neutron and cinder parse sys.argv with oslo.config at import time. sys.argv is replaced
by ``[NAME, --config-file F, ...]`` so every service reads exactly the sandbox's config files.

With ``--processes N`` (N > 1) the runner binds the port, then forks N workers that each import
the application and serve the shared socket (waitress threads inside each): one Python process
per API holds the GIL, so a busy neutron or nova-api uses one core at most otherwise. Workers
import after the fork, as uwsgi's ``lazy-apps`` does for OpenStack: nothing of the application
(threads, connection pools) crosses a fork. The parent forwards SIGTERM/SIGINT and exits when
its workers have; if one worker dies, it stops the others so that the lifecycle sees the
service down instead of half of it.
"""

import argparse
import importlib
import logging
import os
import signal
import socket
import sys


def main():
    parser = argparse.ArgumentParser(prog="dcctl_sbx_wsgi")
    parser.add_argument("--prog", required=True)
    parser.add_argument("--app", required=True, help="module:attribute of the WSGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--config-file", action="append", default=[])
    args = parser.parse_args()

    argv = [args.prog]
    for path in args.config_file:
        argv += ["--config-file", path]
    sys.argv = argv

    if args.processes <= 1:
        serve(args, sockets=None)
        return
    listener = socket.create_server((args.host, args.port), backlog=1024)
    workers = []
    for _ in range(args.processes):
        pid = os.fork()
        if pid == 0:
            try:
                serve(args, sockets=[listener])
            finally:
                os._exit(0)
        workers.append(pid)
    supervise(workers)


def serve(args, sockets):
    module_name, _, attribute = args.app.partition(":")
    module = importlib.import_module(module_name)
    application = getattr(module, attribute or "application")
    if application is None:
        raise SystemExit(f"{args.app} is None after import")

    import waitress

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    where = {"sockets": sockets} if sockets else {"host": args.host, "port": args.port}
    waitress.serve(
        application,
        threads=args.threads,
        ident=args.prog,
        # Images and volume uploads pass through glance: allow bodies larger than waitress's 1 GiB.
        max_request_body_size=1 << 40,
        channel_timeout=300,
        clear_untrusted_proxy_headers=True,
        **where,
    )


def supervise(workers):
    stopping = []

    def forward(signum, _frame):
        stopping.append(signum)
        for pid in workers:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    status = 0
    while workers:
        try:
            pid, code = os.wait()
        except ChildProcessError:
            break
        if pid in workers:
            workers.remove(pid)
            if workers and not stopping:  # one died on its own: take the service down whole
                status = os.waitstatus_to_exitcode(code) or 1
                forward(signal.SIGTERM, None)
    sys.exit(status)


if __name__ == "__main__":
    main()
