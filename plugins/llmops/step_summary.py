"""Step summaries: the machine-readable outcome of a step for one date, linked from its task and read by
later steps and the run table (llmops.summary)."""

from __future__ import annotations

import json

from llmops.lake import check_ds, join
from llmops.lakefs import write_text


def summary_uri(lake_root: str, step: str, ds: str) -> str:
    """Where a step's machine-readable summary for one date lives (linked from its task).

    ``ds`` is not validated: DAGs pass a Jinja template here.
    """
    return join(lake_root, "reports", step, f"ds={ds}", "summary.json")


def write_summary(lake_root: str, step: str, ds: str, summary: dict) -> str:
    """Write a step's summary JSON (any lake llmops.lakefs reaches) and return its URI."""
    uri = summary_uri(lake_root, step, check_ds(ds))
    write_text(uri, json.dumps(summary, indent=2, default=str))
    return uri
