"""Registered model versions as the gates see them: what to load, where outcomes go, what was decided.

A gate names its candidate by version number or alias (``challenger``, ``champion``). :func:`resolve` finds
the version and downloads its adapter once into a local cache; :func:`record_gate` puts a gate's outcome on
the version (tags) and on its final run (metrics, verdict and report files); :func:`decide` reads both gates'
verdicts for a date and marks the version ``passed`` or ``rejected``, with the reason. Tags are what the
registry UI and later stages read; the verdict files stay the evidence.

CLI: ``python -m llmops.candidates decide --lake-root URI --ds YYYY-MM-DD --version V``; exit 0: passed,
1: rejected, 2: error (no such version, registry unreachable).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmops import lake
from llmops.config import settings
from llmops.logs import setup_step_logging
from llmops.pipelines import model_gate_dir
from llmops.steps import EXIT_FAILED, guarded, lake_step_parser
from llmops.training import registry, tracking

log = logging.getLogger(__name__)

GATES = ("eval", "governance")
VERDICT_FILES = {"eval": "verdict.json", "governance": "governance_report.json"}
STATUS_TAG, REASON_TAG = "llmops.status", "llmops.rejection_reason"
_MAX_TAG_CHARS = 4000  # MLflow caps model version tag values at 5,000
_METRIC_UNSAFE = re.compile(r"[^\w\-. :/]")  # MLflow refuses other characters in metric names (lm-eval's commas)


class CandidateNotFound(LookupError):
    """No version has that number or alias (before the first promotion there is no champion)."""


@dataclass(frozen=True)
class Candidate:
    model: str  # the registered model's name
    version: int
    run_id: str  # the final training run the version was registered from
    base: str  # the base model: a local directory or a hub id
    base_revision: str
    adapter_dir: Path  # local copy of the version's adapter
    tags: dict[str, str]  # the version's lineage tags

    @property
    def final_run_id(self) -> str:
        return self.tags.get("llmops.final_run_id", self.run_id)

    def lineage(self) -> dict[str, Any]:
        """The registry coordinates and every lineage tag, for reports."""
        return {"registered_model": self.model, "version": self.version, "run_id": self.run_id, **self.tags}


def _version_row(ref: str) -> dict:
    """``registry.versions()``'s row for a version number or an alias."""
    rows = registry.versions()
    if ref.isdigit():
        row = next((r for r in rows if r["version"] == int(ref)), None)
    else:
        row = next((r for r in rows if ref in r["aliases"]), None)
    if row is None:
        what = f"version {ref}" if ref.isdigit() else f"a version with alias {ref!r}"
        raise CandidateNotFound(f"registered model {settings().tracking.registered_model!r} has no {what}")
    return row


def _download_adapter(source: str, run_id: str) -> Path:
    """The adapter behind ``source`` (``runs:/<run_id>/<path>``), downloaded once per run into the scratch cache.

    The download lands in a private folder and is renamed into place, so a concurrent gate or a killed
    download never leaves a half-copied adapter where the next one looks.
    """
    prefix = f"runs:/{run_id}/"
    if not source.startswith(prefix):
        raise ValueError(f"version source {source!r} is not an artifact of run {run_id}")
    artifact = source[len(prefix):]
    target = Path(settings().paths.scratch_dir) / "candidates" / run_id / artifact
    if (target / "adapter_config.json").is_file():
        return target
    import mlflow.artifacts  # noqa: PLC0415 - heavy

    staging = target.parent.with_name(f"_{run_id}.{uuid.uuid4().hex[:12]}")
    try:
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact, dst_path=str(staging),
                                            tracking_uri=settings().tracking.uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging / artifact, target)
        except OSError:
            if not (target / "adapter_config.json").is_file():  # not a concurrent download that won
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("downloaded the adapter of run %s to %s", run_id, target)
    return target


def resolve(version_or_alias: str) -> Candidate:
    """The version with that number or alias, its adapter available locally."""
    row = _version_row(version_or_alias)
    tags = row["tags"]
    return Candidate(
        model=settings().tracking.registered_model, version=row["version"], run_id=row["run_id"],
        base=tags["llmops.base_model"], base_revision=tags.get("llmops.base_model_revision", ""),
        adapter_dir=_download_adapter(row["source"], row["run_id"]), tags=tags,
    )


def champion() -> Candidate | None:
    """The version users are served (alias ``champion``), or None before the first promotion."""
    try:
        return resolve(registry.CHAMPION)
    except CandidateNotFound:
        return None


def merged_model(candidate: Candidate) -> Path:
    """The candidate's adapter folded into its base, cached beside the adapter (for servers without LoRA)."""
    from llmops.serving.merge import merge_adapter  # noqa: PLC0415 - torch

    base = Path(candidate.base)
    if not base.is_dir():  # a hub id: its snapshot in the local Hugging Face cache
        from huggingface_hub import snapshot_download  # noqa: PLC0415

        base = Path(snapshot_download(candidate.base, revision=candidate.base_revision or None))
    return merge_adapter(base, candidate.adapter_dir, candidate.adapter_dir.parent / "merged")


def record_gate(
    candidate: Candidate,
    gate: str,
    status: str,
    verdict_path: Path | None,
    report_path: Path | None,
    metrics: dict[str, float | None],
) -> None:
    """Tag the version ``llmops.gate.<gate>`` = status (and ``.report`` = the report's URI, ``-`` without
    one); log ``metrics`` (None values skipped) and the verdict and report files to the final run."""
    if gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}; expected one of {GATES}")
    client = tracking.client()
    tag, version = f"llmops.gate.{gate}", str(candidate.version)
    client.set_model_version_tag(candidate.model, version, tag, status)
    report_uri = f"file://{Path(report_path).resolve()}" if report_path else "-"  # lake URIs keep ds= as is
    client.set_model_version_tag(candidate.model, version, f"{tag}.report", report_uri)
    values = {_METRIC_UNSAFE.sub("_", f"gate.{gate}.{k}"): float(v)
              for k, v in {**metrics, "passed": status == "passed"}.items() if v is not None}
    tracking.log_metrics(client, candidate.final_run_id, 0, values)
    files = [p for p in (verdict_path, report_path) if p is not None and Path(p).is_file()]
    tracking.log_files(client, candidate.final_run_id, files, f"gates/{gate}")
    log.info("%s gate %s for version %s recorded (report: %s)", gate, status, version, report_uri)


def _judged_version(gate: str, verdict: dict) -> int | None:
    """The version a verdict is about: the eval verdict's candidate, the governance report's lineage."""
    about = verdict.get("candidate" if gate == "eval" else "lineage") or {}
    return about.get("version")


def _failure_details(gate: str, verdict: dict) -> str:
    if gate == "eval":
        from llmops.evaluation.stats import MetricDecision  # noqa: PLC0415 - numpy
        from llmops.evaluation.verdict import reason  # noqa: PLC0415

        failed = [MetricDecision(**m) for m in verdict.get("metrics", []) if not m["passed"]]
        return "; ".join(f"{d.metric} ({reason(d)})" for d in failed) or "no metric failed, status says otherwise"
    return "; ".join(verdict.get("problems") or verdict.get("failures") or ["no reason given"])


def _gate_problem(gate: str, path: Path, version: int) -> str | None:
    """Why ``gate``'s verdict at ``path`` does not pass ``version``; None when it does."""
    try:
        verdict = json.loads(path.read_text())
    except FileNotFoundError:
        return f"{gate} gate did not run: no verdict at {path}"
    except (OSError, ValueError) as exc:
        return f"{gate} gate verdict at {path} is unreadable: {exc}"
    judged = _judged_version(gate, verdict)
    if judged != version:
        what = "a model without a registry version" if judged is None else f"version {judged}"
        return f"{gate} gate judged {what}, not version {version} ({path})"
    status = verdict.get("status")
    if status == "passed":
        return None
    outcome = "errored" if status == "error" else "failed"
    return f"{gate} gate {outcome}: {_failure_details(gate, verdict)}"


def decide(version_or_alias: str, ds: str, lake_root: str) -> tuple[bool, str]:
    """Pass the version only when both gates' verdicts for ``ds`` exist, judge this version and passed.

    Tags the version ``llmops.status`` = passed | rejected and, when rejected, ``llmops.rejection_reason``
    (every failing gate with its failing metrics or OWASP categories, or why it has no verdict).
    """
    row = _version_row(version_or_alias)
    version = row["version"]
    problems = []
    for gate in GATES:
        path = lake.local_path(model_gate_dir(lake_root, gate, lake.check_ds(ds))) / VERDICT_FILES[gate]
        problem = _gate_problem(gate, path, version)
        latest = row["tags"].get(f"llmops.gate.{gate}")
        if problem is None and latest != "passed":  # the verdict file is older than the gate's last outcome
            problem = f"{gate} gate's latest outcome on version {version} is {latest or 'unrecorded'} ({path} is stale)"
        if problem:
            problems.append(problem)
    passed = not problems
    reason = f"both gates passed version {version} for ds={ds}" if passed else " | ".join(problems)
    client = tracking.client()
    name = settings().tracking.registered_model
    client.set_model_version_tag(name, str(version), STATUS_TAG, "passed" if passed else "rejected")
    if not passed:
        client.set_model_version_tag(name, str(version), REASON_TAG, reason[:_MAX_TAG_CHARS])
    elif REASON_TAG in row["tags"]:  # a rerun that passes clears an earlier rejection
        client.delete_model_version_tag(name, str(version), REASON_TAG)
    return passed, reason


def main(argv: list[str] | None = None) -> int:
    parser = lake_step_parser("python -m llmops.candidates", __doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["decide"])
    parser.add_argument("--version", required=True, help="version number or alias (challenger, champion)")
    args = parser.parse_args(argv)
    setup_step_logging()

    def body() -> int:
        passed, reason = decide(args.version, args.ds, args.lake_root)
        summary = {"version": args.version, "status": "passed" if passed else "rejected", "reason": reason}
        uri = lake.write_summary(args.lake_root, "decide", args.ds, summary)
        (log.info if passed else log.error)("%s %s: %s", args.version, summary["status"].upper(), reason)
        print(f"decision: {uri}")
        return 0 if passed else EXIT_FAILED

    return guarded("decide", body)


if __name__ == "__main__":
    sys.exit(main())
