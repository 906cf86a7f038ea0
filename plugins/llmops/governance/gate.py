"""The governance gate for one candidate: leakage scans, OWASP LLM Top 10 (2025) probes, compliance report.

    python -m llmops.governance.gate --lake-root URI --ds YYYY-MM-DD --version V [--skip-missing] [--out-dir DIR]
    python -m llmops.governance.gate --lake-root URI --ds YYYY-MM-DD --base-url URL [--model NAME] [--out-dir DIR]
    python -m llmops.governance.gate --lake-root URI --ds YYYY-MM-DD --data-only [--out-dir DIR]
        common: [--training-split PATH] [--suite YAML] [--threshold LLM01=0.1 ...]
        [--garak EXE | --garak-report PATH] [--access-control JSON] [--lineage JSON] [--work-dir DIR]

``--version`` (a registered version number or alias) merges the version's adapter into its base and serves
it locally for the scan, or scans ``serving.endpoint_url`` when that is set; the report's lineage is the
version's, its access-control section the roles declared per DAG (llmops.access), and the outcome is
recorded on the version (llmops.candidates.outcomes.record_gate). With ``--skip-missing`` a version or alias that
does not exist (no champion before the first promotion) is logged and exits 0. ``--data-only`` scans the
date's gold partition for personal data without a model. Suite, thresholds, timeout and garak
default to ``settings().governance``.

Exit code 0: passed; 1: failed (personal data in the data, or an OWASP category over its threshold, or a
failed access-control check); 2: error (a scan or the probes could not run). The report
(``governance_report.json`` and ``.html`` in ``--out-dir``, default ``<lake>/reports/governance_gate/ds=<ds>/``)
is written in every case, errors included.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops import lake, lakefs
from llmops.access import trigger_roles
from llmops.candidates import lookup, merged
from llmops.candidates.outcomes import record_gate
from llmops.config import settings
from llmops.governance import garak
from llmops.governance.leakage import LeakageScan, LeakageScanner, Record, gold_records, scan_records
from llmops.governance.leakage import training_split_records as read_training_split
from llmops.governance.report import HTML_NAME, JSON_NAME, ComplianceReport, format_table, write_report
from llmops.governance.results import OwaspResult, categorize
from llmops.governance.runner import run_suite
from llmops.governance.suite import DEFAULT_SUITE, Suite, load_suite
from llmops.governance.target import ChatTarget, ClientChatTarget
from llmops.logs import setup_step_logging
from llmops.pipelines import model_gate_dir
from llmops.publish import publish_partition
from llmops.serving.client import OpenAIClient
from llmops.serving.server import serve_model
from llmops.steps import guarded, lake_step_parser

log = logging.getLogger("llmops.governance.gate")


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
    thresholds: dict[str, float] = field(default_factory=dict)  # over the suite's
    timeout_s: float = 120.0
    garak_executable: str | None = None
    garak_report: str | None = None  # an existing report to ingest instead of running garak
    access_control: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)
    # the lake folder the reports are uploaded to when the lake is not local (out_dir is then a local build folder)
    upload_to: str = ""

    @property
    def reports(self) -> str:
        """Where the reports end up: the lake folder, or out_dir."""
        return self.upload_to or str(self.out_dir)


ReadRecords = Callable[[], tuple[str, list[Record]]]


def _scan(name: str, read: ReadRecords, scanner: LeakageScanner) -> tuple[LeakageScan, list[Record]]:
    try:
        uri, records = read()
        if not records:  # an emptied partition must not pass as "no personal data found"
            raise ValueError(f"no records in {uri}: nothing to scan")
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
        outcomes = run_suite(suite, target, scanner, system_prompt=system_prompt)
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
            with ClientChatTarget.connect(opts.base_url, opts.model, opts.timeout_s, temperature) as http:
                report.owasp = run_owasp(opts, suite, http, scanner, system_prompt)
    return publish(report, opts)


def publish(report: ComplianceReport, opts: GateOptions) -> ComplianceReport:
    """Write the report into ``out_dir`` (uploaded to the lake when it is not local) and log its table, the
    verdict line at ERROR unless it passed."""
    paths = write_report(report, opts.out_dir)
    if opts.upload_to:
        publish_partition(str(opts.out_dir), opts.upload_to)
    table = format_table(report)
    for line in table[:-1]:
        log.info(line)
    (log.info if report.status == "passed" else log.error)(table[-1])
    log.info("report: %s", paths)
    return report


def run_data_scan(opts: GateOptions) -> ComplianceReport:
    """The leakage scan of the date's gold partition alone: no model, no probes (a ``data``-scope report)."""
    report = ComplianceReport(run={"ds": opts.ds, "lake_root": opts.lake_root}, scope="data")
    try:
        scanner = LeakageScanner(opts.work_dir)
    except Exception as exc:  # noqa: BLE001 - still write an error report
        log.exception("leakage scanner could not start")
        report.errors.append(f"{type(exc).__name__}: {exc}")
    else:
        gold = _scan(f"gold/sft ds={opts.ds}", lambda: gold_records(opts.lake_root, opts.ds), scanner)[0]
        report.leakage.append(gold)
    return publish(report, opts)


@contextlib.contextmanager
def candidate_target(
    candidate: lookup.Candidate, timeout_s: float, temperature: float, log_dir: Path
) -> Iterator[tuple[str, ChatTarget]]:
    """The candidate's base URL and chat target: ``serving.endpoint_url`` when set (the kubernetes gateway in
    front of vLLM), else its merged model served locally for the duration of the block."""
    cfg = settings().serving
    with contextlib.ExitStack() as stack:
        base_url = cfg.endpoint_url
        if not base_url:
            endpoint = stack.enter_context(serve_model(
                merged.merged_model(candidate), model_name=cfg.model_name, startup_timeout_s=cfg.startup_timeout_s,
                max_tokens=cfg.max_tokens, max_prompt_chars=cfg.max_prompt_chars,
                request_timeout_s=cfg.request_timeout_s, log_dir=log_dir, stop_grace_s=cfg.stop_grace_s,
            ))  # fmt: skip
            base_url = endpoint.base_url
        client = stack.enter_context(OpenAIClient(base_url, cfg.model_name, timeout_s=timeout_s))
        yield base_url, ClientChatTarget(client, temperature)


def declared_access() -> dict[str, Any]:
    return {
        "check": "declared, not verified: the DAGs' access_control in llmops.access; no live Airflow was asked",
        "trigger_roles": trigger_roles(),
    }


def report_metrics(report: ComplianceReport) -> dict[str, float]:
    """What the registry run keeps of a report: leakage findings and each OWASP category's attack success rate."""
    values = {"leakage_findings": float(sum(s.total for s in report.leakage))}
    if report.owasp is not None:
        values.update({f"{c.owasp_id}.asr": c.asr for c in report.owasp.categories})
    return values


def scan_version(version: str, opts: GateOptions, skip_missing: bool = False) -> int:
    """Scan a registered version as served, record the outcome on it; the report is written in every case."""
    try:
        candidate = lookup.resolve(version)
    except lookup.CandidateNotFound as exc:
        if not skip_missing:
            raise
        log.info("%s: nothing to scan", exc)
        return 0
    opts = dataclasses.replace(
        opts, model=settings().serving.model_name, lineage={**candidate.lineage(), **opts.lineage},
        access_control=opts.access_control or declared_access(),
    )  # fmt: skip
    report = None
    try:
        temperature = float(load_suite(opts.suite).defaults["temperature"])
        with candidate_target(candidate, opts.timeout_s, temperature, opts.out_dir / "serving") as (url, target):
            report = run_gate(dataclasses.replace(opts, base_url=url), target)
    except Exception as exc:  # noqa: BLE001 - merge, start or stop failed: an error verdict, recorded
        log.exception("governance gate of version %d could not run", candidate.version)
        if report is None:
            run = {"ds": opts.ds, "lake_root": opts.lake_root, "model": opts.model}
            report = ComplianceReport(run=run, access_control=opts.access_control, lineage=opts.lineage)
        report.errors.append(f"serving version {candidate.version}: {type(exc).__name__}: {exc}")
        publish(report, opts)
    record_gate(
        candidate,
        "governance",
        report.status,
        lake.join(opts.reports, JSON_NAME),
        lake.join(opts.reports, HTML_NAME),
        report_metrics(report),
    )
    print(
        f"report: {lake.shown(lake.join(opts.reports, HTML_NAME))}\n"
        f"verdict: {lake.shown(lake.join(opts.reports, JSON_NAME))}"
    )
    return report.exit_code


def _json_arg(value: str) -> dict[str, Any]:
    """Inline JSON (``{...}``) or the path of a JSON file; a bad one is a usage error (exit 2)."""
    try:
        return json.loads(value if value.lstrip().startswith("{") else Path(value).read_text())
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"not JSON nor a readable JSON file: {exc}") from None


def _threshold(value: str) -> tuple[str, float]:
    owasp_id, _, rate = value.partition("=")
    return owasp_id.strip(), float(rate)


def parser() -> argparse.ArgumentParser:
    gov = settings().governance
    p = lake_step_parser("python -m llmops.governance.gate", __doc__.split("\n\n")[0])
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--base-url", help="scan the model at this OpenAI-compatible URL, e.g. http://127.0.0.1:8000/v1")
    what.add_argument(
        "--version",
        help="scan this registered version or alias, served locally (or at "
        "serving.endpoint_url when set); the outcome is recorded on the version",
    )
    what.add_argument("--data-only", action="store_true", help="scan the date's gold partition alone, no model")
    p.add_argument(
        "--skip-missing",
        action="store_true",
        help="with --version: exit 0 with a log line when no version has it (no champion yet)",
    )
    p.add_argument("--out-dir", help="folder or lake URI the reports go to (default: the lake's reports layer)")
    p.add_argument("--training-split", help="training examples as given to the trainer (Parquet or JSONL)")
    p.add_argument("--model", help="model name sent in requests with --base-url (omitted when not given)")
    p.add_argument(
        "--suite", type=Path, default=Path(gov.suite) if gov.suite else DEFAULT_SUITE, help="probe suite YAML"
    )
    p.add_argument(
        "--threshold",
        type=_threshold,
        action="append",
        default=[],
        metavar="LLM01=0.1",
        help="override a category's attack-success-rate threshold (repeatable; over governance.thresholds)",
    )
    p.add_argument("--timeout-s", type=float, default=gov.request_timeout_s, help="per-request timeout")
    garak_source = p.add_mutually_exclusive_group()
    garak_source.add_argument(
        "--garak",
        dest="garak_executable",
        default=gov.garak_executable or None,
        help="garak executable (its own environment)",
    )
    garak_source.add_argument("--garak-report", help="ingest this garak .report.jsonl instead of running garak")
    p.add_argument("--access-control", type=_json_arg, default={}, help="RBAC check result: JSON or file")
    p.add_argument("--lineage", type=_json_arg, default={}, help="candidate lineage tags: JSON or file")
    p.add_argument("--work-dir", type=Path, help="scanner cache (default: governance.work_dir)")
    return p


def default_out_dir(lake_root: str, ds: str) -> str:
    return model_gate_dir(lake_root, "governance", ds)


def gate(args: argparse.Namespace) -> int:
    cfg = settings()
    lake_dir = args.out_dir or default_out_dir(args.lake_root, args.ds)
    upload_to = "" if lake.is_local(lake_dir) else lake_dir
    with lakefs.build_folder(lake_dir, cfg.paths.scratch_dir) as out_dir:  # a staging one is removed at the end
        return _gate(
            args,
            GateOptions(
                lake_root=args.lake_root,
                ds=args.ds,
                base_url=args.base_url or "",
                out_dir=out_dir,
                upload_to=upload_to,
                work_dir=args.work_dir or Path(cfg.governance.work_dir or Path(cfg.paths.scratch_dir) / "governance"),
                training_split=args.training_split,
                model=args.model,
                suite=args.suite,
                thresholds={**cfg.governance.thresholds, **dict(args.threshold)},
                timeout_s=args.timeout_s,
                garak_executable=args.garak_executable,
                garak_report=args.garak_report,
                access_control=args.access_control,
                lineage=args.lineage,
            ),
        )


def _gate(args: argparse.Namespace, opts: GateOptions) -> int:
    if args.data_only:
        return run_data_scan(opts).exit_code
    if args.version:
        return scan_version(args.version, opts, args.skip_missing)
    return run_gate(opts).exit_code


def main(argv: list[str] | None = None) -> int:
    setup_step_logging()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per probe request otherwise
    # settings are read while parsing: a configuration error is an error (2) too, not a failed gate
    return guarded("governance gate", lambda: gate(parser().parse_args(argv)))  # bad arguments exit 2 there


if __name__ == "__main__":
    sys.exit(main())
