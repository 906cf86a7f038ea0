"""The constructor arguments every llmops DAG shares, declared once so that the DAG files list only what differs.

Imported by the DAG files at parse time.
"""

from __future__ import annotations

from typing import Any

from llmops.access import access_control
from llmops.alerts import alert_on_failure
from llmops.templating import template_macros


def dag_defaults(dag_id: str, tag: str, doc: str | None, *, alert: bool = False) -> dict[str, Any]:
    """``DAG(**dag_defaults(...), description=..., schedule=...)``: the id with its access control, one active run
    at a time, no catchup (and no start_date: once unpaused, the first run is the next tick, not a missed one),
    the ``run_ds`` macro, the tags, the module docstring as the DAG's doc, and ``alert``: a failed task alerts
    (llmops.alerts)."""
    kwargs = {
        "dag_id": dag_id,
        "access_control": access_control(dag_id),
        "catchup": False,
        "max_active_runs": 1,
        "user_defined_macros": template_macros(),
        "tags": ["llmops", tag],
        "doc_md": doc,
    }
    if alert:
        kwargs["default_args"] = {"on_failure_callback": alert_on_failure}
    return kwargs
