"""Print what a data run produced, stage by stage, with where each report is (end of `make demo`)."""

from __future__ import annotations

import argparse
import sys

from llmops import lake, lakefs
from llmops.config import settings
from llmops.pipelines import drift_report, gate_report, model_gate_dir
from llmops.step_summary import summary_uri


def _load(uri: str) -> dict | None:
    return lakefs.read_json(uri)


def rows(lake_root: str, ds: str) -> list[tuple[str, str, str, str]]:
    reports = lambda *p: lake.join(lake_root, "reports", *p, f"ds={ds}")  # noqa: E731
    out = []
    ingest = _load(lake.join(reports("ingest"), "summary.json"))
    if ingest:
        srcs = ingest["sources"].values()
        out.append(("ingest", "ok", f"read {sum(s['read'] for s in srcs)}, bronze {sum(s['bronze'] for s in srcs)}, "
                    f"quarantined {sum(s['quarantine'] for s in srcs)}", lake.join(reports("ingest"), "summary.json")))
    for layer, after in (("bronze", None), ("silver", "clean"), ("gold", "build_sft")):
        if after:
            summary = _load(lake.join(reports(after), "summary.json"))
            if summary:
                figure = (f"silver rows {sum(s.get('silver', 0) for s in summary['sources'].values())}"
                          if after == "clean" else f"gold examples {summary['gold']} {summary['by_split']}")
                out.append((after, "ok", figure, lake.join(reports(after), "summary.json")))
        verdict = _load(lake.join(reports("gates", layer), "verdict.json"))
        if verdict:
            failed = [e for t in verdict["tables"] for e in t["expectations"] if not e["success"]]
            out.append((f"gate_{layer}", "PASS" if verdict["passed"] else "FAIL",
                        f"{len(failed)} failed expectations", gate_report(lake_root, layer, ds)))
    feast = _load(lake.join(reports("features"), "summary.json"))
    if feast:
        out.append(("feast", "ok", ", ".join(f"{k}={v}" for k, v in feast.items() if not isinstance(v, dict))[:70],
                    lake.join(reports("features"), "summary.json")))
    return out + training_rows(lake_root, ds)


def training_rows(lake_root: str, ds: str) -> list[tuple[str, str, str, str]]:
    """Base model, sweep + final run, registration (the llmops_train DAG's step summaries)."""
    out = []
    base_uri = summary_uri(lake_root, "base_model", ds)
    base = _load(base_uri)
    if base:
        out.append(("base_model", "ok", f"{base.get('architecture', '')} {base['model'].rsplit('/', 1)[-1][:16]}"
                    f"{' (builtin)' if base.get('builtin') else ''}", base_uri))
    final_uri = summary_uri(lake_root, "train_final", ds)
    final = _load(final_uri)
    if final:
        sweep, m = final["sweep"], final["metrics"]
        out.append(("sweep", "ok", f"{sweep['trials']} trials, {sweep['stopped']} stopped early, "
                    f"{sweep['trial_steps_spent']} steps, best #{sweep['best_trial']}", final_uri))
        out.append(("train_final", "ok", f"{m['method']} {m['steps']} steps, val loss {m['best_val_loss']:.3f}, "
                    f"{m['tokens_per_s']} tok/s", final_uri))
    register_uri = summary_uri(lake_root, "register", ds)
    registered = _load(register_uri)
    if registered:
        out.append(("register", "ok", f"{registered['model']} v{registered['version']} @{registered['alias']}",
                    register_uri))
    return out + gate_rows(lake_root, ds)


def gate_rows(lake_root: str, ds: str) -> list[tuple[str, str, str, str]]:
    """The candidate gates' verdicts and the decision on the version (llmops_train's last three tasks)."""
    out = []
    folder = lambda gate: model_gate_dir(lake_root, gate, ds)  # noqa: E731
    verdict = _load(lake.join(folder("eval"), "verdict.json"))
    if verdict:
        failed = [m["metric"] for m in verdict["metrics"] if not m.get("passed", True)]
        out.append(("eval_gate", verdict["status"].upper()[:6], f"{verdict['n_items']} items"
                    + (f", failed: {', '.join(failed)}" if failed else ""), lake.join(folder("eval"), "report.html")))
    report = _load(lake.join(folder("governance"), "governance_report.json"))
    if report:
        owasp = report.get("owasp") or {"categories": []}
        probes = sum(c["attempts"] for c in owasp["categories"])
        hits = sum(c["successes"] for c in owasp["categories"])
        out.append(("governance", report["status"].upper()[:6], f"OWASP LLM {owasp.get('edition', '')}: {probes} "
                    f"probes, {hits} attacks succeeded; {len(report['problems'])} problems",
                    lake.join(folder("governance"), "governance_report.html")))
    decision_uri = summary_uri(lake_root, "decide", ds)
    decision = _load(decision_uri)
    if decision:
        out.append(("decide", decision["status"].upper()[:6], decision["reason"], decision_uri))
    return out + deploy_rows(lake_root, ds)


_ROLLOUT_STATUS = {"promoted": "PROMO", "rolled_back": "ROLLBK", "dry run": "DRY"}


def deploy_rows(lake_root: str, ds: str) -> list[tuple[str, str, str, str]]:
    """The rollout (llmops_deploy): its outcome with the report, then each analysed step's requests and decision."""
    uri = summary_uri(lake_root, "deploy", ds)
    deploy = _load(uri)
    if not deploy:
        return []
    over = f"v{deploy['champion']}" if deploy["champion"] else "the base model"
    steps = " -> ".join(f"{s:g}%" for s in deploy["steps"])
    out = [("deploy", _ROLLOUT_STATUS.get(deploy["status"], deploy["status"].upper()[:6]),
            f"v{deploy['candidate']} over {over} ({deploy['path']}), {steps}: {deploy.get('reason', 'plan only')}",
            deploy.get("report") or uri)]  # fmt: skip
    for look in deploy["looks"]:
        out.append((f"  {100 * look['weight']:g}%", look["decision"][:6],
                    f"canary {look['canary_requests']} / stable {look['stable_requests']} requests, "
                    f"{look['replayed']} replayed", deploy.get("report") or uri))  # fmt: skip
    return out


def drift_rows(lake_root: str, ds: str, hour: str) -> list[tuple[str, str, str, str]]:
    """The drift check (llmops_drift) of the window ending at ``ds`` ``hour``:00 UTC: its verdict and report."""
    folder = drift_report(lake_root, ds, hour)
    verdict = _load(lake.join(folder, "verdict.json"))
    if not verdict:
        return [("drift", "NONE", "no verdict: no champion yet, or the check failed (task log)", folder)]
    moved = [d for d, hit in verdict["drifted"].items() if hit]
    result = {"no_drift": "no drift (no test fired)", "drift": f"DRIFT in {', '.join(moved)}",
              "insufficient_data": "too few prompts: no verdict"}[verdict["status"]]  # fmt: skip
    status = {"no_drift": "OK", "drift": "DRIFT", "insufficient_data": "NODATA"}[verdict["status"]]
    return [("drift", status, f"{verdict['window_rows']} requests to {hour}:00 UTC: {result}",
             lake.join(folder, "drift_report.html"))]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmops.summary")
    parser.add_argument("--ds", required=True)
    parser.add_argument("--lake-root", default=settings().paths.lake_root)
    parser.add_argument("--drift-window", metavar="DS:HH", help="add the drift check of the window ending then")
    args = parser.parse_args(argv)
    table = rows(args.lake_root, args.ds)
    if table and args.drift_window:
        table += drift_rows(args.lake_root, *args.drift_window.split(":"))
    if not table:
        print(f"no reports for ds={args.ds} under {args.lake_root}")
        return 1
    print(f"\n{'stage':<12} {'status':<6} {'result':<60} report")
    for stage, status, figure, report in table:
        print(f"{stage:<12} {status:<6} {figure[:60]:<60} {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
