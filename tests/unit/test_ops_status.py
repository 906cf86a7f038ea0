"""The ops page's JSON (``llmops status``) and its HTML: verdicts written by the real gate classes, an empty
registry, and a registry that cannot be reached (an error on the page and a non-zero exit, never an empty list)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from expectations.verdict import ExpectationOutcome, GateVerdict, TableOutcome
from llmops import ops_page
from llmops.ops_status import status


def _write_verdict(lake, layer: str, ds: str, passed: bool) -> None:
    outcome = ExpectationOutcome("expect_column_values_to_not_be_null", "text", {"unexpected": 3}, {}, passed,
                                 description="no empty text")
    verdict = GateVerdict(layer, ds, passed, tables=[TableOutcome("tickets", 10, passed, [outcome])])
    folder = lake / "reports" / "gates" / layer / f"ds={ds}"
    folder.mkdir(parents=True)
    (folder / "verdict.json").write_text(verdict.to_json())


def _env(lake, tracking: str) -> dict[str, str]:
    return {**os.environ, "LLMOPS__PATHS__LAKE_ROOT": f"file://{lake}", "LLMOPS__TRACKING__URI": tracking}


def test_latest_data_gate_per_layer_with_failures_named(tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    _write_verdict(lake, "bronze", "2026-11-30", True)
    _write_verdict(lake, "silver", "2026-11-30", True)
    _write_verdict(lake, "silver", "2026-12-01", False)
    monkeypatch.setenv("LLMOPS__TRACKING__URI", f"sqlite:///{tmp_path}/mlflow.db")
    doc = status(f"file://{lake}")
    gates = {g["layer"]: g for g in doc["data_gates"]}
    assert set(gates) == {"bronze", "silver"}
    assert (gates["silver"]["ds"], gates["silver"]["status"]) == ("2026-12-01", "failed")
    assert gates["silver"]["failed"] == ["tickets: no empty text"]
    assert gates["bronze"]["report"]["href"] == "/llmops/reports/gates/bronze/ds=2026-11-30/data_docs/index.html"
    html = ops_page.render(doc)
    assert "tickets: no empty text" in html and 'class="failed"' in html
    assert "/llmops/reports/gates/silver/ds=2026-12-01/data_docs/index.html" in html


def test_page_escapes_what_it_shows(tmp_path):
    doc = {"lake_root": "<script>x</script>", "errors": [], "versions": [], "model_gates": None, "data_gates": []}
    assert "<script>x" not in ops_page.render(doc)


def test_unreachable_registry_is_an_error_not_an_empty_list(tmp_path):
    lake = tmp_path / "lake"
    _write_verdict(lake, "gold", "2026-12-01", True)
    proc = subprocess.run([sys.executable, "-m", "llmops.cli", "status"], capture_output=True, text=True,
                          timeout=120, env={**_env(lake, "http://127.0.0.1:9"), "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
                                            "MLFLOW_HTTP_REQUEST_TIMEOUT": "3"})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["versions"] is None and doc["errors"] and doc["errors"][0].startswith("versions:")
    assert doc["data_gates"][0]["status"] == "passed"  # what could be read is still shown
    assert "registry unavailable" in ops_page.render(doc)
