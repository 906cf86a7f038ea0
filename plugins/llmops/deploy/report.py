"""The HTML rollout report: weights over time, each metric per step (with its interval and threshold), the outcome."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the headless backend

from llmops import lakefs  # noqa: E402
from llmops.deploy.state import RolloutState  # noqa: E402


def _figure_png(st: RolloutState) -> str:
    metrics = sorted({r["metric"] for look in st.looks for r in look.results})
    fig, axes = plt.subplots(1 + len(metrics), 1, figsize=(7, 2.4 * (1 + len(metrics))), squeeze=False)
    start = st.weights[0][0] if st.weights else 0.0
    axes[0][0].step([t - start for t, _ in st.weights], [100 * w for _, w in st.weights], where="post")
    axes[0][0].set(title="canary traffic", xlabel="seconds since start", ylabel="%")
    for ax, metric in zip((row[0] for row in axes[1:]), metrics, strict=True):
        rows = [(look.step, r) for look in st.looks for r in look.results if r["metric"] == metric]
        below = [r["difference"] - r["low"] for _, r in rows]
        above = [r["high"] - r["difference"] for _, r in rows]
        ax.errorbar([s for s, _ in rows], [r["difference"] for _, r in rows], yerr=[below, above], fmt="o")
        ax.axhline(rows[0][1]["threshold"], color="red", linestyle="--", label="threshold")
        ax.set(title=f"{metric}: canary - stable (always-valid interval)", xlabel="step")
        ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def write_report(st: RolloutState, location: str) -> str:
    """Write the report for ``st`` to ``location`` (one self-contained HTML file, on any lake file system)."""
    cells = ("step", "weight", "metric", "stable", "canary", "difference [interval]", "threshold", "decision",
             "requests s/c", "replayed")  # fmt: skip
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
            look.step, f"{100 * look.canary_weight:g}%", r["metric"], f"{r['stable']:.4f}", f"{r['canary']:.4f}",
            f"{r['difference']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}]", r["threshold"], r["decision"],
            f"{r['stable_requests']}/{r['canary_requests']}", look.loadgen_requests)) + "</tr>"
        for look in st.looks for r in look.results
    )  # fmt: skip
    header = "".join(f"<th>{c}</th>" for c in cells)
    body = (f"<h1>Rollout of {html.escape(st.canary)} over {html.escape(st.stable)}</h1>"
            f"<p><b>{html.escape(st.status)}</b>: {html.escape(st.reason)}</p>"
            f"<img alt='weights and metrics' src='data:image/png;base64,{_figure_png(st)}'>"
            f"<table border='1'><tr>{header}</tr>{rows}</table>")  # fmt: skip
    lakefs.write_text(location, f"<!doctype html><html><head><meta charset='utf-8'><title>Rollout</title></head>"
                                f"<body>{body}</body></html>")  # fmt: skip
    return location
