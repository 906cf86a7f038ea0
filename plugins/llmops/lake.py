"""Where every table lives in the lake: the path layout, and which partitions a table has.

Layout: ``<lake_root>/<layer>/<table>/ds=YYYY-MM-DD/part-*.parquet`` with layers ``bronze``,
``quarantine``, ``silver``, ``gold``, ``features`` and ``reports`` (gate verdicts and Data Docs).
A writer never writes into a live partition: it writes under :func:`staging_uri` (Spark and Parquet
readers skip paths that start with ``_``) and publishes (llmops.publish).
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from urllib.parse import urlparse

LAYERS = ("bronze", "quarantine", "silver", "gold", "features", "reports")


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


def shown(uri: str) -> str:
    """What to print for a lake location: a local one as its path (what a terminal user opens), others as is."""
    return str(local_path(uri)) if is_local(uri) else uri


def staging_uri(lake_root: str, layer: str, table: str, ds: str) -> str:
    """A fresh, unique staging location for one write of one partition."""
    return join(table_uri(lake_root, layer, table), "_staging", f"ds={check_ds(ds)}.{uuid.uuid4().hex[:12]}")
