"""A file-backed cinder volume driver for the dcctl sandbox.

Each volume is a sparse file ``<state_path>/volumes/volume-<id>``; connections use os-brick's
``local`` connector with ``device_path``, so cinder-backup (and anyone attaching) reads and writes
the real bytes. There is no LVM here (no device-mapper in this kernel) and no sudo, so:

- copies (snapshots, clones, reverts) are sparse-aware: only data extents are read, and chunks
  of zeros are skipped, so a fresh 1 GiB volume snapshots in milliseconds;
- images are copied directly between glance and the file (``clone_image`` and
  ``copy_volume_to_image``), because cinder's generic path needs qemu-img and root helpers.
  Only ``raw`` images are handled directly; other formats fall back to cinder's generic path.
"""

import errno
import os

from oslo_config import cfg
from oslo_log import log as logging

from cinder import exception
from cinder.volume import driver

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

GIB = 1024 ** 3
CHUNK = 4 * 1024 * 1024
ZEROS = bytes(CHUNK)


def _data_extents(fd, end):
    """Yield (start, stop) of the data regions of an open file, using SEEK_DATA/SEEK_HOLE."""
    offset = 0
    while offset < end:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as error:
            if error.errno == errno.ENXIO:  # only a hole is left
                return
            raise
        stop = min(os.lseek(fd, start, os.SEEK_HOLE), end)
        yield start, stop
        offset = stop


def sparse_copy(src, dst, size):
    """Copy ``src`` into a new ``dst`` of ``size`` bytes, leaving holes where src has none or zeros."""
    with open(src, "rb") as source, open(dst, "wb") as target:
        target.truncate(size)
        end = min(os.fstat(source.fileno()).st_size, size)
        for start, stop in _data_extents(source.fileno(), end):
            source.seek(start)
            position = start
            while position < stop:
                chunk = source.read(min(CHUNK, stop - position))
                if not chunk:
                    break
                if chunk != ZEROS[: len(chunk)]:
                    target.seek(position)
                    target.write(chunk)
                position += len(chunk)


class FileVolumeDriver(driver.VolumeDriver):
    """Sparse files as volumes; see the module docstring."""

    VERSION = "1.0.0"
    CI_WIKI_NAME = "dcctl-sandbox"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._root = None

    # -- setup ---------------------------------------------------------------------------------
    def do_setup(self, context):
        self._root = os.path.join(CONF.state_path, "volumes")
        os.makedirs(self._root, exist_ok=True)

    def check_for_setup_error(self):
        if not self._root or not os.access(self._root, os.W_OK):
            raise exception.VolumeBackendAPIException(data=f"volume dir {self._root} not writable")

    # -- paths ---------------------------------------------------------------------------------
    def _volume_path(self, volume):
        return os.path.join(self._root, f"volume-{volume.id}")

    def _snapshot_path(self, snapshot):
        return os.path.join(self._root, f"snapshot-{snapshot.id}")

    @staticmethod
    def _remove(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            LOG.info("%s was already gone", path)

    def _ensure_size(self, volume):
        """Keep the file exactly volume.size GiB (a restore opens it with 'wb', truncating it)."""
        path = self._volume_path(volume)
        if os.path.exists(path) and os.path.getsize(path) != volume.size * GIB:
            os.truncate(path, volume.size * GIB)

    # -- volumes and snapshots -----------------------------------------------------------------
    def create_volume(self, volume):
        with open(self._volume_path(volume), "wb") as handle:
            handle.truncate(volume.size * GIB)
        return {}

    def delete_volume(self, volume):
        self._remove(self._volume_path(volume))

    def create_snapshot(self, snapshot):
        sparse_copy(
            self._volume_path(snapshot.volume),
            self._snapshot_path(snapshot),
            snapshot.volume_size * GIB,
        )
        return {}

    def delete_snapshot(self, snapshot):
        self._remove(self._snapshot_path(snapshot))

    def create_volume_from_snapshot(self, volume, snapshot):
        sparse_copy(self._snapshot_path(snapshot), self._volume_path(volume), volume.size * GIB)
        return {}

    def create_cloned_volume(self, volume, src_vref):
        sparse_copy(self._volume_path(src_vref), self._volume_path(volume), volume.size * GIB)
        return {}

    def revert_to_snapshot(self, context, volume, snapshot):
        sparse_copy(self._snapshot_path(snapshot), self._volume_path(volume), volume.size * GIB)

    def extend_volume(self, volume, new_size):
        os.truncate(self._volume_path(volume), new_size * GIB)

    # -- exports and connections ---------------------------------------------------------------
    def create_export(self, context, volume, connector):
        return None

    def ensure_export(self, context, volume):
        return None

    def remove_export(self, context, volume):
        return None

    def initialize_connection(self, volume, connector):
        return {
            "driver_volume_type": "local",
            "data": {"device_path": self._volume_path(volume), "volume_id": volume.id},
        }

    def terminate_connection(self, volume, connector, **kwargs):
        self._ensure_size(volume)

    # -- images ----------------------------------------------------------------------------------
    def _write_image(self, context, volume, image_service, image_id):
        path = self._volume_path(volume)
        limit = volume.size * GIB
        written = 0
        with open(path, "r+b") as target:
            for chunk in image_service.download(context, image_id):
                if written + len(chunk) > limit:
                    raise exception.ImageUnacceptable(
                        image_id=image_id, reason="image is larger than the volume"
                    )
                if chunk.strip(b"\0"):
                    target.seek(written)
                    target.write(chunk)
                written += len(chunk)
        LOG.info("copied %d bytes of image %s into volume %s", written, image_id, volume.id)

    def clone_image(self, context, volume, image_location, image_meta, image_service):
        if image_meta.get("disk_format") not in ("raw", None):
            return None, False
        if not os.path.exists(self._volume_path(volume)):
            self.create_volume(volume)
        self._write_image(context, volume, image_service, image_meta["id"])
        return {}, True

    def copy_image_to_volume(self, context, volume, image_service, image_id, disable_sparse=False):
        self._write_image(context, volume, image_service, image_id)

    def copy_volume_to_image(self, context, volume, image_service, image_meta):
        if image_meta.get("disk_format", "raw") != "raw":
            raise exception.ImageUnacceptable(
                image_id=image_meta["id"], reason="the sandbox uploads volumes as raw images only"
            )
        with open(self._volume_path(volume), "rb") as source:
            image_service.update(context, image_meta["id"], {}, source)

    # -- stats ---------------------------------------------------------------------------------
    def _update_volume_stats(self):
        backend = self.configuration.safe_get("volume_backend_name") or "file"
        self._stats = {
            "volume_backend_name": backend,
            "vendor_name": "dcctl",
            "driver_version": self.VERSION,
            "storage_protocol": "file",
            "total_capacity_gb": "infinite",
            "free_capacity_gb": "infinite",
            "reserved_percentage": 0,
            "thin_provisioning_support": True,
            "thick_provisioning_support": False,
            "multiattach": True,
            "QoS_support": False,
        }

    def get_volume_stats(self, refresh=False):
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats
