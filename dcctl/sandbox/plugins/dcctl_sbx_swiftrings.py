"""Build the three one-replica Swift rings of a sandbox in one interpreter.

Usage: python -m dcctl_sbx_swiftrings SWIFT_DIR DEVICE ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT

Same result as ``swift-ring-builder <x>.builder create 8 1 1; add r1z1-127.0.0.1:<port>/<dev>
100; rebalance`` for account, container and object (nine interpreter start-ups saved). Rings
that already exist are left alone.
"""

import os
import sys

from swift.common.ring import RingBuilder

PART_POWER = 8


def build(swift_dir, kind, device, port):
    ring_file = os.path.join(swift_dir, f"{kind}.ring.gz")
    if os.path.exists(ring_file):
        print(f"{kind}: exists")
        return
    builder = RingBuilder(PART_POWER, 1, 1)
    builder.add_dev(
        {"region": 1, "zone": 1, "ip": "127.0.0.1", "port": port, "device": device, "weight": 100}
    )
    builder.rebalance()
    builder.save(os.path.join(swift_dir, f"{kind}.builder"))
    builder.get_ring().save(ring_file)
    print(f"{kind}: built")


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    swift_dir, device = sys.argv[1], sys.argv[2]
    for kind, port in zip(("account", "container", "object"), sys.argv[3:6]):
        build(swift_dir, kind, device, int(port))


if __name__ == "__main__":
    main()
