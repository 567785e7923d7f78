"""Serve one OpenStack API's WSGI application with waitress.

Usage: python -m dcctl_sbx_wsgi --prog NAME --app MODULE:ATTR --port PORT [--config-file F]...

The runner's own arguments are removed from sys.argv *before* the application module is
imported: neutron and cinder parse sys.argv with oslo.config at import time. sys.argv is replaced
by ``[NAME, --config-file F, ...]`` so every service reads exactly the sandbox's config files.
"""

import argparse
import importlib
import logging
import sys


def main():
    parser = argparse.ArgumentParser(prog="dcctl_sbx_wsgi")
    parser.add_argument("--prog", required=True)
    parser.add_argument("--app", required=True, help="module:attribute of the WSGI app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--config-file", action="append", default=[])
    args = parser.parse_args()

    argv = [args.prog]
    for path in args.config_file:
        argv += ["--config-file", path]
    sys.argv = argv

    module_name, _, attribute = args.app.partition(":")
    module = importlib.import_module(module_name)
    application = getattr(module, attribute or "application")
    if application is None:
        raise SystemExit(f"{args.app} is None after import")

    import waitress

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(
        application,
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident=args.prog,
        # Images and volume uploads pass through glance: allow bodies larger than waitress's 1 GiB.
        max_request_body_size=1 << 40,
        channel_timeout=300,
        clear_untrusted_proxy_headers=True,
    )


if __name__ == "__main__":
    main()
