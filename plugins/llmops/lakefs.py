"""The lake's storage for every step outside Spark: one lake URI, one ``pyarrow.fs`` file system.

``file://`` maps to the local file system; ``s3a://`` and ``s3://`` to an S3 client configured by
``object_store`` settings (an S3-compatible endpoint such as MinIO or Ceph; credentials come from the
AWS environment variables or the pod's role, never from settings); other schemes go to pyarrow's own
URI resolution. Spark reads and writes the lake through Hadoop (s3a) instead.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from llmops.config import ObjectStoreSettings, settings
from llmops.lake import check_ds, is_local, local_path

S3_SCHEMES = ("s3", "s3a")


@functools.cache
def _s3(store: ObjectStoreSettings) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(
        region=store.region,
        endpoint_override=store.endpoint_url or None,
        connect_timeout=store.connect_timeout_s,
        request_timeout=store.request_timeout_s,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=store.max_attempts),
    )


def filesystem(uri: str | os.PathLike) -> tuple[pafs.FileSystem, str]:
    """The file system holding ``uri`` (a lake URI or a local path) and the path within it (``bucket/key`` on S3)."""
    uri = os.fspath(uri)
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return pafs.LocalFileSystem(), os.path.abspath(parsed.path if parsed.scheme else uri)
    if parsed.scheme in S3_SCHEMES:
        return _s3(settings().object_store), f"{parsed.netloc}{parsed.path}".rstrip("/")
    return pafs.FileSystem.from_uri(uri)


def _info(uri: str) -> pafs.FileInfo:
    fs, path = filesystem(uri)
    return fs.get_file_info(path)


def exists(uri: str) -> bool:
    return _info(uri).type != pafs.FileType.NotFound


def is_file(uri: str) -> bool:
    return _info(uri).type == pafs.FileType.File


def read_bytes(uri: str) -> bytes:
    fs, path = filesystem(uri)
    with fs.open_input_stream(path) as stream:
        return stream.read()


def read_text(uri: str) -> str:
    return read_bytes(uri).decode("utf-8")


def read_json(uri: str) -> dict | None:
    """A JSON document, or None when there is no file there (any other failure raises)."""
    return json.loads(read_text(uri)) if is_file(uri) else None


def write_bytes(uri: str, data: bytes) -> None:
    """Write a whole file so readers see the old content or the new, never a part: one upload on an object store;
    locally a ``_tmp-`` name (which Parquet readers skip), synced, then renamed into place."""
    fs, path = filesystem(uri)
    if isinstance(fs, pafs.LocalFileSystem):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"_tmp-{uuid.uuid4().hex[:8]}-{target.name}")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        return
    with fs.open_output_stream(path) as stream:
        stream.write(data)


def write_text(uri: str, text: str) -> None:
    write_bytes(uri, text.encode("utf-8"))


def subdirs(uri: str, prefix: str = "") -> list[str]:
    """Names of the folders directly under ``uri`` that start with ``prefix``, sorted ([] when it is absent)."""
    fs, path = filesystem(uri)
    entries = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
    return sorted(e.base_name for e in entries if e.type == pafs.FileType.Directory and e.base_name.startswith(prefix))


def list_partitions(table: str) -> list[str]:
    """The ``ds`` values present in a table, sorted."""
    return [name[3:] for name in subdirs(table, "ds=")]


def previous_partition(table: str, ds: str) -> str | None:
    """The newest ``ds`` strictly before ``ds`` in a table, or None."""
    earlier = [d for d in list_partitions(table) if d < check_ds(ds)]
    return earlier[-1] if earlier else None


def files(uri: str, suffix: str = "") -> list[str]:
    """Paths relative to ``uri`` of the files under it, recursively, sorted; Parquet readers' rule applies:
    names starting with ``_`` or ``.`` (staging, temporaries) are skipped."""
    fs, path = filesystem(uri)
    entries = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True, recursive=True))
    relative = [e.path[len(path) :].lstrip("/") for e in entries if e.type == pafs.FileType.File]
    return sorted(r for r in relative if r.endswith(suffix) and not any(p.startswith(("_", ".")) for p in r.split("/")))


def write_parquet(table: pa.Table, uri: str) -> None:
    """One Parquet file, written whole (:func:`write_bytes`)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_bytes(uri, sink.getvalue().to_pybytes())


def read_parquet(uri: str, columns: list[str] | None = None) -> pa.Table:
    """A Parquet file or folder (a partition) as one table."""
    fs, path = filesystem(uri)
    return pq.read_table(path, columns=columns, filesystem=fs)


@contextlib.contextmanager
def build_folder(target: str, scratch_dir: str | None = None, *, stage_local: bool = False) -> Iterator[Path]:
    """The local folder a step builds ``target``'s files in, for the block: on a lake that is not local a fresh
    folder under ``<scratch>/lake-staging/`` (the step uploads it with ``publish_partition``), removed when the
    block ends, whatever happens. On a local lake the target folder itself, or with ``stage_local`` a fresh
    ``_staging/`` folder beside it (published by one rename; what is left of it is removed)."""
    if not is_local(target):
        folder = Path(scratch_dir or settings().paths.scratch_dir) / "lake-staging" / uuid.uuid4().hex[:12]
    elif stage_local:
        final = local_path(target)
        folder = final.parent / "_staging" / f"{final.name}.{uuid.uuid4().hex[:12]}"
    else:
        yield local_path(target)
        return
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
