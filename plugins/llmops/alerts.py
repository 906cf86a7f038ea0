"""Alerts on failed tasks: an ERROR line in the task log, and a JSON POST to a webhook when one is set.

The webhook URL comes from ``$LLMOPS_ALERT_WEBHOOK_URL``: such URLs usually carry their token, so they
belong in a secret, not in a settings file. Without it the log line is the alert. A webhook that cannot be
reached is logged, never raised: a failing alert must not hide the failure it reports.

DAG files import this module at parse time: it imports nothing heavy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

WEBHOOK_ENV = "LLMOPS_ALERT_WEBHOOK_URL"
TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


def send_alert(payload: dict[str, Any], environ: Mapping[str, str] = os.environ) -> bool:
    """Log the alert at ERROR and POST ``payload`` to the webhook; True when a webhook accepted it."""
    log.error("ALERT %s.%s failed (run %s); report: %s; error: %s", payload.get("dag_id"), payload.get("task_id"),
              payload.get("run_id"), payload.get("report") or "none", payload.get("error") or "-")
    url = environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return False
    import httpx  # noqa: PLC0415

    try:
        httpx.post(url, json=payload, timeout=TIMEOUT_S).raise_for_status()
    except httpx.HTTPError as exc:
        log.error("alert webhook ($%s) failed: %s", WEBHOOK_ENV, type(exc).__name__)  # the URL may hold a token
        return False
    return True


def alert_on_failure(context: Mapping[str, Any]) -> None:
    """``on_failure_callback`` for llmops tasks: which DAG, task and run failed, and the task's report."""
    ti = context["ti"]
    send_alert({
        "event": "task_failed",
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": ti.run_id,
        "try_number": ti.try_number,
        "report": getattr(context.get("task"), "report", None),
        "error": str(context.get("exception") or "")[:2000],
    })
