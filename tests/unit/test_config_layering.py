"""Configuration that cannot surprise: an override changes only what it names, and a value that cannot work
(or is not even YAML) stops start-up with one line naming it."""

from __future__ import annotations

import pytest

from llmops.config import ConfigError, EvaluationSettings, RuntimeSettings, load_settings


def test_one_metric_threshold_override_keeps_every_other_metric():
    cfg = load_settings("local", environ={"LLMOPS__EVALUATION__THRESHOLDS__F1__MAX_REGRESSION": "0.2"})
    defaults = EvaluationSettings().thresholds
    assert cfg.evaluation.thresholds["f1"].max_regression == 0.2
    assert {m: t for m, t in cfg.evaluation.thresholds.items() if m != "f1"} == {
        m: t for m, t in defaults.items() if m != "f1"
    }
    assert cfg.evaluation.thresholds["nll"].floor == defaults["nll"].floor  # the only check on a first candidate


def test_a_new_metric_adds_to_the_defaults_and_null_drops_one():
    cfg = load_settings("local", environ={"LLMOPS__EVALUATION__THRESHOLDS__ROUGE_L": "null",
                                          "LLMOPS__EVALUATION__THRESHOLDS__BLEU": "{max_regression: 0.3}"})
    assert set(cfg.evaluation.thresholds) == set(EvaluationSettings().thresholds) - {"rouge_l"} | {"bleu"}


def test_overriding_one_field_of_a_pod_keeps_the_rest():
    for profile in ("local", "kubernetes"):
        base = load_settings(profile, environ={}).runtime.pods["trainer"]
        pods = load_settings(profile, environ={"LLMOPS__RUNTIME__PODS__TRAINER__MEMORY": "128Gi"}).runtime.pods
        assert pods["trainer"].memory == "128Gi"
        assert pods["trainer"].model_dump(exclude={"memory"}) == base.model_dump(exclude={"memory"})
        assert set(pods) == set(RuntimeSettings().pods)


def test_a_plain_map_is_replaced_whole():
    """A node selector names the nodes a pod may use: merging in the default label would make it unschedulable."""
    cfg = load_settings("kubernetes", environ={"LLMOPS__RUNTIME__GPU_NODE_SELECTOR": "{gpu-pool: a100}"})
    assert cfg.runtime.gpu_node_selector == {"gpu-pool": "a100"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LLMOPS__DATA__MIN_ANSWER_CHARS": "5000"}, r"min_answer_chars \(5000\) must not exceed max_answer_chars"),
        ({"LLMOPS__DATA__MIN_QUESTION_CHARS": "3000"}, "min_question_chars"),
        ({"LLMOPS__EVALUATION__DEVICE": "gpu"}, "evaluation.device='gpu'"),
        ({"LLMOPS__EVALUATION__DTYPE": "fp8"}, "evaluation.dtype='fp8'"),
        ({"LLMOPS__RUNTIME__PODS__TRAINER__GPUS": "-1"}, "runtime.pods.trainer.gpus"),
        ({"LLMOPS__DATA__LANGUAGES": "[en, de"}, "LLMOPS__DATA__LANGUAGES='\\[en, de' is not a valid YAML value"),
    ],
)
def test_values_that_cannot_work_are_refused_by_name(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings("local", environ=environ)


def test_good_device_names_pass():
    for device in ("cpu", "cuda", "cuda:1", "mps"):
        assert load_settings("local", environ={"LLMOPS__EVALUATION__DEVICE": device}).evaluation.device == device
