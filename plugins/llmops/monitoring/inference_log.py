"""The inference log: every answered generation request at the gateway, in the lake as Parquet.

Layout: ``<lake>/inference/requests/ds=YYYY-MM-DD/hour=HH/part-<uuid>.parquet`` (hive partitions, so Spark
and ``pyarrow.dataset`` read ``ds``/``hour`` as columns). The gateway hands each
:class:`~llmops.serving.gateway.RequestRecord` to :meth:`InferenceLog.__call__` on its event loop: that only
appends to a buffer. A writer thread flushes the buffer every ``flush_interval_s`` (or at ``max_batch``
records): prompts, answers and errors are masked with the project's personal-data masking
(:func:`llmops.masking.pii.mask_pii`, the clean job's) before anything is written, each file is written whole
(llmops.lakefs.write_parquet: on a local lake under a ``_``-prefixed temporary name, which Parquet readers skip,
then renamed into place; one upload on an object store), so a crash loses at most the open batch and never
leaves a half-written part.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads

from llmops import lake, lakefs
from llmops.masking.pii import mask_pii

log = logging.getLogger(__name__)

TABLE = ("inference", "requests")
SCHEMA = pa.schema([
    ("timestamp", pa.timestamp("ms", tz="UTC")),
    ("endpoint", pa.string()),
    ("model", pa.string()),
    ("version", pa.string()),
    ("variant", pa.string()),
    ("status", pa.int32()),
    ("latency_s", pa.float64()),
    ("ttft_s", pa.float64()),
    ("prompt_tokens", pa.int64()),
    ("output_tokens", pa.int64()),
    ("timed_out", pa.bool_()),
    ("prompt", pa.string()),
    ("answer", pa.string()),
    ("error", pa.string()),
])  # fmt: skip


def table_uri(lake_root: str) -> str:
    return lake.join(lake_root, *TABLE)


def _prompt(request: dict | None) -> str | None:
    """The text the caller sent: a completion's prompt, or a chat's user turns (the model's input to compare
    with the training prompts)."""
    if not request:
        return None
    if "messages" in request:
        turns = [m.get("content") for m in request["messages"] if isinstance(m, dict) and m.get("role") == "user"]
        return "\n".join(t for t in turns if isinstance(t, str)) or None
    prompt = request.get("prompt")
    if isinstance(prompt, list):
        prompt = "\n".join(p for p in prompt if isinstance(p, str))
    return prompt if isinstance(prompt, str) else None


def _answer(response: dict | None) -> str | None:
    choices = (response or {}).get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    text = choice.get("text")
    if text is None and isinstance(choice.get("message"), dict):
        text = choice["message"].get("content")
    return text if isinstance(text, str) else None


def _row(record: Any) -> dict:
    usage = (record.response or {}).get("usage") or {}
    output_tokens = record.output_tokens if record.output_tokens is not None else usage.get("completion_tokens")
    return {
        "timestamp": dt.datetime.fromtimestamp(record.started_at, dt.UTC),
        "endpoint": record.endpoint, "model": record.model, "version": record.version,
        "variant": record.variant, "status": record.status, "latency_s": record.duration_s,
        "ttft_s": record.ttft_s, "prompt_tokens": usage.get("prompt_tokens"), "output_tokens": output_tokens,
        "timed_out": record.timed_out, "prompt": _prompt(record.request), "answer": _answer(record.response),
        "error": record.error,
    }  # fmt: skip


def to_table(records: list[Any]) -> pa.Table:
    """The records as one table, their free text masked."""
    table = pa.Table.from_pylist([_row(r) for r in records], schema=SCHEMA)
    for column in ("prompt", "answer", "error"):
        masked, _ = mask_pii(table[column])
        table = table.set_column(table.schema.get_field_index(column), column, masked)
    return table


def write_batch(lake_root: str, table: pa.Table) -> list[str]:
    """One part file per (date, hour) of the batch, each written whole; returns the URIs written."""
    root = table_uri(lake_root)
    hours = collections.defaultdict(list)
    for i, ts in enumerate(table["timestamp"].to_pylist()):
        hours[(ts.date().isoformat(), ts.hour)].append(i)
    written = []
    for (ds, hour), rows in sorted(hours.items()):
        uri = lake.join(root, f"ds={ds}", f"hour={hour:02d}", f"part-{uuid.uuid4().hex}.parquet")
        lakefs.write_parquet(table.take(pa.array(rows, pa.int64())), uri)
        written.append(uri)
    return written


class InferenceLog:
    """The gateway's ``on_request_done`` callback plus the thread that writes what it collects.

    ``max_pending`` bounds the memory a stalled lake can cost: past it, records are dropped and counted
    (``dropped``), never the caller's problem.
    """

    def __init__(self, lake_root: str, *, flush_interval_s: float = 10.0, max_batch: int = 1000,
                 max_pending: int = 100_000):  # fmt: skip
        lakefs.filesystem(lake_root)  # a lake it cannot reach fails here, not at the first flush
        self.lake_root, self.flush_interval_s, self.max_batch = lake_root, flush_interval_s, max_batch
        self.max_pending, self.dropped, self.written = max_pending, 0, 0
        self._pending: collections.deque = collections.deque()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, record: Any) -> None:
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append(record)
        if len(self._pending) >= self.max_batch:
            self._wake.set()

    def flush(self) -> list[str]:
        """Write what is pending now (the writer thread calls this; so does :meth:`close`)."""
        written = []
        while self._pending:
            batch = [self._pending.popleft() for _ in range(min(self.max_batch, len(self._pending)))]
            written += write_batch(self.lake_root, to_table(batch))
            self.written += len(batch)
        return written

    def start(self) -> InferenceLog:
        self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the writer and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the lake may come back; the batch in hand is lost, the next ones are not
                log.exception("inference log: writing a batch failed")


def read_window(lake_root: str, start: dt.datetime, end: dt.datetime, max_rows: int = 0, seed: int = 0) -> pa.Table:
    """The log's rows with ``start <= timestamp < end`` (aware datetimes; only the days in range are opened).

    With ``max_rows``, a window holding more rows is sampled while it is read: ``max_rows`` of its rows, uniformly
    without replacement, taken from each record batch as it streams by, so the whole window is never in memory
    (pyarrow: the drift step runs no Spark, and Evidently has no Spark engine). The table's schema metadata
    ``window_rows`` holds the window's row count either way."""
    if not lakefs.exists(table_uri(lake_root)):
        return SCHEMA.empty_table()
    fs, root = lakefs.filesystem(table_uri(lake_root))
    partitions = pa.schema([("ds", pa.string()), ("hour", pa.int32())])
    dataset = pads.dataset(root, format="parquet", filesystem=fs,
                           partitioning=pads.partitioning(partitions, flavor="hive"))  # fmt: skip
    days = [(start + dt.timedelta(days=d)).date().isoformat() for d in range((end.date() - start.date()).days + 1)]
    ts, kind = pads.field("timestamp"), SCHEMA.field("timestamp").type
    window = pads.field("ds").isin(days) & (ts >= pa.scalar(start, kind)) & (ts < pa.scalar(end, kind))
    scanner = dataset.scanner(columns=SCHEMA.names, filter=window)
    total = scanner.count_rows()
    if not max_rows or total <= max_rows:
        table = scanner.to_table()
    else:
        keep = np.sort(np.random.default_rng(seed).choice(total, max_rows, replace=False))  # stream positions
        parts, offset = [], 0
        for batch in scanner.to_batches():
            lo, hi = np.searchsorted(keep, [offset, offset + batch.num_rows])
            parts.append(batch.take(pa.array(keep[lo:hi] - offset)))
            offset += batch.num_rows
        table = pa.Table.from_batches(parts, schema=scanner.projected_schema)
    return table.cast(SCHEMA).replace_schema_metadata({"window_rows": str(total)})
