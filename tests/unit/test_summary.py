"""The end-of-demo summary reads the reports the steps write."""

from __future__ import annotations

import json

from llmops.summary import rows


def test_summary_counts_failed_expectations(tmp_path):
    gate = tmp_path / "reports" / "gates" / "bronze" / "ds=2026-11-20"
    gate.mkdir(parents=True)
    expectation = {"expectation": "expect_column_values_to_not_be_null", "column": "ticket_id", "success": False}
    verdict = {"passed": False, "tables": [{"table": "tickets", "expectations": [expectation, {**expectation,
                                                                                           "success": True}]}]}
    (gate / "verdict.json").write_text(json.dumps(verdict))
    (stage, status, figure, report), = rows(f"file://{tmp_path}", "2026-11-20")
    assert (stage, status, figure) == ("gate_bronze", "FAIL", "1 failed expectations")
    assert report.endswith("gates/bronze/ds=2026-11-20/data_docs/index.html")
