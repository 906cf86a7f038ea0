"""The gate's command line end to end: a gold partition, a served model, the reports and the exit code."""

from __future__ import annotations

import json

import pytest

from llmops.governance.gate import main
from llmops.governance.report import HTML_NAME, JSON_NAME
from tests.governance.test_leakage import CLEAN, DS, PLANTED, write_gold
from tests.governance.test_runner import CARD, capped, safe, serve, vulnerable


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("governance-work")


def gate(lake_root: str, base_url: str, out_dir, work_dir, *extra: str) -> tuple[int, dict]:
    code = main(
        [
            "--lake-root",
            lake_root,
            "--ds",
            DS,
            "--base-url",
            base_url,
            "--out-dir",
            str(out_dir),
            "--work-dir",
            str(work_dir),
            "--timeout-s",
            "10",
            *extra,
        ]
    )
    return code, json.loads((out_dir / JSON_NAME).read_text())


def test_safe_model_on_clean_data_passes(tmp_path, work_dir):
    lake_root = write_gold(tmp_path / "lake", CLEAN)
    lineage = json.dumps({"git_commit": "abc123", "mlflow_run": "r-1"})
    access = tmp_path / "access.json"
    access.write_text(json.dumps({"passed": True, "dags": {"llmops_deploy": ["Admin"]}}))
    with serve(capped(safe)) as url:
        code, report = gate(
            lake_root,
            url,
            tmp_path / "out",
            work_dir,
            "--model",
            "candidate",
            "--lineage",
            lineage,
            "--access-control",
            str(access),
        )
    assert (code, report["status"]) == (0, "passed")
    assert report["lineage"]["git_commit"] == "abc123" and report["access_control"]["passed"] is True
    assert report["owasp"]["garak"] == {"status": "not run", "reason": "no garak executable configured"}
    assert [s["dataset"] for s in report["leakage"]] == [f"gold/sft ds={DS}"]
    assert (tmp_path / "out" / HTML_NAME).is_file()


def test_vulnerable_model_fails_with_owasp_ids(tmp_path, work_dir):
    lake_root = write_gold(tmp_path / "lake", CLEAN)
    with serve(vulnerable) as url:
        code, report = gate(lake_root, url, tmp_path / "out", work_dir)
    assert (code, report["status"]) == (1, "failed")
    failed = {c["owasp_id"] for c in report["owasp"]["categories"] if c["status"] == "failed"}
    assert failed == {"LLM01", "LLM02", "LLM05", "LLM07", "LLM10"}
    assert CARD not in (tmp_path / "out" / HTML_NAME).read_text()  # reports show answers redacted


def test_personal_data_in_the_training_split_fails_a_safe_model(tmp_path, work_dir):
    lake_root = write_gold(tmp_path / "lake", CLEAN)
    split = tmp_path / "train.jsonl"
    split.write_text(json.dumps({"example_id": "t-1", "output": PLANTED["output"][0]}) + "\n")
    with serve(capped(safe)) as url:
        code, report = gate(lake_root, url, tmp_path / "out", work_dir, "--training-split", str(split))
    assert code == 1
    assert [(s["dataset"], s["total"]) for s in report["leakage"]] == [(f"gold/sft ds={DS}", 0), ("training split", 1)]


def test_missing_gold_or_unreachable_model_is_an_error_with_a_report(tmp_path, work_dir):
    with serve(safe) as url:
        pass  # nothing listens there any more
    code, report = gate(f"file://{tmp_path}/no-lake", url, tmp_path / "out", work_dir)
    assert (code, report["status"]) == (2, "error")
    assert any("gold/sft" in p for p in report["problems"])
    assert any("ConnectError" in p for p in report["problems"])


def test_threshold_override_and_bad_arguments(tmp_path, work_dir, capsys):
    lake_root = write_gold(tmp_path / "lake", CLEAN)

    def uncapped(body):
        status, payload = safe(body)
        payload["usage"]["completion_tokens"] = body["max_tokens"]
        return status, payload

    with serve(uncapped) as url:
        assert gate(lake_root, url, tmp_path / "a", work_dir)[0] == 1
        assert gate(lake_root, url, tmp_path / "b", work_dir, "--threshold", "LLM10=1.0")[0] == 0
    with pytest.raises(SystemExit) as bad:
        main(["--lake-root", lake_root, "--ds", "2026-13-01", "--base-url", url, "--out-dir", str(tmp_path / "c")])
    assert bad.value.code == 2 and "ds must be a date" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad:
        main(
            [
                "--lake-root",
                lake_root,
                "--ds",
                DS,
                "--base-url",
                url,
                "--out-dir",
                str(tmp_path / "c"),
                "--access-control",
                str(tmp_path / "missing.json"),
            ]
        )
    assert bad.value.code == 2 and "--access-control" in capsys.readouterr().err
