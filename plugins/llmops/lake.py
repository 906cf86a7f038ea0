"""Where every table lives in the lake, and how a partition is published.

Layout: ``<lake_root>/<layer>/<table>/ds=YYYY-MM-DD/part-*.parquet`` with layers ``bronze``,
``quarantine``, ``silver``, ``gold``, ``features`` and ``reports`` (gate verdicts and Data Docs).

A writer never writes into a live partition. It writes a staging directory under
``<table>/_staging/`` (Spark and Parquet readers skip paths that start with ``_``), then
:func:`publish_partition` swaps it in. On a local file system the swap is one
``renameat2(RENAME_EXCHANGE)`` system call, so a reader sees the old partition or the new one,
never a mix and never a gap; a job killed before the swap leaves the old partition untouched.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import os
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

LAYERS = ("bronze", "quarantine", "silver", "gold", "features", "reports")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def check_ds(ds: str) -> str:
    """Validate a logical date string (YYYY-MM-DD) and return it."""
    try:
        dt.date.fromisoformat(ds)
    except (TypeError, ValueError):
        raise ValueError(f"ds must be a date in YYYY-MM-DD form, got {ds!r}") from None
    if len(ds) != 10:
        raise ValueError(f"ds must be a date in YYYY-MM-DD form, got {ds!r}")
    return ds


def join(uri: str, *parts: str) -> str:
    return "/".join([uri.rstrip("/"), *(p.strip("/") for p in parts)])


def table_uri(lake_root: str, layer: str, table: str) -> str:
    if layer not in LAYERS:
        raise ValueError(f"unknown lake layer {layer!r}; expected one of {LAYERS}")
    return join(lake_root, layer, table)


def partition_uri(lake_root: str, layer: str, table: str, ds: str) -> str:
    return join(table_uri(lake_root, layer, table), f"ds={check_ds(ds)}")


def raw_partition_uri(raw_root: str, source: str, ds: str) -> str:
    return join(raw_root, source, f"ds={check_ds(ds)}")


def is_local(uri: str) -> bool:
    return urlparse(uri).scheme in ("", "file")


def local_path(uri: str) -> Path:
    """The filesystem path of a ``file://`` URI (or a plain path)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        raise ValueError(f"{uri!r} is not a local file URI")
    return Path(parsed.path if parsed.scheme else uri)


def staging_uri(lake_root: str, layer: str, table: str, ds: str) -> str:
    """A fresh, unique staging location for one write of one partition."""
    return join(table_uri(lake_root, layer, table), "_staging", f"ds={check_ds(ds)}.{uuid.uuid4().hex[:12]}")


def _exchange(a: Path, b: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"renameat2(RENAME_EXCHANGE) failed: {os.strerror(err)}", str(a))


def publish_partition(staging: str, target: str) -> None:
    """Atomically replace the partition at ``target`` with the directory at ``staging``."""
    if not is_local(target):
        # Object stores have no atomic directory rename; production tables there should move to a
        # table format (Delta/Iceberg). Until then the Hadoop rename below is the best available.
        from spark_jobs.session import hadoop_replace  # noqa: PLC0415 - only Spark jobs publish remotely

        hadoop_replace(staging, target)
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


RETIRED_GRACE_S = 300


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


def list_partitions(table: str) -> list[str]:
    """The ``ds`` values present in a local table, sorted."""
    root = local_path(table)
    if not root.exists():
        return []
    return sorted(p.name[3:] for p in root.iterdir() if p.is_dir() and p.name.startswith("ds="))


def previous_partition(table: str, ds: str) -> str | None:
    """The newest ``ds`` strictly before ``ds`` in a table, or None."""
    earlier = [d for d in list_partitions(table) if d < check_ds(ds)]
    return earlier[-1] if earlier else None


def summary_uri(lake_root: str, step: str, ds: str) -> str:
    """Where a step's machine-readable summary for one date lives (linked from its task).

    ``ds`` is not validated: DAGs pass a Jinja template here.
    """
    return join(lake_root, "reports", step, f"ds={ds}", "summary.json")


def write_summary(lake_root: str, step: str, ds: str, summary: dict) -> str:
    """Write a step's summary JSON (local lakes) and return its URI."""
    import json  # noqa: PLC0415 - keep this module's import surface minimal

    uri = summary_uri(lake_root, step, check_ds(ds))
    path = local_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=str))
    return uri
