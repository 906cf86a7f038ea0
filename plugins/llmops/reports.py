"""Where a report can be opened from the Airflow UI: its address, and the task's link to it."""

from __future__ import annotations

from airflow.sdk import BaseOperator, BaseOperatorLink

from llmops import lake
from llmops.config import settings

REPORTS_PREFIX = "/llmops/reports"  # served by plugins/llmops_plugin.py behind Airflow's login


def report_href(uri: str, lake_root: str | None = None) -> str:
    """A link for a report URI: the lake's reports (local or on an object store) through the Airflow plugin,
    others as they are."""
    reports_root = lake.join(lake_root or settings().paths.lake_root, "reports")
    if uri.startswith(reports_root + "/"):
        return REPORTS_PREFIX + uri[len(reports_root):]
    return uri


class ReportLink(BaseOperatorLink):
    """The "Report" button of a step task: its operator's ``report`` URI (pushed however the task ended)."""

    name = "Report"

    def get_link(self, operator: BaseOperator, *, ti_key) -> str:
        uri = getattr(operator, "report", None)
        return report_href(uri) if uri else ""
