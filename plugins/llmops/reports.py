"""Where a report can be opened from the Airflow UI."""

from __future__ import annotations

from llmops import lake
from llmops.config import settings

REPORTS_PREFIX = "/llmops/reports"  # served by plugins/llmops_plugin.py behind Airflow's login


def report_href(uri: str) -> str:
    """A link for a report URI: local lake reports through the Airflow plugin, others as they are."""
    reports_root = lake.join(settings().paths.lake_root, "reports")
    if uri.startswith(reports_root + "/") and lake.is_local(uri):
        return REPORTS_PREFIX + uri[len(reports_root):]
    return uri
