"""The evaluation gate's verdict: per-metric comparison as JSON and as a fixed-width log table."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from llmops.evaluation.stats import MetricDecision

_HEADER = ("metric", "better", "candidate", "reference", "diff", "CI of diff", "tolerance", "floor", "result")
_WIDTHS = (22, 6, 10, 10, 10, 22, 10, 10, 6)


@dataclass
class EvalVerdict:
    candidate: dict[str, str | None]  # base, adapter
    champion: dict[str, str | None] | None  # the champion compared with; None for a first candidate
    n_items: int
    metrics: list[MetricDecision]
    task_versions: dict[str, Any]
    bootstrap: dict[str, Any]  # n_resamples, confidence, seed
    lm_eval_seconds: dict[str, float] = field(default_factory=dict)  # per model role
    worst_examples: list[str] = field(default_factory=list)  # example ids, most regressed first
    # what the candidate was compared with: "champion", or "base" (its base model without the adapter)
    reference_role: str = "champion"
    reference: dict[str, str | None] | None = None  # that model (base, adapter, version)

    @property
    def passed(self) -> bool:
        return all(d.passed for d in self.metrics)

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def failures(self) -> list[MetricDecision]:
        return [d for d in self.metrics if not d.passed]

    def perplexity(self) -> dict[str, float | None]:
        """exp(mean per-token NLL) of each model, for readers who think in perplexity."""
        nll = next((d for d in self.metrics if d.metric == "nll"), None)
        if nll is None:
            return {}
        champion = None if nll.champion_mean is None else math.exp(nll.champion_mean)
        return {"candidate": math.exp(nll.candidate_mean), "champion": champion}

    def to_json(self) -> str:
        body = {"status": self.status, "passed": self.passed, **asdict(self), "perplexity": self.perplexity()}
        body["failed_metrics"] = [d.metric for d in self.failures()]
        return json.dumps(body, indent=2, default=str)


def reason(d: MetricDecision) -> str:
    """Why a metric failed, in one phrase."""
    parts = []
    if d.improvement_ok is False:
        gain_low = d.ci_low if d.higher_is_better else -d.ci_high
        parts.append(f"no improvement over the reference: gain's CI low {gain_low:+.4f} <= {d.min_improvement:g}")
    if d.significant_regression_ok is False:
        bound = d.max_significant_regression
        if d.higher_is_better:  # "< 0", not "< -0", at the default bound
            parts.append(f"significantly worse than the reference: CI high {d.ci_high:+.4f} < {-bound or 0.0:g}")
        else:
            parts.append(f"significantly worse than the reference: CI low {d.ci_low:+.4f} > {bound:g}")
    if d.regression_ok is False:
        if d.higher_is_better:
            parts.append(f"CI low {d.ci_low:+.4f} < -{d.max_regression:g} allowed")
        else:
            parts.append(f"CI high {d.ci_high:+.4f} > +{d.max_regression:g} allowed")
    if d.floor_ok is False:
        parts.append(f"mean {d.candidate_mean:.4f} {'<' if d.higher_is_better else '>'} floor {d.floor:g}")
    return "; ".join(parts)


def _num(value: float | None, signed: bool = False) -> str:
    return "-" if value is None else (f"{value:+.4f}" if signed else f"{value:.4f}")


def format_table(verdict: EvalVerdict) -> list[str]:
    """One aligned line per metric and a last line with the outcome and every failure's reason."""
    lines = ["  ".join(f"{h:<{w}}" for h, w in zip(_HEADER, _WIDTHS, strict=True))]
    for d in verdict.metrics:
        ci = "-" if d.ci_low is None else f"[{d.ci_low:+.4f}, {d.ci_high:+.4f}]"
        result = ("PASS" if d.passed else "FAIL") if d.gated else "info"
        cells = (
            d.metric,
            "higher" if d.higher_is_better else "lower",
            _num(d.candidate_mean),
            _num(d.champion_mean),
            _num(d.difference, signed=True),
            ci,
            f"{d.max_regression:g}" if d.gated and d.champion_mean is not None else "-",
            "-" if d.floor is None else f"{d.floor:g}",
            result,
        )
        lines.append("  ".join(f"{c:<{w}}" for c, w in zip(cells, _WIDTHS, strict=True)).rstrip())
    vs = "vs champion" if verdict.reference_role == "champion" else "vs its base model (no champion yet)"
    summary = f"eval gate {verdict.status.upper()} on {verdict.n_items} items, {vs}"
    failed = verdict.failures()
    if failed:
        summary += f"; {len(failed)} failed: " + "; ".join(f"{d.metric} ({reason(d)})" for d in failed)
    lines.append(summary)
    return lines
