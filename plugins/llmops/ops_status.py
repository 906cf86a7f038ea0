"""What an operator wants to see at a glance, as one JSON document: registered versions with their aliases,
lineage and gate verdicts, the latest model-gate and data-gate verdicts, each with its report.

``llmops status --json`` prints it and the "LLMOps" page in the Airflow UI (plugins/llmops_plugin.py) renders
it, so both always agree. A source that cannot be read (the registry down, a verdict that does not parse) is
reported under ``errors`` and makes the CLI exit non-zero: an unreadable registry never looks like an empty one.
"""

from __future__ import annotations

from typing import Any

from llmops import lake, lakefs
from llmops.config import settings
from llmops.pipelines import gate_report, model_gate_dir
from llmops.reports import report_href
from llmops.step_summary import summary_uri

DATA_LAYERS = ("bronze", "silver", "gold")
LINEAGE_TAGS = {"gold ds": "llmops.gold.latest_ds", "base model": "llmops.base_model", "method": "llmops.method",
                "commit": "llmops.git_commit", "val loss": "llmops.best_val_loss", "run": "airflow.dag_run_id"}


def _latest_ds(folder_uri: str) -> str | None:
    dates = lakefs.list_partitions(folder_uri)
    return dates[-1] if dates else None


def _link(uri: str, lake_root: str) -> dict[str, str]:
    return {"uri": uri, "href": report_href(uri, lake_root)}


def data_gates(lake_root: str) -> list[dict[str, Any]]:
    out = []
    for layer in DATA_LAYERS:
        ds = _latest_ds(lake.join(lake_root, "reports", "gates", layer))
        if ds is None:
            continue
        verdict = lakefs.read_json(lake.join(lake_root, "reports", "gates", layer, f"ds={ds}", "verdict.json"))
        if verdict is None:
            out.append({"layer": layer, "ds": ds, "status": "missing", "failed": []})
            continue
        failed = [f"{t['table']}: {e.get('description') or e['expectation']}" for t in verdict["tables"]
                  for e in t["expectations"] if not e["success"]]
        out.append({"layer": layer, "ds": ds, "status": verdict["status"], "error": verdict.get("error"),
                    "failed": failed, "report": _link(gate_report(lake_root, layer, ds), lake_root)})
    return out


def model_gates(lake_root: str) -> dict[str, Any] | None:
    """The newest date's evaluation and governance verdicts and the decision on the version they judged."""
    ds = _latest_ds(lake.join(lake_root, "reports", "eval_gate"))
    if ds is None:
        return None
    folder = {gate: model_gate_dir(lake_root, gate, ds) for gate in ("eval", "governance")}
    governance_html = lake.join(folder["governance"], "governance_report.html")
    verdict = lakefs.read_json(lake.join(folder["eval"], "verdict.json"))
    report = lakefs.read_json(lake.join(folder["governance"], "governance_report.json"))
    decision = lakefs.read_json(summary_uri(lake_root, "decide", ds))
    return {
        "ds": ds,
        "eval": verdict and {"status": verdict["status"], "n_items": verdict.get("n_items"),
                             "failed": [m["metric"] for m in verdict["metrics"] if not m.get("passed", True)],
                             "report": _link(lake.join(folder["eval"], "report.html"), lake_root)},
        "governance": report and {"status": report["status"], "problems": report.get("problems", []),
                                  "report": _link(governance_html, lake_root)},
        "decision": decision,
    }


def registry_versions() -> list[dict[str, Any]]:
    from llmops.training.registry import versions  # noqa: PLC0415 - mlflow

    rows = []
    for v in versions():
        tags = v["tags"]
        rows.append({
            "version": v["version"], "aliases": v["aliases"], "status": tags.get("llmops.status", "candidate"),
            "reason": tags.get("llmops.rejection_reason", ""),
            "lineage": {label: tags.get(tag, "") for label, tag in LINEAGE_TAGS.items()},
        })
    return rows


def status(lake_root: str | None = None) -> dict[str, Any]:
    lake_root = lake_root or settings().paths.lake_root
    doc: dict[str, Any] = {"lake_root": lake_root, "errors": []}
    for key, read in (("versions", registry_versions), ("model_gates", lambda: model_gates(lake_root)),
                      ("data_gates", lambda: data_gates(lake_root))):
        try:
            doc[key] = read()
        except Exception as exc:  # noqa: BLE001 - shown on the page and fails the CLI; never an empty section
            doc[key] = None
            doc["errors"].append(f"{key}: {type(exc).__name__}: {str(exc)[:300]}")
    return doc
