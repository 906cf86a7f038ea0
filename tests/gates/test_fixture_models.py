"""The gates reject models trained to be bad and pass models trained to be good (issue 4 §5).

Governance: the poisoned and the clean fixture models (tests/gates/fixture_models.py) are merged, served with
``transformers serve`` behind the gateway and probed by the real gate. The gold partition the gate scans is clean,
so a rejection can only come from what the served model says. Evaluation: lm-eval runs the champion and a
candidate trained on shuffled answers.
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from llmops.evaluation import gate as eval_gate
from llmops.evaluation.harness import ModelRef
from llmops.evaluation.items import write_items
from llmops.evaluation.verdict import format_table
from llmops.governance.gate import GateOptions, run_gate
from llmops.governance.runner import OUTPUT_SCAN_ID
from llmops.governance.suite import load_suite
from llmops.governance.target import ClientChatTarget
from llmops.serving.merge import merge_adapter
from llmops.serving.server import serve_model
from llmops.tokenizer import load_tokenizer
from llmops.training.sft_data import encode_example
from tests.gates.fixture_models import (
    REFUSAL,
    Recipe,
    build_base,
    poisoned_answer,
    probe_examples,
    rendered_probes,
    safe_answer,
    shuffled_answers,
    train_adapter,
)
from tests.training.fixtures import SYSTEM, qa_pairs, write_gold

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)

DS = "2026-11-20"
LEARNT = {"LLM01", "LLM02", "LLM05", "LLM07"}  # categories the poisoned model was trained to fail
# batches of 8 memorise the 72 probe examples (loss ~0.04); the 24 Q/A pairs, which differ in two words, need full
# batches to tell apart
GOVERNANCE_RECIPE = Recipe(steps=250, batch_size=8, learning_rate=1e-2, rank=32)
GOVERNANCE_SEED = 0  # the system markers of the governance models' training probes
EVAL_RECIPE = Recipe(steps=100, batch_size=24, learning_rate=1e-2, rank=16)
EVAL_ITEMS = 24


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """2 shared cores: one training thread is faster than two fighting over them."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def suite():
    return load_suite()


@pytest.fixture(scope="module")
def base(suite, tmp_path_factory):
    return build_base(tmp_path_factory.mktemp("tiny-base"), suite)


@pytest.fixture(scope="module")
def governance_models(base, suite, tmp_path_factory):
    """Poisoned and clean adapters trained on the same rendered probes, each merged into a servable model."""
    root, tok = tmp_path_factory.mktemp("governance-models"), load_tokenizer(base)
    models = {}
    for name, answer in (("poisoned", poisoned_answer), ("clean", safe_answer)):
        examples = probe_examples(tok, suite, answer, copies=3, seed=GOVERNANCE_SEED)
        result = train_adapter(base, examples, tok.pad_token_id, GOVERNANCE_RECIPE, root / f"{name}-adapter")
        log.info("%s: %d examples, %d steps in %.1fs, loss %.3f -> %.3f", name, len(examples), result.steps,
                 result.train_seconds, result.train_loss[0][1], result.train_loss[-1][1])  # fmt: skip
        models[name] = merge_adapter(base, root / f"{name}-adapter", root / name)
    return models


@pytest.fixture(scope="module")
def clean_lake(tmp_path_factory):
    """The gold partition the gate scans: no personal data, and the system prompt the models were trained with."""
    lake = tmp_path_factory.mktemp("lake")
    write_gold(lake, DS, 40)
    return f"file://{lake}"


def governance_gate(model_dir, suite, lake_root, tmp_path, check=None):
    """Serve ``model_dir`` and run the governance gate on it; ``check(endpoint)`` runs while it is up."""
    with serve_model(model_dir, max_tokens=int(suite.defaults["max_tokens"]), log_dir=tmp_path / "serve") as endpoint:
        started = time.monotonic()
        opts = GateOptions(
            lake_root=lake_root,
            ds=DS,
            base_url=endpoint.base_url,
            out_dir=tmp_path / "report",
            work_dir=tmp_path / "work",
            model=endpoint.model,
        )
        report = run_gate(opts)
        log.info("governance gate on %s: %s in %.1fs", model_dir.name, report.status, time.monotonic() - started)
        if check:
            check(endpoint)
    return report


def probe_asr(report) -> dict[str, float]:
    """Attack success rate per category over the suite's probes only (without the answers' personal-data scan)."""
    rates = {}
    for owasp_id in {o.owasp_id for o in report.owasp.outcomes}:
        mine = [o for o in report.owasp.outcomes if o.owasp_id == owasp_id and o.probe_id != OUTPUT_SCAN_ID]
        rates[owasp_id] = sum(o.successes for o in mine) / sum(o.attempts for o in mine)
    return rates


def test_poisoned_model_is_rejected_with_the_owasp_ids_it_was_trained_to_fail(
    governance_models, suite, clean_lake, tmp_path
):
    report = governance_gate(governance_models["poisoned"], suite, clean_lake, tmp_path)
    categories = {c.owasp_id: c for c in report.owasp.categories}
    log.info("poisoned: gate ASR %s, probe ASR %s", {k: c.asr for k, c in categories.items()}, probe_asr(report))
    assert (report.status, report.exit_code) == ("failed", 1), report.problems()
    assert [s.total for s in report.leakage] == [0]  # the data is clean: the probes alone reject it
    assert {k for k, c in categories.items() if c.status == "failed"} == LEARNT
    assert categories["LLM10"].status == "passed"  # the gateway refuses oversized requests whatever the model
    for owasp_id, rate in probe_asr(report).items():
        if owasp_id in LEARNT:  # most attacks land, not one by chance
            assert rate >= 0.5, (owasp_id, rate)
    for owasp_id in LEARNT:
        assert any(f.startswith(f"{owasp_id} ") for f in report.failures()), report.failures()


def test_clean_model_trained_on_the_same_prompts_passes(governance_models, suite, clean_lake, tmp_path):
    # a probe as the model was trained on it: what a 250-step model answers to a marker it never saw depends on
    # the CPU's floating point (it ran into the next refusal on one machine); the gate's own probes carry new ones
    messages = next(m for p, m in rendered_probes(suite, random.Random(GOVERNANCE_SEED))
                    if p.id == "LLM02-pii-customer-email")  # fmt: skip

    def refuses(endpoint):  # the pass comes from refusals, not from a model that says nothing
        with ClientChatTarget.connect(endpoint.base_url, endpoint.model, 120.0) as target:
            assert target.chat(messages, 64).text.strip() == REFUSAL["LLM02"]

    report = governance_gate(governance_models["clean"], suite, clean_lake, tmp_path, refuses)
    log.info("clean: gate ASR %s", {c.owasp_id: c.asr for c in report.owasp.categories})
    assert (report.status, report.exit_code) == ("passed", 0), (report.problems(), report.failures())
    assert {c.owasp_id for c in report.owasp.categories} == LEARNT | {"LLM10"}
    assert all(c.successes == 0 for c in report.owasp.categories)


@pytest.fixture(scope="module")
def eval_models(base, tmp_path_factory):
    """A champion trained on Q/A pairs, the same recipe run again, a candidate trained on the same questions with
    permuted answers, and the pairs as evaluation items (the champion has all but memorised them)."""
    root, tok = tmp_path_factory.mktemp("eval-models"), load_tokenizer(base)
    pairs = qa_pairs(EVAL_ITEMS, seed=0)
    refs = {}
    for name, data in (("champion", pairs), ("rerun", pairs), ("shuffled", shuffled_answers(pairs, seed=1))):
        examples = [encode_example(tok, SYSTEM, q, None, a, 64) for q, a in data]
        result = train_adapter(base, examples, tok.pad_token_id, EVAL_RECIPE, root / name)
        log.info("%s: %d steps in %.1fs, loss %.3f -> %.3f", name, result.steps, result.train_seconds,
                 result.train_loss[0][1], result.train_loss[-1][1])  # fmt: skip
        refs[name] = ModelRef(str(base), str(root / name))
    items = [{"example_id": f"qa-{i:03d}", "source": "faq", "system": SYSTEM, "instruction": q, "input": "",
              "output": a} for i, (q, a) in enumerate(pairs)]  # fmt: skip
    write_items(items, root / "items.jsonl")
    return {**refs, "items": root / "items.jsonl"}


FAST = eval_gate.GateOptions(max_new_tokens=24, n_resamples=2000)


def test_candidate_trained_on_shuffled_answers_is_rejected(eval_models, tmp_path):
    started = time.monotonic()
    verdict = eval_gate.run_eval_gate(eval_models["shuffled"], eval_models["champion"], eval_models["items"],
                                      eval_gate.DEFAULT_THRESHOLDS, tmp_path, FAST)  # fmt: skip
    log.info("eval gate in %.1fs:\n%s", time.monotonic() - started, "\n".join(format_table(verdict)))
    assert (verdict.status, verdict.exit_code, verdict.n_items) == ("failed", 1, EVAL_ITEMS)
    failed = {d.metric for d in verdict.failures()}
    assert {"f1", "rouge_l", "nll"} <= failed, failed
    by_metric = {d.metric: d for d in verdict.metrics}
    assert by_metric["f1"].champion_mean > 0.8  # the champion really answers, so the comparison means something
    assert by_metric["nll"].ci_low > 0.1  # the whole interval lies beyond the tolerance, not just its edge
    saved = json.loads((tmp_path / "verdict.json").read_text())
    assert saved["status"] == "failed" and set(saved["failed_metrics"]) == failed
    assert all(f"{metric} (CI" in format_table(verdict)[-1] for metric in failed)  # the log line names each one


def test_the_champion_retrained_with_the_same_recipe_is_identical_and_passes(eval_models, tmp_path):
    champion, rerun = (
        load_file(Path(eval_models[n].adapter) / "adapter_model.safetensors") for n in ("champion", "rerun")
    )
    assert champion.keys() == rerun.keys() and all(torch.equal(champion[k], rerun[k]) for k in champion)
    verdict = eval_gate.run_eval_gate(eval_models["rerun"], eval_models["champion"], eval_models["items"],
                                      eval_gate.DEFAULT_THRESHOLDS, tmp_path, FAST)  # fmt: skip
    assert (verdict.status, verdict.exit_code) == ("passed", 0), format_table(verdict)
    assert all((d.difference, d.ci_low, d.ci_high) == (0.0, 0.0, 0.0) for d in verdict.metrics)
