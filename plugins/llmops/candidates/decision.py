"""The decision on a version: both gates' verdicts for a date read back, the version tagged passed or rejected.

Tags ``llmops.status`` = passed | rejected and, when rejected, ``llmops.rejection_reason``. A missing,
unreadable, stale or foreign verdict is a rejection with its reason: nothing passes by default.
"""

from __future__ import annotations

import json
from pathlib import Path

from llmops import lake, lakefs
from llmops.candidates.lookup import version_row
from llmops.candidates.outcomes import GATES
from llmops.config import settings
from llmops.pipelines import model_gate_dir
from llmops.training import tracking

VERDICT_FILES = {"eval": "verdict.json", "governance": "governance_report.json"}
STATUS_TAG, REASON_TAG = "llmops.status", "llmops.rejection_reason"
_MAX_TAG_CHARS = 4000  # MLflow caps model version tag values at 5,000


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


def _gate_problem(gate: str, path: str | Path, version: int) -> str | None:
    """Why ``gate``'s verdict at ``path`` (a lake URI or a local path) does not pass ``version``; None when it does."""
    try:
        verdict = json.loads(lakefs.read_text(path))
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
    row = version_row(version_or_alias)
    version = row["version"]
    problems = []
    for gate in GATES:
        path = lake.shown(lake.join(model_gate_dir(lake_root, gate, lake.check_ds(ds)), VERDICT_FILES[gate]))
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
