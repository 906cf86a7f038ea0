"""Every gate fails closed when what it reads is missing or empty: an error (exit 2), never an empty pass.
(The registry side, MLflow down or a missing tracking database, is in tests/gates/test_tracking_down.py.)"""

from __future__ import annotations

import json

import pytest

from tests.governance.test_leakage import DS, write_gold


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("governance-work")


def _data_scan(lake_root: str, out_dir, work_dir) -> tuple[int, dict]:
    from llmops.governance.gate import main
    from llmops.governance.report import JSON_NAME

    code = main(["--lake-root", lake_root, "--ds", DS, "--data-only", "--out-dir", str(out_dir),
                 "--work-dir", str(work_dir)])  # fmt: skip
    return code, json.loads((out_dir / JSON_NAME).read_text())


def test_governance_data_scan_of_a_missing_partition_is_an_error(tmp_path, work_dir):
    code, report = _data_scan(f"file://{tmp_path}/lake", tmp_path / "out", work_dir)
    assert (code, report["status"]) == (2, "error")


def test_governance_data_scan_of_an_emptied_partition_is_an_error(tmp_path, work_dir):
    """An empty gold partition (what a bad ingest once published) has no personal data, and proves nothing."""
    lake_root = write_gold(tmp_path / "lake", [])
    code, report = _data_scan(lake_root, tmp_path / "out", work_dir)
    assert (code, report["status"]) == (2, "error")
    assert "nothing to scan" in report["leakage"][0]["error"]


def test_eval_gate_without_gold_test_items_is_an_error_and_publishes_no_verdict(tmp_path, capsys):
    from llmops.evaluation.gate import main

    out = tmp_path / "verdict"
    code = main(["--lake-root", f"file://{tmp_path}/lake", "--ds", DS, "--candidate-base", str(tmp_path / "model"),
                 "--out-dir", str(out)])  # fmt: skip
    assert code == 2 and "no gold partition" in capsys.readouterr().err
    assert not (out / "verdict.json").exists()


def test_eval_gate_with_an_empty_test_split_is_an_error(tmp_path, capsys):
    from llmops.evaluation.gate import main

    lake_root = write_gold(tmp_path / "lake", [("How do I reset my password?", "", "Use the account page.")])
    assert "test" not in {row["split"] for row in _gold_rows(tmp_path / "lake")}
    out = tmp_path / "verdict"
    code = main(["--lake-root", lake_root, "--ds", DS, "--candidate-base", str(tmp_path / "model"),
                 "--out-dir", str(out)])  # fmt: skip
    assert code == 2 and "no evaluation items" in capsys.readouterr().err
    assert not (out / "verdict.json").exists()


def _gold_rows(lake_dir) -> list[dict]:
    import pyarrow.dataset as pads

    return pads.dataset(str(lake_dir / "gold" / "sft"), format="parquet").to_table().to_pylist()


def test_decide_rejects_when_a_gate_left_no_verdict(tmp_path):
    """A missing report is a rejection that names the gate, never a pass."""
    from llmops.candidates.decision import _gate_problem

    problem = _gate_problem("governance", tmp_path / "governance_report.json", 1)
    assert problem is not None and "did not run" in problem
