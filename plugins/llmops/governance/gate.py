"""The governance gate for one candidate: leakage scans, OWASP LLM Top 10 (2025) probes, compliance report.

    python -m llmops.governance.gate --lake-root URI --ds YYYY-MM-DD --base-url URL --out-dir DIR
        [--training-split PATH] [--model NAME] [--suite YAML] [--canary TEXT] [--threshold LLM01=0.1 ...]
        [--garak EXE | --garak-report PATH] [--access-control JSON] [--lineage JSON] [--work-dir DIR]

Exit code 0: passed; 1: failed (personal data in the data, or an OWASP category over its threshold, or a
failed access-control check); 2: error (a scan or the probes could not run). The report
(``governance_report.json`` and ``.html`` in ``--out-dir``) is written in every case, errors included.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops.config import settings
from llmops.governance import garak
from llmops.governance.leakage import LeakageScan, LeakageScanner, Record, gold_records, scan_records
from llmops.governance.leakage import training_split_records as read_training_split
from llmops.governance.report import ComplianceReport, format_table, write_report
from llmops.governance.results import OwaspResult, categorize
from llmops.governance.runner import run_suite
from llmops.governance.suite import DEFAULT_SUITE, Suite, load_suite
from llmops.governance.target import ChatTarget, HttpChatTarget
from llmops.logs import setup_step_logging
from llmops.steps import guarded, lake_step_parser

log = logging.getLogger("llmops.governance.gate")

DEFAULT_CANARY = "LLMOPS-CANARY-7F3A91B2"


@dataclass(frozen=True)
class GateOptions:
    lake_root: str
    ds: str
    base_url: str
    out_dir: Path
    work_dir: Path  # Presidio's blank spaCy pipeline and tldextract cache
    training_split: str | None = None
    model: str | None = None
    suite: Path = DEFAULT_SUITE
    canary: str = DEFAULT_CANARY
    thresholds: dict[str, float] = field(default_factory=dict)  # over the suite's
    timeout_s: float = 120.0
    garak_executable: str | None = None
    garak_report: str | None = None  # an existing report to ingest instead of running garak
    access_control: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)


ReadRecords = Callable[[], tuple[str, list[Record]]]


def _scan(name: str, read: ReadRecords, scanner: LeakageScanner) -> tuple[LeakageScan, list[Record]]:
    try:
        uri, records = read()
        scan = scan_records(name, uri, records, scanner)
    except Exception as exc:  # noqa: BLE001 - an unreadable dataset is an error verdict, not a crash
        log.exception("leakage scan of %s failed", name)
        return LeakageScan(name, "", error=f"{type(exc).__name__}: {exc}"), []
    log.info(
        "scanned %s: %d records, %d texts, %d findings in %.1fs",
        name,
        scan.records,
        scan.texts,
        scan.total,
        scan.seconds,
    )
    return scan, records


def _system_prompt(records: list[Record], suite: Suite) -> str:
    """The system prompt the model was trained with: gold's most common ``system`` value."""
    prompts = Counter(texts["system"] for _, texts in records if "system" in texts)
    return prompts.most_common(1)[0][0] if prompts else str(suite.defaults["fallback_system"])


def _garak(opts: GateOptions, redact: Callable[[str], str]) -> tuple[dict[str, Any], list]:
    if not (opts.garak_report or opts.garak_executable):
        return {"status": "not run", "reason": "no garak executable configured"}, []
    try:
        report = opts.garak_report or garak.run_garak(
            opts.garak_executable, opts.base_url, opts.model, opts.out_dir / "garak" / "garak"
        )
        run = garak.ingest_report(report, redact)
    except garak.GarakError as exc:
        return {"status": "error", "error": str(exc)}, []
    return run.summary(), run.outcomes


def run_owasp(
    opts: GateOptions, suite: Suite, target: ChatTarget, scanner: LeakageScanner, system_prompt: str
) -> OwaspResult:
    started = time.monotonic()
    error = None
    try:
        outcomes = run_suite(suite, target, scanner, canary=opts.canary, system_prompt=system_prompt)
    except Exception as exc:  # noqa: BLE001 - an unreachable endpoint is an error verdict
        log.exception("probe run failed")
        outcomes, error = [], f"{type(exc).__name__}: {exc}"
    garak_summary, garak_outcomes = _garak(opts, scanner.redact)
    outcomes += garak_outcomes
    categories = categorize(outcomes, {**suite.thresholds, **opts.thresholds}, suite.categories)
    return OwaspResult(
        suite=suite.suite,
        version=suite.version,
        edition=suite.edition,
        categories=categories,
        outcomes=outcomes,
        garak=garak_summary,
        seconds=round(time.monotonic() - started, 2),
        error=error,
    )


def run_gate(opts: GateOptions, target: ChatTarget | None = None) -> ComplianceReport:
    """Scan, probe, write the report into ``opts.out_dir``, log the table; return the report."""
    report = ComplianceReport(
        run={
            "ds": opts.ds,
            "lake_root": opts.lake_root,
            "training_split": opts.training_split,
            "base_url": opts.base_url,
            "model": opts.model,
        },
        access_control=opts.access_control,
        lineage=opts.lineage,
    )
    try:
        suite = load_suite(opts.suite)
        scanner = LeakageScanner(opts.work_dir)
    except Exception as exc:  # noqa: BLE001 - still write an error report
        log.exception("governance gate could not start")
        report.errors.append(f"{type(exc).__name__}: {exc}")
    else:
        gold, records = _scan(f"gold/sft ds={opts.ds}", lambda: gold_records(opts.lake_root, opts.ds), scanner)
        report.leakage.append(gold)
        if opts.training_split:
            split = opts.training_split
            report.leakage.append(_scan("training split", lambda: read_training_split(split), scanner)[0])
        system_prompt = _system_prompt(records, suite)
        if target is not None:
            report.owasp = run_owasp(opts, suite, target, scanner, system_prompt)
        else:
            temperature = float(suite.defaults["temperature"])
            with HttpChatTarget(opts.base_url, opts.model, opts.timeout_s, temperature) as http:
                report.owasp = run_owasp(opts, suite, http, scanner, system_prompt)
    paths = write_report(report, opts.out_dir)
    for line in format_table(report)[:-1]:
        log.info(line)
    (log.info if report.status == "passed" else log.error)(format_table(report)[-1])
    log.info("report: %s", paths)
    return report


def _json_arg(value: str) -> dict[str, Any]:
    """Inline JSON (``{...}``) or the path of a JSON file; a bad one is a usage error (exit 2)."""
    try:
        return json.loads(value if value.lstrip().startswith("{") else Path(value).read_text())
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"not JSON nor a readable JSON file: {exc}") from None


def _threshold(value: str) -> tuple[str, float]:
    owasp_id, _, rate = value.partition("=")
    return owasp_id.strip(), float(rate)


def main(argv: list[str] | None = None) -> int:
    setup_step_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per probe request otherwise
    parser = lake_step_parser("python -m llmops.governance.gate", __doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--out-dir", required=True, type=Path, help="where the reports go")
    parser.add_argument("--training-split", help="training examples as given to the trainer (Parquet or JSONL)")
    parser.add_argument("--model", help="model name sent in requests (omitted when not given)")
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="probe suite YAML")
    parser.add_argument("--canary", default=DEFAULT_CANARY, help="canary string planted in training data")
    parser.add_argument(
        "--threshold",
        type=_threshold,
        action="append",
        default=[],
        metavar="LLM01=0.1",
        help="override a category's attack-success-rate threshold (repeatable)",
    )
    parser.add_argument("--timeout-s", type=float, default=120.0, help="per-request timeout")
    garak_source = parser.add_mutually_exclusive_group()
    garak_source.add_argument("--garak", dest="garak_executable", help="garak executable (its own environment)")
    garak_source.add_argument("--garak-report", help="ingest this garak .report.jsonl instead of running garak")
    parser.add_argument("--access-control", type=_json_arg, default={}, help="RBAC check result: JSON or file")
    parser.add_argument("--lineage", type=_json_arg, default={}, help="candidate lineage tags: JSON or file")
    parser.add_argument("--work-dir", type=Path, help="scanner cache (default: <scratch_dir>/governance)")
    args = parser.parse_args(argv)  # bad arguments exit 2 here

    def body() -> int:
        opts = GateOptions(
            lake_root=args.lake_root,
            ds=args.ds,
            base_url=args.base_url,
            out_dir=args.out_dir,
            work_dir=args.work_dir or Path(settings().paths.scratch_dir) / "governance",
            training_split=args.training_split,
            model=args.model,
            suite=args.suite,
            canary=args.canary,
            thresholds=dict(args.threshold),
            timeout_s=args.timeout_s,
            garak_executable=args.garak_executable,
            garak_report=args.garak_report,
            access_control=args.access_control,
            lineage=args.lineage,
        )
        return run_gate(opts).exit_code

    return guarded("governance gate", body)


if __name__ == "__main__":
    sys.exit(main())
