"""The evaluation gate's human report: one self-contained HTML file (the chart is an embedded PNG).

It shows each metric's candidate and reference means with bootstrap intervals, the table the gate
logs, and the items where the candidate lost most against the reference (the champion, or its base
model), with both answers, so a reviewer sees what a regression looks like and not only that it happened.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np

from llmops.evaluation.stats import bootstrap_mean_ci
from llmops.evaluation.verdict import EvalVerdict, format_table, reason


@dataclass(frozen=True)
class Example:
    example_id: str
    question: str
    context: str
    reference: str
    candidate: str
    champion: str | None
    candidate_score: float
    champion_score: float | None


def chart_png(verdict: EvalVerdict, scores: dict[str, tuple[np.ndarray, np.ndarray | None]]) -> bytes:
    """One panel per gated metric: candidate and champion means with percentile bootstrap intervals
    (report-only metrics, possibly dozens from an extra task group, stay in the table)."""
    import matplotlib  # noqa: PLC0415 - only the report needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    boot = verdict.bootstrap
    gated = [d for d in verdict.metrics if d.gated]
    fig, axes = plt.subplots(1, len(gated), figsize=(2.6 * len(gated), 3.2), squeeze=False)
    for ax, d in zip(axes[0], gated, strict=True):
        reference = verdict.reference_role
        models = [("candidate", scores[d.metric][0], "#4472c4"), (reference, scores[d.metric][1], "#a5a5a5")]
        models = [m for m in models if m[1] is not None]
        for i, (_, values, color) in enumerate(models):
            low, high = bootstrap_mean_ci(values, **boot)
            mean = float(np.mean(values))
            ax.bar(i, mean, color=color, yerr=[[mean - low], [high - mean]], capsize=4)
        if d.floor is not None:
            ax.axhline(d.floor, color="#c00000", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(models)), [m[0] for m in models])
        arrow = "higher" if d.higher_is_better else "lower"
        title = f"{d.metric} ({arrow} better) {'PASS' if d.passed else 'FAIL'}"
        if d.difference is not None:
            title += f"\ndiff {d.difference:+.3f} [{d.ci_low:+.3f}, {d.ci_high:+.3f}]"
        ax.set_title(title, fontsize=8, color="#c00000" if not d.passed else "black")
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def reference_label(verdict: EvalVerdict) -> str:
    if verdict.reference_role == "champion":
        return "champion"
    return "candidate's base model without the adapter (no champion yet)"


def render_html(
    verdict: EvalVerdict,
    scores: dict[str, tuple[np.ndarray, np.ndarray | None]],
    examples: list[Example],
    worst_by: str,
) -> str:
    png = base64.b64encode(chart_png(verdict, scores)).decode()
    rows = "".join(
        f"<tr class={'fail' if not d.passed else 'ok'}><td>{_e(d.metric)}</td><td>{_e(reason(d) or '-')}</td></tr>"
        for d in verdict.metrics
    )
    example_rows = "".join(
        "<tr>"
        f"<td>{_e(x.example_id)}</td><td>{_e(x.question)}<div class=ctx>{_e(x.context)}</div></td>"
        f"<td>{_e(x.reference)}</td><td>{_e(x.candidate)}<div class=s>{_score(x.candidate_score)}</div></td>"
        f"<td>{_e(x.champion)}<div class=s>{_score(x.champion_score)}</div></td>"
        "</tr>"
        for x in examples
    )
    title = f"Evaluation gate: {verdict.status.upper()}"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{_e(title)}</title><style>
body {{ font-family: sans-serif; margin: 2em; max-width: 1200px; }}
pre {{ background: #f4f4f4; padding: 1em; overflow-x: auto; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; }}
tr.fail td {{ background: #fde2e2; }} .ctx {{ color: #666; font-size: 90%; white-space: pre-wrap; }}
.s {{ color: #666; font-size: 85%; }} .passed {{ color: #2e7d32; }} .failed {{ color: #c00000; }}
</style></head><body>
<h1 class={verdict.status}>{_e(title)}</h1>
<p>Candidate: {_e(verdict.candidate)}<br>Compared with the {_e(reference_label(verdict))}: {_e(verdict.reference)}<br>
{verdict.n_items} items; task versions {_e(verdict.task_versions)}; paired percentile bootstrap
{_e(verdict.bootstrap)}.</p>
<img alt="candidate and champion means with bootstrap intervals" src="data:image/png;base64,{png}">
<h2>Metrics</h2><pre>{_e(chr(10).join(format_table(verdict)))}</pre>
<table><tr><th>metric</th><th>why it failed</th></tr>{rows}</table>
<h2>Most regressed items by {_e(worst_by)}</h2>
<table><tr><th>id</th><th>question (context)</th><th>reference answer</th><th>candidate</th>
<th>{_e(verdict.reference_role)}</th></tr>
{example_rows}</table>
</body></html>
"""
