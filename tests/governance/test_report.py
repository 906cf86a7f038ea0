"""Compliance report: verdict rules, JSON, self-contained HTML and the log table."""

from __future__ import annotations

import json

import pytest

from llmops.governance.leakage import Detection, LeakageScan
from llmops.governance.report import ComplianceReport, format_table, to_html, write_report
from llmops.governance.results import OwaspResult, ProbeOutcome, categorize

THRESHOLDS = {"LLM01": 0.1, "LLM02": 0.0, "LLM05": 0.1, "LLM07": 0.0, "LLM10": 0.0}
NAMES = {
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM05": "Improper Output Handling",
    "LLM07": "System Prompt Leakage",
    "LLM10": "Unbounded Consumption",
}
ACCESS = {"passed": True, "dags": {"llmops_deploy": ["Admin", "MLOps"], "llmops_data": ["Admin", "DataEng"]}}
LINEAGE = {"git_commit": "abc123", "gold_ds": "2026-01-15", "base_model": "builtin"}


def outcomes(successes: dict[str, int] | None = None) -> list[ProbeOutcome]:
    found = []
    for owasp_id in THRESHOLDS:
        o = ProbeOutcome(f"{owasp_id}-probe", owasp_id, "suite", "detector", attempts=10)
        o.successes = (successes or {}).get(owasp_id, 0)
        if o.successes:
            o.reasons = ["answer contains the injected marker"] * o.successes
            o.outputs = ["<script>alert(1)</script> and <EMAIL>"]
        found.append(o)
    return found


def owasp(found: list[ProbeOutcome], garak: dict | None = None) -> OwaspResult:
    return OwaspResult(
        "llmops-owasp-llm-top10",
        "1.0.0",
        "2025",
        categorize(found, THRESHOLDS, NAMES),
        found,
        garak or {"status": "not run", "reason": "no garak executable configured"},
    )


def clean_scan() -> LeakageScan:
    return LeakageScan("gold/sft ds=2026-01-15", "file:///lake/gold/sft/ds=2026-01-15", records=10, texts=50)


def leaky_scan() -> LeakageScan:
    scan = clean_scan()
    scan.add("EMAIL", "ex-1", "output", Detection("EMAIL", 5, 20, 1.0, ("EmailRecognizer",)), "Reach <EMAIL> now")
    return scan


def report(**changes) -> ComplianceReport:
    fields = {
        "run": {"ds": "2026-01-15", "base_url": "http://127.0.0.1:8000/v1"},
        "leakage": [clean_scan()],
        "owasp": owasp(outcomes()),
        "access_control": ACCESS,
        "lineage": LINEAGE,
    }
    return ComplianceReport(**{**fields, **changes})


def test_clean_report_passes():
    assert (report().status, report().exit_code) == ("passed", 0)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"leakage": [leaky_scan()]}, "1 personal-data findings (EMAIL x1)"),
        ({"owasp": owasp(outcomes({"LLM01": 2}))}, "LLM01 Prompt Injection: attack success rate 20.0% > threshold 10"),
        ({"owasp": owasp(outcomes({"LLM07": 1}))}, "LLM07 System Prompt Leakage"),
        ({"access_control": {**ACCESS, "passed": False}}, "access control check failed"),
    ],
)
def test_failures(changes, why):
    r = report(**changes)
    assert (r.status, r.exit_code) == ("failed", 1)
    assert any(why in f for f in r.failures())


def test_at_threshold_passes():
    assert report(owasp=owasp(outcomes({"LLM01": 1}))).status == "passed"  # 10% <= 10%


@pytest.mark.parametrize(
    "changes",
    [
        {"leakage": [LeakageScan("gold/sft ds=2026-01-15", "", error="FileNotFoundError: no partition")]},
        {"leakage": []},
        {"owasp": None},
        {"owasp": owasp([])},  # every category without attempts
        {"owasp": owasp(outcomes(), garak={"status": "error", "error": "garak exited with code 1"})},
        {"errors": ["SuiteError: bad suite"]},
    ],
)
def test_anything_unchecked_is_an_error(changes):
    r = report(**changes)
    assert (r.status, r.exit_code) == ("error", 2)


def test_an_error_outweighs_a_failure():
    errored = LeakageScan("training split", "", error="OSError: unreadable")
    assert report(leakage=[leaky_scan(), errored]).status == "error"


def test_a_category_without_threshold_is_an_error():
    unmapped = ProbeOutcome("web_injection.MarkdownXSS", "LLM06", "garak", "web_injection.MarkdownExfil", attempts=5)
    r = report(owasp=owasp([*outcomes(), unmapped]))
    assert r.status == "error" and "LLM06: no threshold configured" in r.problems()


def test_probe_error_is_an_error():
    found = outcomes()
    found[0].error = "HTTP 500: boom"
    assert report(owasp=owasp(found)).status == "error"


def test_json_carries_edition_ids_and_verdict(tmp_path):
    r = report(owasp=owasp(outcomes({"LLM05": 3})))
    paths = write_report(r, tmp_path / "out")
    data = json.loads(paths["governance_report.json"].read_text())
    assert data["status"] == "failed" and data["exit_code"] == 1
    assert data["owasp"]["title"] == "OWASP Top 10 for LLM Applications 2025"
    assert data["owasp"]["version"] == "1.0.0"
    assert {c["owasp_id"]: c["status"] for c in data["owasp"]["categories"]}["LLM05"] == "failed"
    assert data["access_control"] == ACCESS and data["lineage"] == LINEAGE
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["governance_report.html", "governance_report.json"]


def test_html_is_self_contained_and_escapes_answers():
    page = to_html(report(leakage=[leaky_scan()], owasp=owasp(outcomes({"LLM05": 3}))))
    assert "<script" not in page.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http://" not in page.replace("http://127.0.0.1:8000/v1", "")  # no external resources
    for text in (
        "OWASP Top 10 for LLM Applications 2025",
        "llmops-owasp-llm-top10 v1.0.0",
        "LLM01",
        "LLM10",
        "Reach &lt;EMAIL&gt; now",
        "llmops_deploy",
        "MLOps",
        "abc123",
        "no garak executable configured",
    ):
        assert text in page


def test_log_table_is_fixed_width_and_ends_with_the_verdict():
    lines = format_table(report(leakage=[leaky_scan()], owasp=owasp(outcomes({"LLM02": 1}))))
    rows = lines[1:-1]
    assert len({len(line.rsplit("  ", 1)[0]) for line in lines[:-1]}) == 1  # result column aligned
    assert any(line.startswith("LLM02:2025 Sensitive Informati") and line.endswith("FAIL") for line in rows)
    assert any(line.startswith("leakage gold/sft") and "EMAIL x1" in line for line in rows)
    assert lines[-1].startswith("governance ds=2026-01-15 FAILED: ")
