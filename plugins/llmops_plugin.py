"""Airflow plugin: the lake's reports (gate Data Docs, verdicts, summaries) and the "LLMOps" ops page, for
logged-in users.

Each gate task links its report (operator extra link) to /llmops/reports/...; the ops page /llmops/ops shows in
the UI's navigation (an external view rendered inside the UI). FastAPI apps mounted by plugins are not behind
Airflow's auth by default, so every route requires an authenticated user.
"""

from __future__ import annotations

import mimetypes

from airflow.api_fastapi.core_api.security import GetUserDep
from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

from llmops import lake, lakefs
from llmops.config import settings
from llmops.monitoring.webhook import router as alert_webhook

app = FastAPI(title="llmops reports")
# machine callers (Alertmanager, Grafana, the drift check): authenticated by the receiver itself, not by login
app.include_router(alert_webhook)


@app.get("/reports/{path:path}")
def get_report(path: str, user: GetUserDep) -> Response:
    """A file of the lake's reports layer: from disk on a local lake, through llmops.lakefs on an object store."""
    reports = lake.join(settings().paths.lake_root, "reports")
    if lake.is_local(reports):
        root = lake.local_path(reports).resolve()
        target = (root / path).resolve()
        if root not in target.parents or not target.is_file():
            raise HTTPException(status_code=404, detail=f"no report at {path!r}")
        return FileResponse(target)
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts) or not lakefs.is_file(uri := lake.join(reports, path)):
        raise HTTPException(status_code=404, detail=f"no report at {path!r}")
    return Response(lakefs.read_bytes(uri), media_type=mimetypes.guess_type(parts[-1])[0] or "application/octet-stream")


@app.get("/ops", response_class=HTMLResponse)
def ops_page(user: GetUserDep) -> HTMLResponse:
    from llmops import ops_page, ops_status  # noqa: PLC0415 - the registry read imports mlflow

    return HTMLResponse(ops_page.render(ops_status.status()))


class LLMOpsPlugin(AirflowPlugin):
    name = "llmops"
    fastapi_apps = [{"app": app, "url_prefix": "/llmops", "name": "llmops reports"}]
    external_views = [{"name": "LLMOps", "href": "/llmops/ops", "url_route": "llmops", "destination": "nav",
                       "nav_top_level": True}]
