"""Publishing a partition: the staged write swapped in atomically, the replaced one retired.

A writer stages a partition under ``<table>/_staging/`` (llmops.lake.staging_uri), then
:func:`publish_partition` swaps it in. On a local file system the swap is one
``renameat2(RENAME_EXCHANGE)`` system call, so a reader sees the old partition or the new one,
never a mix and never a gap; a job killed before the swap leaves the old partition untouched.
Object stores have no atomic directory rename: Spark jobs publish there through Hadoop
(spark_jobs.session.publish); production tables there should move to a table format (Delta/Iceberg).
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import time
from pathlib import Path

from llmops.lake import is_local, local_path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
RETIRED_GRACE_S = 300


def _exchange(a: Path, b: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"renameat2(RENAME_EXCHANGE) failed: {os.strerror(err)}", str(a))


def publish_partition(staging: str, target: str) -> None:
    """Atomically replace the partition at ``target`` with the directory at ``staging``."""
    if not is_local(target):
        raise ValueError(f"{target!r} is not on a local file system: Spark jobs publish there (spark_jobs.session)")
    src, dst = local_path(staging), local_path(target)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if not dst.exists():
        os.rename(src, dst)
        return
    try:
        _exchange(src, dst)
    except OSError as exc:  # kernels or file systems without RENAME_EXCHANGE
        if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
        old = src.with_name(src.name + ".old")
        os.rename(dst, old)
        os.rename(src, dst)
        src = old
    _retire(src, dst.parent)


def _retire(old: Path, table_dir: Path) -> None:
    """Move a replaced partition to ``<table>/_retired/`` and delete those replaced over RETIRED_GRACE_S ago.

    Deleting it at once would let a reader that opened the old version just before the swap see its files
    vanish mid-read (an empty listing); a grace period lets such readers finish, as table formats' vacuum does.
    """
    graveyard = table_dir / "_retired"
    graveyard.mkdir(exist_ok=True)
    now = time.time()
    os.rename(old, graveyard / f"{int(now * 1000)}.{old.name}")
    for entry in graveyard.iterdir():
        stamp = entry.name.split(".", 1)[0]
        if stamp.isdigit() and now - int(stamp) / 1000 > RETIRED_GRACE_S:
            shutil.rmtree(entry, ignore_errors=True)
