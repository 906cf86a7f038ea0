"""A gate's outcome recorded on the version it judged (tags) and on that version's final run (metrics, files)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from llmops.candidates.lookup import Candidate
from llmops.training import tracking

log = logging.getLogger(__name__)

GATES = ("eval", "governance")
_METRIC_UNSAFE = re.compile(r"[^\w\-. :/]")  # MLflow refuses other characters in metric names (lm-eval's commas)


def record_gate(
    candidate: Candidate,
    gate: str,
    status: str,
    verdict_path: Path | None,
    report_path: Path | None,
    metrics: dict[str, float | None],
) -> None:
    """Tag the version ``llmops.gate.<gate>`` = status (and ``.report`` = the report's URI, ``-`` without
    one); log ``metrics`` (None values skipped) and the verdict and report files to the final run."""
    if gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}; expected one of {GATES}")
    client = tracking.client()
    tag, version = f"llmops.gate.{gate}", str(candidate.version)
    client.set_model_version_tag(candidate.model, version, tag, status)
    report_uri = f"file://{Path(report_path).resolve()}" if report_path else "-"  # lake URIs keep ds= as is
    client.set_model_version_tag(candidate.model, version, f"{tag}.report", report_uri)
    values = {_METRIC_UNSAFE.sub("_", f"gate.{gate}.{k}"): float(v)
              for k, v in {**metrics, "passed": status == "passed"}.items() if v is not None}
    tracking.log_metrics(client, candidate.final_run_id, 0, values)
    files = [p for p in (verdict_path, report_path) if p is not None and Path(p).is_file()]
    tracking.log_files(client, candidate.final_run_id, files, f"gates/{gate}")
    log.info("%s gate %s for version %s recorded (report: %s)", gate, status, version, report_uri)
