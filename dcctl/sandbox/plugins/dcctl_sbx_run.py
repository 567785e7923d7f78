"""Run an OpenStack service's console entry point, optionally after waiting for a gate.

Usage: python -m dcctl_sbx_run --prog NAME --entry MODULE:FUNC
           [--wait-url URL]... [--wait-file PATH]... [--wait-timeout S] [-- SERVICE ARGS...]

The entry module is imported first (the expensive part, overlapped with the other services'
start-up), then the runner waits until every --wait-url answers HTTP and every --wait-file
exists, and only then calls the entry point. nova-compute uses this to register in Placement at
its very first attempt: it waits for Placement and for the sandbox's service users to exist.
sys.argv is replaced by ``[NAME, SERVICE ARGS...]`` before the import, as the services expect.
"""

import argparse
import importlib
import os
import sys
import time
import urllib.error
import urllib.request


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def main():
    argv = sys.argv[1:]
    service_args = []
    if "--" in argv:
        index = argv.index("--")
        argv, service_args = argv[:index], argv[index + 1 :]
    parser = argparse.ArgumentParser(prog="dcctl_sbx_run")
    parser.add_argument("--prog", required=True)
    parser.add_argument("--entry", required=True, help="module:function")
    parser.add_argument("--wait-url", action="append", default=[])
    parser.add_argument("--wait-file", action="append", default=[])
    parser.add_argument("--wait-timeout", type=float, default=600)
    args = parser.parse_args(argv)

    sys.argv = [args.prog, *service_args]
    module_name, _, function = args.entry.partition(":")
    entry = getattr(importlib.import_module(module_name), function)

    if args.wait_url or args.wait_file:
        deadline = time.monotonic() + args.wait_timeout
        while True:
            missing = [url for url in args.wait_url if not _answers(url)]
            missing += [path for path in args.wait_file if not os.path.exists(path)]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{args.prog}: gave up waiting for {', '.join(missing)}")
            time.sleep(0.3)
    sys.exit(entry())


if __name__ == "__main__":
    main()
