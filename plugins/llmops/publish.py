"""Publishing a partition: the staged write swapped in atomically, the replaced one retired.

A writer stages a partition under ``<table>/_staging/`` (llmops.lake.staging_uri), then
:func:`publish_partition` swaps it in. On a local file system the swap is one
``renameat2(RENAME_EXCHANGE)`` system call, so a reader sees the old partition or the new one,
never a mix and never a gap; a job killed before the swap leaves the old partition untouched.
Object stores have no atomic directory rename: there the staged files are copied into the partition, then the
replaced files deleted (:func:`_replace_objects`), so a reader listing it mid-publish can see both versions' files;
Spark jobs publish there through Hadoop (spark_jobs.session.publish). Production tables on an object store should
move to a table format (Delta/Iceberg).
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import time
from pathlib import Path

import pyarrow.fs as pafs

from llmops.lake import is_local, local_path
from llmops.lakefs import filesystem

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
    """Replace the partition at ``target`` with the directory at ``staging``: atomically on a local lake; on an
    object store (``staging`` local or there) file by file, the old files deleted last."""
    if not is_local(target):
        _replace_objects(staging, target)
        return
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


def _replace_objects(staging: str, target: str) -> None:
    """Copy every staged file into ``target``, then delete the target's files the new version does not have,
    then the staging folder (when it is on the store; a local one is its writer's to remove)."""
    src_fs, src = filesystem(staging)
    dst_fs, dst = filesystem(target)
    staged = _files(src_fs, src)
    if not staged:
        raise FileNotFoundError(f"nothing staged at {staging}: refusing to publish an empty {target}")
    old = set(_files(dst_fs, dst))
    new = set()
    for path in staged:
        into = dst + path[len(src) :]
        pafs.copy_files(path, into, source_filesystem=src_fs, destination_filesystem=dst_fs)
        new.add(into)
    for path in sorted(old - new):
        dst_fs.delete_file(path)
    if not is_local(staging):
        src_fs.delete_dir(src)


def _files(fs: pafs.FileSystem, folder: str) -> list[str]:
    selector = pafs.FileSelector(folder, allow_not_found=True, recursive=True)
    return [e.path for e in fs.get_file_info(selector) if e.type == pafs.FileType.File]
