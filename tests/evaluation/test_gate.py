"""The evaluation gate end to end on a tiny model: real lm-eval runs, a real LoRA adapter trained to
memorise the answers as the champion, and the items exported from a gold table written with pyarrow."""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from peft import LoraConfig, get_peft_model
from rouge_score import rouge_scorer
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from llmops import lake
from llmops import tokenizer as tk
from llmops.evaluation import gate, harness
from llmops.evaluation.items import read_items, read_test_split, render_items, write_items
from llmops.evaluation.stats import MetricDecision, Threshold, decide
from llmops.evaluation.tasks import utils
from llmops.evaluation.verdict import EvalVerdict, format_table

SYSTEM = "You are the support assistant. Answer briefly."
PRODUCTS = ["laptop", "phone", "tablet", "monitor", "camera", "speaker", "router", "charger"]
STATES = ["shipped", "delayed", "delivered", "returned", "cancelled"]
N_ITEMS = 20


def qa_pairs(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        product, state, order = rng.choice(PRODUCTS), rng.choice(STATES), rng.randint(100, 999)
        rows.append({
            "example_id": f"ex{i:04d}",
            "source": "faq" if i % 2 else "tickets",
            "system": SYSTEM,
            "instruction": f"Where is my {product} order {order}?",
            "input": f"Latest order {order}: {product}, status {state}" if i % 2 else "",
            "output": f"Order {order} for the {product} was {state}.",
        })  # fmt: skip
    return rows


# ---------------------------------------------------------------- metrics (no model)


def test_text_metrics_on_hand_computed_cases():
    assert utils.exact_match("Order 12 shipped!", "order 12  shipped") == 1.0
    assert utils.exact_match("Order 12 shipped", "Order 13 shipped") == 0.0
    # prediction "the order was late" vs reference "the order shipped late": overlap 3 of 4 and 4
    assert utils.token_f1("the order was late", "the order shipped late") == pytest.approx(0.75)
    assert utils.token_f1("", "") == 1.0 and utils.token_f1("", "x") == 0.0 and utils.token_f1("a", "b") == 0.0
    # LCS of "a b c d e" and "a c e x" is "a c e": P = 3/4, R = 3/5, F = 2PR/(P+R) = 2/3
    assert utils.rouge_l("a c e x", "a b c d e") == pytest.approx(2 / 3)
    # ROUGE-L shares the other metrics' normalisation (rouge_score's own tokenizer would not drop "_")
    assert utils.rouge_l("Order_12, shipped!", "order_12 shipped") == 1.0 and utils.rouge_l("", "") == 1.0
    # order matters to ROUGE-L, not to F1
    assert utils.token_f1("c b a", "a b c") == 1.0 and utils.rouge_l("c b a", "a b c") == pytest.approx(1 / 3)


def test_rouge_l_agrees_with_rouge_score():
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    rng = random.Random(3)
    words = "order the a refund was shipped late phone 12 to you we".split()
    for _ in range(200):
        pred = " ".join(rng.choices(words, k=rng.randint(1, 12)))
        ref = " ".join(rng.choices(words, k=rng.randint(1, 12)))
        assert utils.rouge_l(pred, ref) == pytest.approx(scorer.score(ref, pred)["rougeL"].fmeasure), (pred, ref)


def test_loglikelihood_score_is_per_answer_token():
    assert utils.score_loglikelihood({"answer_tokens": 4}, [(-10.0, False)]) == {"nll": 2.5}


# ---------------------------------------------------------------- items from gold


def gold_rows(rows: list[dict], ds: str, split: str) -> list[dict]:
    created = dt.datetime.fromisoformat(ds + "T00:00:00+00:00")
    return [
        {**r, "source_ids": [r["example_id"]], "source_file": f"{ds}.jsonl", "text": r["output"], "split": split,
         "group_key": r["example_id"], "created_at": created}
        for r in rows
    ]  # fmt: skip


def write_gold(lake_root: str, ds: str, rows: list[dict]) -> None:
    path = lake.local_path(lake.partition_uri(lake_root, "gold", "sft", ds))
    path.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path / "part-00000.parquet")
    (path / "_SUCCESS").write_text("")


@pytest.fixture
def gold_lake(tmp_path) -> str:
    """Two partitions: test items spread over both, one re-issued with a new answer, train rows beside."""
    lake_root = f"file://{tmp_path}/lake"
    items = qa_pairs(N_ITEMS)
    reissued = {**items[3], "output": "Order reissued: new answer."}
    write_gold(lake_root, "2026-01-01", gold_rows(items[:12], "2026-01-01", "test") + gold_rows(
        qa_pairs(5, seed=9), "2026-01-01", "train"))  # fmt: skip
    write_gold(lake_root, "2026-01-02", gold_rows([*items[12:], reissued], "2026-01-02", "test"))
    write_gold(lake_root, "2026-01-03", gold_rows(qa_pairs(3, seed=5), "2026-01-03", "test"))  # after ds
    return lake_root


def test_test_split_is_deduplicated_newest_partition_first(gold_lake):
    table = read_test_split(gold_lake, "2026-01-02")
    rows = table.to_pylist()
    assert [r["example_id"] for r in rows] == [f"ex{i:04d}" for i in range(N_ITEMS)]
    assert rows[3]["output"] == "Order reissued: new answer."
    assert rows[4]["output"] == qa_pairs(N_ITEMS)[4]["output"]
    assert len(read_test_split(gold_lake, "2026-01-01")) == 12
    with pytest.raises(FileNotFoundError):
        read_test_split(gold_lake, "2025-12-31")


# ---------------------------------------------------------------- tiny models


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A tiny tokenizer and random Llama, an untrained LoRA adapter (the weak model) and one trained
    for 30 steps on the items (the champion, which has all but memorised the answers)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: one thread is faster than two fighting
    root = tmp_path_factory.mktemp("models")
    corpus = [f"{r['instruction']} {r['input']} {r['output']} {SYSTEM}" for r in qa_pairs(400, seed=1)]
    tok = tk.load_tokenizer(tk.build_tokenizer(corpus, root / "base", vocab_size=600))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True,
        # a larger init than 0.02 gives logits a usable scale, so a LoRA alone can fit the answers
        initializer_range=0.2,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(root / "base")
    lora = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
    get_peft_model(AutoModelForCausalLM.from_pretrained(root / "base"), lora).save_pretrained(root / "weak")

    items = qa_pairs(N_ITEMS)
    texts = [tok.apply_chat_template(tk.chat_messages(r["system"], r["instruction"], r["input"], r["output"]),
                                     tokenize=False) for r in items]  # fmt: skip
    batch = tok(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    champion = get_peft_model(AutoModelForCausalLM.from_pretrained(root / "base"), lora)
    optimizer = torch.optim.AdamW([p for p in champion.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(30):
        champion(**batch, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    champion.save_pretrained(root / "champion")
    write_items(items, root / "items.jsonl")
    yield {
        "root": root,
        "items": root / "items.jsonl",
        "weak": harness.ModelRef(str(root / "base"), str(root / "weak")),
        "champion": harness.ModelRef(str(root / "base"), str(root / "champion")),
    }
    torch.set_num_threads(threads)


FAST = gate.GateOptions(max_new_tokens=24, n_resamples=2000)


def test_lm_eval_nll_is_the_answer_tokens_mean_negative_log_likelihood(models, tmp_path):
    items = read_items(models["items"])
    run = harness.evaluate_model(models["champion"], items, tmp_path / "run", max_new_tokens=24)
    assert run.versions == {task: 1.0 for task in harness.GATE_TASKS}
    assert set(run.scores) == {"exact_match", "f1", "rouge_l", "nll"}
    assert set(run.scores["nll"]) == set(run.outputs) == {r["example_id"] for r in items}
    assert run.higher_is_better == {"exact_match": True, "f1": True, "rouge_l": True, "nll": False}
    # recompute two items' NLL by hand: log-softmax of the model's logits over the answer's tokens
    tok = tk.load_tokenizer(models["champion"].base)
    model = AutoModelForCausalLM.from_pretrained(models["champion"].adapter).eval()
    for item in render_items(items[:2], tok):
        prompt_ids = tok.encode(item["prompt"].rstrip(), add_special_tokens=False)
        ids = tok.encode(item["prompt"] + item["output"], add_special_tokens=False)
        assert len(ids) - len(prompt_ids) == item["answer_tokens"]
        with torch.no_grad():
            logprobs = torch.log_softmax(model(torch.tensor([ids])).logits[0, :-1].double(), dim=-1)
        answer = range(len(prompt_ids), len(ids))
        nll = -sum(logprobs[i - 1, ids[i]].item() for i in answer) / len(answer)
        assert run.scores["nll"][item["example_id"]] == pytest.approx(nll, rel=1e-4)
    # the scores are computed from the text the model generated
    some = items[0]["example_id"]
    output, reference = run.outputs[some], items[0]["output"]
    assert run.scores["f1"][some] == utils.token_f1(output, reference)


def test_same_model_on_both_sides_passes_with_zero_differences(models, tmp_path):
    out = tmp_path / "same"
    verdict = gate.run_eval_gate(models["champion"], models["champion"], models["items"], gate.DEFAULT_THRESHOLDS,
                                 out, FAST)  # fmt: skip
    assert verdict.passed and verdict.exit_code == 0 and verdict.n_items == N_ITEMS
    assert [d.metric for d in verdict.metrics] == ["exact_match", "f1", "rouge_l", "nll"]
    for d in verdict.metrics:
        assert (d.difference, d.ci_low, d.ci_high) == (0.0, 0.0, 0.0), d
        assert d.candidate_mean == d.champion_mean
    saved = json.loads((out / "verdict.json").read_text())
    assert saved["status"] == "passed" and saved["failed_metrics"] == []
    assert saved["task_versions"] == {"llmops_sft_gen": 1.0, "llmops_sft_ppl": 1.0}
    assert saved["perplexity"]["candidate"] == pytest.approx(np.exp(verdict.metrics[-1].candidate_mean))
    # the memorising champion really answers: the comparison is not between two empty outputs
    f1 = next(d for d in verdict.metrics if d.metric == "f1")
    assert f1.candidate_mean > 0.3


def test_cli_fails_a_clearly_worse_candidate_and_names_the_metrics(models, gold_lake, tmp_path, capsys):
    out = tmp_path / "report"
    argv = [
        "--lake-root", gold_lake, "--ds", "2026-01-02", "--out-dir", str(out),
        "--candidate-base", models["weak"].base, "--candidate-adapter", models["weak"].adapter,
        "--champion-base", models["champion"].base, "--champion-adapter", models["champion"].adapter,
        "--max-new-tokens", "24", "--n-resamples", "2000",
    ]  # fmt: skip
    assert gate.main(argv) == 1
    saved = json.loads((out / "verdict.json").read_text())
    assert saved["status"] == "failed" and saved["n_items"] == N_ITEMS
    assert {"f1", "rouge_l", "nll"} <= set(saved["failed_metrics"])
    nll = next(m for m in saved["metrics"] if m["metric"] == "nll")
    assert nll["higher_is_better"] is False and nll["difference"] > 1 and nll["ci_low"] > 0.1
    f1 = next(m for m in saved["metrics"] if m["metric"] == "f1")
    assert f1["ci_high"] < -0.05 and f1["regression_ok"] is False
    assert len(saved["worst_examples"]) == 10
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "FAILED" in html
    assert html.count("<tr>") >= 10 and "Where is my" in html
    assert sorted(p.name for p in out.iterdir()) == ["items.jsonl", "lm_eval", "report.html", "verdict.json"]
    assert not list((out / "lm_eval").rglob("datasets_cache"))
    printed = capsys.readouterr().out
    assert "eval gate FAILED on 20 items" in printed and "nll (CI high" in printed


def test_cli_without_champion_rejects_a_candidate_identical_to_its_base(models, gold_lake, tmp_path, capsys):
    """An untrained LoRA (PEFT initialises B = 0) changes nothing: no improvement over its base, rejected."""
    out = tmp_path / "vs-base"
    argv = [
        "--lake-root", gold_lake, "--ds", "2026-01-02", "--out-dir", str(out), "--limit", "8",
        "--candidate-base", models["weak"].base, "--candidate-adapter", models["weak"].adapter,
        "--max-new-tokens", "16", "--n-resamples", "2000",
    ]  # fmt: skip
    assert gate.main(argv) == 1
    saved = json.loads((out / "verdict.json").read_text())
    assert saved["champion"] is None and saved["reference_role"] == "base" and saved["n_items"] == 8
    assert saved["reference"] == {"base": models["weak"].base, "adapter": None, "version": None}
    assert saved["failed_metrics"] == ["nll"]
    nll = next(m for m in saved["metrics"] if m["metric"] == "nll")
    assert (nll["difference"], nll["ci_high"]) == (0.0, 0.0)
    assert (nll["min_improvement"], nll["improvement_ok"]) == (0.0, False)
    assert sorted(p.name for p in (out / "lm_eval").iterdir()) == ["base", "candidate"]
    printed = capsys.readouterr().out
    assert "vs its base model (no champion yet)" in printed and "nll (no improvement over the reference" in printed
    assert "base model without the adapter" in (out / "report.html").read_text()


def test_a_trained_candidate_beats_its_base_and_passes(models, tmp_path):
    verdict = gate.run_eval_gate(models["champion"], None, models["items"], gate.DEFAULT_THRESHOLDS, tmp_path, FAST)
    assert (verdict.status, verdict.reference_role) == ("passed", "base"), format_table(verdict)
    nll = next(d for d in verdict.metrics if d.metric == "nll")
    assert nll.improvement_ok and nll.ci_high < -0.5  # base - candidate NLL: its interval lies well above zero
    # a demanded gain beyond what the adapter achieved rejects the same candidate
    strict = gate.GateOptions(max_new_tokens=24, n_resamples=2000, first_candidate_min_nll_gain=-nll.ci_low + 1)
    verdict = gate.run_eval_gate(models["champion"], None, models["items"], gate.DEFAULT_THRESHOLDS,
                                 tmp_path / "strict", strict)  # fmt: skip
    assert [d.metric for d in verdict.failures()] == ["nll"]


def test_a_missing_base_model_is_an_error_not_a_pass(models, gold_lake, tmp_path, capsys):
    gone = tmp_path / "gone-base"
    argv = [
        "--lake-root", gold_lake, "--ds", "2026-01-02", "--out-dir", str(tmp_path / "x"),
        "--candidate-base", str(gone), "--candidate-adapter", models["weak"].adapter,
    ]  # fmt: skip
    assert gate.main(argv) == 2
    assert "is gone" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="no adapter"):
        gate.base_reference(harness.ModelRef(models["weak"].base))


def test_thresholds_for_metrics_no_task_reports_are_refused_before_running(gold_lake, tmp_path, capsys):
    assert harness.gate_metrics() == {"exact_match", "f1", "rouge_l", "nll"}
    gate.check_thresholds({"arc_easy/acc": Threshold()}, ("arc_easy",))
    with pytest.raises(ValueError, match="no thresholds"):
        gate.check_thresholds({}, ())
    argv = [
        "--lake-root", gold_lake, "--ds", "2026-01-02", "--out-dir", str(tmp_path / "x"),
        "--candidate-base", str(tmp_path / "no-such-model"), "--thresholds", '{"bleu": {"floor": 0.1}}',
    ]  # fmt: skip
    assert gate.main(argv) == 2  # the missing model is never loaded: the thresholds are refused first
    assert "unknown metrics ['bleu']" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_scores_pair_by_item_and_unpaired_runs_are_refused():
    candidate = harness.ModelScores(scores={"f1": {"b": 0.5, "a": 1.0}})
    champion = harness.ModelScores(scores={"f1": {"a": 0.0, "b": 0.25}})
    keys, arrays = gate.paired_scores(candidate, champion)
    assert keys == {"f1": ["a", "b"]}
    assert arrays["f1"][0].tolist() == [1.0, 0.5] and arrays["f1"][1].tolist() == [0.0, 0.25]
    with pytest.raises(ValueError, match="not in both"):
        gate.paired_scores(candidate, harness.ModelScores(scores={"f1": {"a": 0.0, "c": 0.25}}))


def test_table_names_each_failure_with_its_reason():
    def metric(name: str, higher: bool, diff: float, low: float, high: float, passed: bool) -> MetricDecision:
        return MetricDecision(name, higher, 100, 0.5 + diff, 0.5, diff, low, high, 0.05, None, passed, None, passed)

    verdict = EvalVerdict(
        candidate={"base": "b", "adapter": "c"}, champion={"base": "b", "adapter": "a"}, n_items=100,
        metrics=[metric("f1", True, -0.1, -0.15, -0.05, False), metric("nll", False, -0.2, -0.3, -0.1, True)],
        task_versions={}, bootstrap={},
    )  # fmt: skip
    lines = format_table(verdict)
    assert lines[1].split()[:2] == ["f1", "higher"] and lines[1].endswith("FAIL")
    assert lines[2].endswith("PASS")
    assert lines[-1] == "eval gate FAILED on 100 items, vs champion; 1 failed: f1 (CI low -0.1500 < -0.05 allowed)"


def _first_candidate_run(candidate_f1: np.ndarray, base_f1: np.ndarray, nll_gain: float) -> dict:
    """Per-item scores of a candidate and its base as the gate pairs them: f1 and rouge_l alike, NLL lower by
    about ``nll_gain`` per token; the decisions under the first-candidate thresholds and under the usual ones."""
    rng = np.random.default_rng(1)
    base_nll = rng.normal(4.6, 0.3, base_f1.size)
    candidate = {"f1": candidate_f1, "rouge_l": candidate_f1, "exact_match": np.zeros(base_f1.size),
                 "nll": base_nll - nll_gain + rng.normal(0, 0.02, base_f1.size)}
    base = {"f1": base_f1, "rouge_l": base_f1, "exact_match": np.zeros(base_f1.size), "nll": base_nll}
    higher = {"f1": True, "rouge_l": True, "exact_match": True, "nll": False}
    first = gate.first_candidate_thresholds(gate.DEFAULT_THRESHOLDS, 0.0, 0.0)
    return {
        "first": decide(candidate, base, higher, first, n_resamples=2000),
        "usual": decide(candidate, base, higher, gate.DEFAULT_THRESHOLDS, n_resamples=2000),
    }


def test_a_first_candidate_significantly_worse_at_generation_than_its_base_is_rejected():
    """The first demo's candidate: empty answers (f1 ~0.005) against a weak base (~0.08), NLL a little better.
    Within the 0.10 tolerances, but the interval proves the regression: rejected on the generation metrics."""
    rng = np.random.default_rng(0)
    base_f1 = rng.uniform(0.0, 0.17, 118)
    candidate_f1 = np.where(rng.random(118) < 0.05, 0.1, 0.0)
    runs = _first_candidate_run(candidate_f1, base_f1, nll_gain=0.033)
    usual = {d.metric: d for d in runs["usual"]}
    assert usual["f1"].passed and usual["f1"].ci_high < 0  # what passed the demo: the tolerance alone
    first = {d.metric: d for d in runs["first"]}
    assert sorted(m for m, d in first.items() if not d.passed) == ["f1", "rouge_l"]
    assert first["f1"].significant_regression_ok is False and first["f1"].regression_ok is True
    assert first["nll"].improvement_ok and first["exact_match"].passed
    verdict = EvalVerdict(candidate={}, champion=None, n_items=118, metrics=runs["first"], task_versions={},
                          bootstrap={}, reference_role="base")  # fmt: skip
    assert re.search(r"f1 \(significantly worse than the reference: CI high -0\.\d{4} < 0\)", format_table(verdict)[-1])


def test_a_first_candidate_no_worse_at_generation_and_better_at_nll_passes():
    rng = np.random.default_rng(0)
    base_f1 = rng.uniform(0.0, 0.17, 118)
    candidate_f1 = np.clip(base_f1 + rng.normal(0, 0.05, 118), 0, 1)  # as good, item by item noisy
    first = _first_candidate_run(candidate_f1, base_f1, nll_gain=0.033)["first"]
    assert all(d.passed for d in first), [(d.metric, d.ci_low, d.ci_high) for d in first]
    f1 = next(d for d in first if d.metric == "f1")
    assert f1.ci_low < 0 < f1.ci_high and f1.significant_regression_ok is True
    assert gate.first_candidate_thresholds(gate.DEFAULT_THRESHOLDS, 0.0, 0.0)["nll"].max_significant_regression is None
