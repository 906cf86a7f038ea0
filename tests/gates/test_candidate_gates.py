"""Both gates on real registered versions of the tiny model: adapters downloaded from MLflow, lm-eval against
the champion alias, the merged version served locally and probed, outcomes tagged on the version, decisions."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops import cli
from llmops.candidates import cli as decide_cli
from llmops.candidates import decision, lookup
from llmops.config import settings
from llmops.evaluation import gate as eval_gate
from llmops.evaluation.stats import MetricDecision
from llmops.evaluation.verdict import EvalVerdict
from llmops.governance import gate as governance_gate
from llmops.governance.leakage import LeakageScan
from llmops.governance.report import ComplianceReport, write_report
from llmops.governance.results import CategoryResult, OwaspResult
from llmops.pipelines import governance_steps, model_gate_dir
from llmops.steps import run_local
from llmops.training import registry, tracking
from tests.governance.test_runner import capped, safe, serve
from tests.training.conftest import DS


def set_alias(alias: str, version: int | None) -> None:
    client, name = tracking.client(), settings().tracking.registered_model
    if version is None:
        client.delete_registered_model_alias(name, alias)
    else:
        client.set_registered_model_alias(name, alias, str(version))


def version_tags(version: int) -> dict[str, str]:
    return next(r["tags"] for r in registry.versions() if r["version"] == version)


def final_run(version: int):
    return tracking.client().get_run(version_tags(version)["llmops.final_run_id"])


def gate_dir(lake_root: str, gate: str) -> Path:
    return Path(model_gate_dir(lake_root, gate, DS).removeprefix("file://"))


def test_resolve_downloads_the_adapter_once_and_names_the_base(registered):
    first, second = registered.versions
    set_alias("champion", None)
    candidate = lookup.resolve("challenger")
    assert (candidate.version, candidate.base) == (second, registered.base_model)
    assert candidate.adapter_dir == registered.scratch / "candidates" / candidate.run_id / "adapter"
    assert (candidate.adapter_dir / "adapter_config.json").is_file()
    assert candidate.lineage()["version"] == second and candidate.lineage()["llmops.gold.partitions"] == DS
    stamp = (candidate.adapter_dir / "adapter_config.json").stat().st_mtime_ns
    again = lookup.resolve(str(second))
    assert again.adapter_dir == candidate.adapter_dir
    assert (again.adapter_dir / "adapter_config.json").stat().st_mtime_ns == stamp  # reused, not downloaded again
    assert lookup.resolve(str(first)).run_id != candidate.run_id
    assert lookup.champion() is None
    for missing in ("99", "no-such-alias"):
        with pytest.raises(lookup.CandidateNotFound):
            lookup.resolve(missing)


def test_eval_gate_judges_the_challenger_against_the_champion_and_tags_it(registered, capsys):
    first, second = registered.versions
    set_alias("champion", first)
    code = cli.main(["gate", "eval", "--version", "challenger", "--ds", DS, "--lake-root", registered.lake_root])
    assert code in (0, 1), capsys.readouterr()
    out = gate_dir(registered.lake_root, "eval")
    verdict = json.loads((out / "verdict.json").read_text())
    status = "passed" if code == 0 else "failed"
    assert verdict["status"] == status and verdict["n_items"] == 12
    assert verdict["candidate"]["version"] == second and verdict["champion"]["version"] == first
    tags = version_tags(second)
    assert tags["llmops.gate.eval"] == status
    assert tags["llmops.gate.eval.report"] == f"file://{out / 'report.html'}"
    run = final_run(second)
    assert run.data.metrics["gate.eval.passed"] == (code == 0)
    nll = next(m for m in verdict["metrics"] if m["metric"] == "nll")
    assert run.data.metrics["gate.eval.nll.difference"] == pytest.approx(nll["difference"])
    logged = {a.path for a in tracking.client().list_artifacts(run.info.run_id, "gates/eval")}
    assert logged == {"gates/eval/verdict.json", "gates/eval/report.html"}
    printed = capsys.readouterr().out
    assert f"verdict: {out / 'verdict.json'}" in printed
    assert f"llmops gate eval --version challenger: {status} (exit code {code})" in printed


def test_eval_gate_on_the_champion_itself_compares_it_with_its_base_model(registered):
    second = registered.versions[1]
    set_alias("champion", second)
    out = registered.root / "eval-self"
    argv = ["--lake-root", registered.lake_root, "--ds", DS, "--version", "champion", "--out-dir", str(out),
            "--thresholds", '{"f1": {"floor": 1.01}}', "--limit", "4"]  # an unreachable floor: a certain failure
    assert eval_gate.main(argv) == 1
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["champion"] is None and verdict["candidate"]["version"] == second and verdict["n_items"] == 4
    assert verdict["reference_role"] == "base"
    assert verdict["reference"] == {"base": registered.base_model, "adapter": None, "version": None}
    assert "f1" in verdict["failed_metrics"]
    assert version_tags(second)["llmops.gate.eval"] == "failed"
    # a gate that cannot run (no gold test split on or before that date) is recorded as an error
    argv = ["--lake-root", registered.lake_root, "--ds", "2026-01-01", "--version", "champion", "--out-dir", str(out)]
    assert eval_gate.main(argv) == 2
    tags = version_tags(second)
    assert (tags["llmops.gate.eval"], tags["llmops.gate.eval.report"]) == ("error", "-")
    with pytest.raises(SystemExit) as usage:
        eval_gate.main([*argv[:6], "--champion-base", registered.base_model])
    assert usage.value.code == 2


def test_first_candidate_trained_on_the_gold_train_split_beats_its_base(registered):
    second = registered.versions[1]
    set_alias("champion", None)
    out = registered.root / "eval-first"
    # the configured tolerances, less the NLL ceiling of 8 nats (sized for the builtin 8,192-id tokenizer; the
    # fixture's 6-step model is at ~8.1): what is tested here is the comparison with the base
    thresholds = {m: t.model_dump() for m, t in settings().evaluation.thresholds.items()}
    thresholds["nll"]["floor"] = None
    argv = ["--lake-root", registered.lake_root, "--ds", DS, "--version", str(second), "--out-dir", str(out),
            "--thresholds", json.dumps(thresholds)]
    code = eval_gate.main(argv)
    verdict = json.loads((out / "verdict.json").read_text())
    nll = next(m for m in verdict["metrics"] if m["metric"] == "nll")
    assert (code, verdict["reference_role"], verdict["champion"]) == (0, "base", None), verdict["failed_metrics"]
    assert nll["improvement_ok"] and nll["ci_high"] < 0  # base - candidate NLL per token: all of it above zero
    assert version_tags(second)["llmops.gate.eval"] == "passed"


def test_first_candidate_whose_base_model_is_gone_is_an_error(registered, monkeypatch, tmp_path):
    second = registered.versions[1]
    set_alias("champion", None)
    real = lookup.resolve(str(second))
    gone = tmp_path / "base-removed"
    monkeypatch.setattr(lookup, "resolve", lambda version: dataclasses.replace(real, base=str(gone)))
    out = tmp_path / "eval"
    argv = ["--lake-root", registered.lake_root, "--ds", DS, "--version", str(second), "--out-dir", str(out)]
    assert eval_gate.main(argv) == 2
    assert not (out / "verdict.json").exists()
    assert version_tags(second)["llmops.gate.eval"] == "error"


def test_governance_gate_serves_the_merged_version_and_tags_it(registered, capsys):
    second = registered.versions[1]
    code = cli.main(["gate", "governance", "--version", "challenger", "--ds", DS, "--lake-root",
                     registered.lake_root])
    out = gate_dir(registered.lake_root, "governance")
    report = json.loads((out / "governance_report.json").read_text())
    assert code in (0, 1), report["problems"]
    assert report["status"] == ("passed" if code == 0 else "failed") and report["scope"] == "model"
    assert report["owasp"]["edition"] == "2025" and "OWASP Top 10 for LLM Applications 2025" in report["owasp"]["title"]
    owasp_ids = {c["owasp_id"] for c in report["owasp"]["categories"]}
    assert {"LLM01", "LLM02", "LLM05", "LLM07", "LLM10"} <= owasp_ids
    lineage = report["lineage"]
    assert lineage["version"] == second and lineage["llmops.base_model"] == registered.base_model
    assert lineage["llmops.gold.content_hash"] and lineage["registered_model"] == "support-assistant"
    assert "not verified" in report["access_control"]["check"]
    assert report["access_control"]["trigger_roles"]["llmops_train"] == ["Admin"]
    assert report["access_control"]["trigger_roles"]["llmops_governance"] == ["Admin", "Developer"]
    assert report["run"]["model"] == "candidate" and report["run"]["base_url"].startswith("http://127.0.0.1:")
    assert (out / "serving" / "model-server.log").is_file()  # served for real, logs kept beside the report
    merged = registered.scratch / "candidates" / version_tags(second)["llmops.final_run_id"] / "merged"
    assert (merged / "config.json").is_file()
    tags = version_tags(second)
    assert tags["llmops.gate.governance"] == report["status"]
    assert tags["llmops.gate.governance.report"].endswith("/governance_gate/ds=2026-11-20/governance_report.html")
    metrics = final_run(second).data.metrics
    assert set(metrics) >= {f"gate.governance.{i}.asr" for i in owasp_ids} | {"gate.governance.leakage_findings"}
    assert "llmops gate governance --version challenger" in capsys.readouterr().out


def test_governance_gate_scans_a_remote_endpoint_and_records_a_failed_start_as_an_error(registered, monkeypatch):
    second = registered.versions[1]
    argv = ["--lake-root", registered.lake_root, "--ds", DS, "--version", str(second)]
    try:
        with serve(capped(safe)) as url:  # an OpenAI-compatible endpoint standing in for the vLLM gateway
            monkeypatch.setenv("LLMOPS__SERVING__ENDPOINT_URL", url)
            settings.cache_clear()
            assert governance_gate.main([*argv, "--out-dir", str(registered.root / "remote")]) == 0
        report = json.loads((registered.root / "remote" / "governance_report.json").read_text())
        assert report["run"]["base_url"] == url and report["lineage"]["version"] == second
        assert not (registered.root / "remote" / "serving").exists()  # nothing was served locally

        monkeypatch.delenv("LLMOPS__SERVING__ENDPOINT_URL")
        monkeypatch.setenv("LLMOPS__SERVING__STARTUP_TIMEOUT_S", "0.01")  # the local server cannot start in time
        settings.cache_clear()
        out = registered.root / "no-start"
        assert governance_gate.main([*argv, "--out-dir", str(out)]) == 2
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    report = json.loads((out / "governance_report.json").read_text())
    assert report["status"] == "error" and report["lineage"]["version"] == second
    assert any("ServerStartError" in p and "was not healthy within 0.01s" in p for p in report["problems"])
    tags = version_tags(second)
    assert tags["llmops.gate.governance"] == "error"
    assert tags["llmops.gate.governance.report"] == f"file://{out / 'governance_report.html'}"


def test_daily_scan_steps_skip_a_missing_champion_and_scan_gold_alone(registered):
    set_alias("champion", None)
    scan_champion, scan_gold = governance_steps(registered.lake_root, DS)
    run_local(scan_champion)  # no champion yet: logged, exit 0 (raises StepFailed otherwise)
    assert not Path(scan_champion.report.removeprefix("file://")).exists()
    run_local(scan_gold)
    report = json.loads(Path(scan_gold.report.removeprefix("file://")).with_suffix(".json").read_text())
    assert (report["status"], report["scope"], report["owasp"]) == ("passed", "data", None)
    assert [(s["dataset"], s["total"]) for s in report["leakage"]] == [(f"gold/sft ds={DS}", 0)]
    # the same scan fails on a partition with personal data in it
    leaky = "2026-11-21"
    part = registered.root / "lake" / "gold" / "sft" / f"ds={leaky}"
    part.mkdir(parents=True)
    row = {"example_id": "x1", "instruction": "Where is my order?", "output": "Mail jane.doe@example.com for it."}
    pq.write_table(pa.Table.from_pylist([row]), part / "part-00000.parquet")
    leaky_scan = governance_steps(registered.lake_root, leaky)[1]
    assert governance_gate.main(leaky_scan.arguments()[2:]) == 1  # in-process: the command line was proven above
    report = json.loads(Path(leaky_scan.report.removeprefix("file://")).with_suffix(".json").read_text())
    assert report["failures"] == [f"gold/sft ds={leaky}: 1 personal-data findings (EMAIL x1)"]
    # without --skip-missing a missing version is an error
    argv = ["--lake-root", registered.lake_root, "--ds", DS, "--version", "champion",
            "--out-dir", str(registered.root / "x")]
    assert governance_gate.main(argv) == 2


# ---------------------------------------------------------------- decisions, on verdicts written here


def eval_verdict(version: int, f1_passes: bool) -> str:
    f1 = MetricDecision("f1", True, 12, 0.4, 0.5, -0.1, -0.2, 0.0, 0.1, None, f1_passes, None, f1_passes)
    nll = MetricDecision("nll", False, 12, 2.0, 2.1, -0.1, -0.2, 0.0, 0.1, None, True, None, True)
    return EvalVerdict(candidate={"base": "b", "adapter": "a", "version": version}, champion=None, n_items=12,
                       metrics=[f1, nll], task_versions={}, bootstrap={}).to_json()


def governance_report(version: int, llm01_successes: int) -> ComplianceReport:
    llm01 = CategoryResult("LLM01", "Prompt Injection", 0.1, 10, llm01_successes, llm01_successes / 10,
                           {"suite": {"attempts": 10, "successes": llm01_successes}}, 0)
    owasp = OwaspResult("suite", "1.0.0", "2025", [llm01], [], {"status": "not run"})
    return ComplianceReport(run={"ds": DS}, leakage=[LeakageScan("gold", "uri")], owasp=owasp,
                            lineage={"version": version})


def write_verdicts(lake_root: str, eval_json: str | None, governance: ComplianceReport | None) -> None:
    for gate in ("eval", "governance"):
        out = gate_dir(lake_root, gate)
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.iterdir():
            stale.unlink()
    if eval_json is not None:
        (gate_dir(lake_root, "eval") / "verdict.json").write_text(eval_json)
        verdict = json.loads(eval_json)
        record_outcome(verdict["candidate"]["version"], "eval", verdict["status"])
    if governance is not None:
        write_report(governance, gate_dir(lake_root, "governance"))
        record_outcome(governance.lineage["version"], "governance", governance.status)


def record_outcome(version: int, gate: str, status: str) -> None:
    """The version tag a gate run leaves (what candidates.outcomes.record_gate writes)."""
    tracking.client().set_model_version_tag(settings().tracking.registered_model, str(version),
                                            f"llmops.gate.{gate}", status)


def test_decide_passes_only_two_passing_verdicts_on_the_same_version(registered, tmp_path):
    second = registered.versions[1]
    lake_root = f"file://{tmp_path}/lake"  # the verdicts below, not the real gates' ones
    decide = ["decide", "--lake-root", lake_root, "--ds", DS, "--version", "challenger"]

    write_verdicts(lake_root, None, governance_report(second, 0))
    passed, reason = decision.decide("challenger", DS, lake_root)
    assert not passed and reason.startswith("eval gate did not run: no verdict at ")
    tags = version_tags(second)
    assert (tags["llmops.status"], tags["llmops.rejection_reason"]) == ("rejected", reason)

    write_verdicts(lake_root, eval_verdict(second, f1_passes=False), governance_report(second, 5))
    passed, reason = decision.decide(str(second), DS, lake_root)
    assert not passed
    assert "eval gate failed: f1 (CI low -0.2000 < -0.1 allowed)" in reason
    assert "governance gate failed: LLM01 Prompt Injection: attack success rate 50.0% > threshold 10.0%" in reason
    assert decide_cli.main(decide) == 1

    write_verdicts(lake_root, eval_verdict(second - 1, f1_passes=True), governance_report(second, 0))
    passed, reason = decision.decide("challenger", DS, lake_root)
    assert (passed, reason) == (False, f"eval gate judged version {second - 1}, not version {second} "
                                       f"({gate_dir(lake_root, 'eval') / 'verdict.json'})")

    # a passing verdict file left from an earlier run does not count when the gate's latest run errored
    write_verdicts(lake_root, eval_verdict(second, f1_passes=True), governance_report(second, 0))
    record_outcome(second, "eval", "error")
    passed, reason = decision.decide("challenger", DS, lake_root)
    assert not passed and reason.startswith(f"eval gate's latest outcome on version {second} is error (")

    write_verdicts(lake_root, eval_verdict(second, f1_passes=True), governance_report(second, 0))
    assert decision.decide("challenger", DS, lake_root) == (True, f"both gates passed version {second} for ds={DS}")
    tags = version_tags(second)
    assert tags["llmops.status"] == "passed" and "llmops.rejection_reason" not in tags
    assert decide_cli.main(decide) == 0
    summary = json.loads((tmp_path / "lake" / "reports" / "decide" / f"ds={DS}" / "summary.json").read_text())
    assert summary["status"] == "passed"
    assert decide_cli.main([*decide[:-1], "99"]) == 2  # no such version: an error, not a rejection
