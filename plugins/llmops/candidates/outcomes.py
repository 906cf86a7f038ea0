"""A gate's outcome recorded on the version it judged (tags) and on that version's final run (metrics, files)."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from llmops import lake, lakefs
from llmops.candidates.lookup import Candidate
from llmops.training import tracking

log = logging.getLogger(__name__)

GATES = ("eval", "governance")
_METRIC_UNSAFE = re.compile(r"[^\w\-. :/]")  # MLflow refuses other characters in metric names (lm-eval's commas)


def record_gate(
    candidate: Candidate,
    gate: str,
    status: str,
    verdict_path: str | Path | None,
    report_path: str | Path | None,
    metrics: dict[str, float | None],
) -> None:
    """Tag the version ``llmops.gate.<gate>`` = status (and ``.report`` = the report's URI, ``-`` without
    one); log ``metrics`` (None values skipped) and the verdict and report files to the final run."""
    if gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}; expected one of {GATES}")
    client = tracking.client()
    tag, version = f"llmops.gate.{gate}", str(candidate.version)
    client.set_model_version_tag(candidate.model, version, tag, status)
    report_uri = _uri(report_path) if report_path else "-"
    client.set_model_version_tag(candidate.model, version, f"{tag}.report", report_uri)
    values = {_METRIC_UNSAFE.sub("_", f"gate.{gate}.{k}"): float(v)
              for k, v in {**metrics, "passed": status == "passed"}.items() if v is not None}
    tracking.log_metrics(client, candidate.final_run_id, 0, values)
    with tempfile.TemporaryDirectory() as downloads:
        files = [_local_copy(p, Path(downloads)) for p in (verdict_path, report_path) if p and lakefs.is_file(p)]
        tracking.log_files(client, candidate.final_run_id, files, f"gates/{gate}")
    log.info("%s gate %s for version %s recorded (report: %s)", gate, status, version, report_uri)


def _uri(path: str | Path) -> str:
    """A report's URI for the version's tag: absolute ``file://`` on a local lake (``ds=`` kept as is)."""
    return f"file://{lake.local_path(str(path)).resolve()}" if lake.is_local(str(path)) else str(path)


def _local_copy(path: str | Path, folder: Path) -> Path:
    """MLflow logs local files: a file on an object store is downloaded into ``folder`` first."""
    if lake.is_local(str(path)):
        return lake.local_path(str(path))
    copy = folder / lake.local_path(urlparse(str(path)).path).name
    copy.write_bytes(lakefs.read_bytes(path))
    return copy
