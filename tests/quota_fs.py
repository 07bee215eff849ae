"""A local file system with a byte quota: a real "No space left on device" without root or a mount.

``quotafs:///abs/path`` is the local ``/abs/path``; writes go through ``QuotaFileSystem``, which
raises ``OSError(ENOSPC)`` once the files under ``QUOTAFS_ROOT`` would exceed ``QUOTAFS_BYTES``.
A file lands whole when it is closed (as an object store's PUT does), so a refused write leaves
nothing behind. Every process of a run (the driver and its Ray workers) finds the protocol through
fsspec's plugin entry point, written by ``plugin_dir`` into a folder put on ``PYTHONPATH``.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

from fsspec.implementations.local import LocalFileSystem


def used_bytes(root: str) -> int:
    """Bytes of the files under ``root``; a file renamed away while it is counted (another process's
    ``.quota-<pid>`` file landing) counts once, under its new name, or not at all."""
    total = 0
    for f in Path(root).rglob("*"):
        try:
            total += f.stat().st_size if f.is_file() else 0
        except FileNotFoundError:
            continue
    return total


class QuotaFileSystem(LocalFileSystem):
    protocol = "quotafs"

    def _open(self, path, mode="rb", **kwargs):
        if "r" in mode:
            return super()._open(path, mode, **kwargs)
        return QuotaWriter(self._strip_protocol(path))


class QuotaWriter(io.BytesIO):
    """Buffers a file and writes it on close if the quota allows; discarded when the writer raised."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.failed = False

    def __exit__(self, exc_type, *rest):
        self.failed = exc_type is not None
        return super().__exit__(exc_type, *rest)

    def close(self) -> None:
        if self.closed:
            return
        data = self.getvalue()
        super().close()
        if self.failed:
            return
        if used_bytes(os.environ["QUOTAFS_ROOT"]) + len(data) > int(os.environ["QUOTAFS_BYTES"]):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self.path)
        tmp = f"{self.path}.quota-{os.getpid()}"
        Path(tmp).write_bytes(data)
        os.replace(tmp, self.path)


def plugin_dir(folder: Path) -> Path:
    """A folder that, on ``PYTHONPATH`` next to this module's, registers ``quotafs`` with fsspec."""
    info = folder / "quota_fs_plugin-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: quota-fs-plugin\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[fsspec.specs]\nquotafs = quota_fs:QuotaFileSystem\n")
    return folder
