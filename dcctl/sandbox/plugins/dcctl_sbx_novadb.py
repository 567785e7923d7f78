"""Create nova's schemas and cell mappings in one interpreter.

Usage: python -m dcctl_sbx_novadb NOVA_CONF

Equivalent to ``nova-manage api_db sync``, ``cell_v2 map_cell0``, ``cell_v2 create_cell --name
cell1`` (unless it exists) and ``db sync``, run through the same command classes nova-manage
uses. Four nova-manage runs cost four interpreter start-ups (seconds each on 2 cores), and this
chain is the critical path of a first ``dcctl sandbox up``. Each step is idempotent.
"""

import sys

CELL1 = "cell1"


def _check(label, result):
    if result not in (None, 0):
        raise SystemExit(f"{label} failed with status {result}")
    print(f"{label}: ok", flush=True)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sys.argv = ["nova-manage", "--config-file", sys.argv[1]]

    from oslo_log import log as logging

    from nova import config
    from nova import context
    from nova import objects
    from nova import rpc
    from nova.cmd import manage

    config.parse_args(sys.argv)
    logging.setup(manage.CONF, "nova")
    objects.register_all()

    _check("api_db sync", manage.ApiDbCommands().sync())
    cells = manage.CellV2Commands()
    _check("map_cell0", cells.map_cell0())
    existing = {cell.name for cell in objects.CellMappingList.get_all(context.get_admin_context())}
    if CELL1 in existing:
        print("create_cell: cell1 exists", flush=True)
    else:
        _check("create_cell", cells.create_cell(name=CELL1))
    _check("db sync", manage.DbCommands().sync())
    rpc.cleanup()


if __name__ == "__main__":
    main()
