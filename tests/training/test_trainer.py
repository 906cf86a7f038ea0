"""The trainer trains for real: loss falls, labels cover answers only, a crashed run resumes identically."""

from __future__ import annotations

import pytest
import torch

from llmops.tokenizer import load_tokenizer
from llmops.training.sft_data import IGNORE_INDEX, encode_example, encode_table, load_gold
from llmops.training.trainer import (
    Hyperparams,
    MethodUnavailable,
    TrainConfig,
    latest_checkpoint,
    load_model,
    require_method,
    train,
)
from tests.training.conftest import DS
from tests.training.fixtures import SYSTEM

HP = Hyperparams(learning_rate=3e-3, lora_rank=8, lora_alpha=16, lora_dropout=0.0, epochs=3)


def _data(tiny_model, lake):
    tok = load_tokenizer(tiny_model)
    gold = load_gold(f"file://{lake}", DS)
    return tok, encode_table(tok, gold.split("train"), 64), encode_table(tok, gold.split("validation"), 64)


def _config(tiny_model, method="lora", **kw) -> TrainConfig:
    defaults = dict(base_model=str(tiny_model), hyperparams=HP, method=method, batch_size=8, max_steps=12,
                    warmup_steps=1, eval_every=4, checkpoint_every=4, seed=3)
    return TrainConfig(**{**defaults, **kw})


def test_labels_cover_the_answer_only(tiny_model):
    tok = load_tokenizer(tiny_model)
    enc = encode_example(tok, SYSTEM, "When will my order 7 be handled?", "", "Your order 7 is handled on Friday.", 256)
    answer_ids = [i for i, label in zip(enc.input_ids, enc.labels, strict=True) if label != IGNORE_INDEX]
    prompt_ids = enc.input_ids[: len(enc.input_ids) - len(answer_ids)]
    assert tok.decode(answer_ids, skip_special_tokens=True).strip() == "Your order 7 is handled on Friday."
    assert "<|eos|>" in tok.decode(answer_ids)  # the model learns to stop
    assert tok.decode(prompt_ids).endswith("<|im_start|>assistant\n")
    assert all(label == IGNORE_INDEX for label in enc.labels[: len(prompt_ids)])
    # the prompt ids equal what generation would see
    prompt = tok.apply_chat_template([{"role": "system", "content": SYSTEM},
                                      {"role": "user", "content": "When will my order 7 be handled?"}],
                                     tokenize=False, add_generation_prompt=True)
    assert prompt_ids == tok(prompt, add_special_tokens=False)["input_ids"]


def test_labels_start_at_the_answer_and_end_with_end_of_turn_then_eos(tiny_model):
    """EOS is taught right after <|im_end|>, never after the newline the generation prompt ends with: a label
    "newline -> EOS" made the demo's adapter answer every prompt with EOS (empty generations)."""
    tok = load_tokenizer(tiny_model)
    answer = "Your order 7 is handled on Friday."
    enc = encode_example(tok, SYSTEM, "When will my order 7 be handled?", "", answer, 256)
    labelled = [i for i, label in enumerate(enc.labels) if label != IGNORE_INDEX]
    assert enc.labels[labelled[0]] == tok(answer, add_special_tokens=False)["input_ids"][0]
    assert enc.labels[-2:] == tok.convert_tokens_to_ids(["<|im_end|>", "<|eos|>"])
    generation_starts_after = enc.input_ids[labelled[0] - 1]
    assert enc.input_ids[labelled[-1] - 1] != generation_starts_after


def test_an_example_whose_answer_is_cut_away_is_dropped(tiny_model):
    tok = load_tokenizer(tiny_model)
    assert encode_example(tok, SYSTEM, "word " * 100, "", "answer", 32) is None


@pytest.mark.parametrize("method", ["lora", "qlora"])
def test_loss_falls(tiny_model, training_env, tmp_path, method):
    _, train_set, val_set = _data(tiny_model, training_env)
    cfg = _config(tiny_model, method, max_steps=16)
    result = train(cfg, load_model(cfg), train_set, val_set, 0, tmp_path / "ckpt")
    assert result.steps == 16 and not result.stopped_early
    first, last = result.val_loss[0][1], result.val_loss[-1][1]
    assert last < first * 0.8, result.val_loss
    assert result.train_loss[-1][1] < result.train_loss[0][1]


def test_qlora_base_is_4bit(tiny_model):
    model = load_model(_config(tiny_model, "qlora"))
    kinds = {type(m).__name__ for m in model.modules()}
    assert "Linear4bit" in kinds, kinds


def test_unknown_method_is_a_clear_error():
    with pytest.raises(MethodUnavailable, match="unknown training method 'fp8'"):
        require_method("fp8")


class Crash(RuntimeError):
    pass


def test_a_crashed_run_resumes_from_its_checkpoint_and_ends_identically(tiny_model, training_env, tmp_path):
    tok, train_set, val_set = _data(tiny_model, training_env)
    cfg = _config(tiny_model)

    straight = train(cfg, load_model(cfg), train_set, val_set, tok.pad_token_id, tmp_path / "straight")
    reference = _adapter(tmp_path / "straight")

    def crash_at_7(step, metrics):
        if step == 7:
            raise Crash("killed")

    with pytest.raises(Crash):
        train(cfg, load_model(cfg), train_set, val_set, tok.pad_token_id, tmp_path / "crashed", on_metrics=crash_at_7)
    assert latest_checkpoint(tmp_path / "crashed").name == "checkpoint-4"
    half_written = tmp_path / "crashed" / "checkpoint-8"  # killed mid-write: no trainer state yet
    half_written.mkdir()
    (half_written / "adapter_model.safetensors").write_bytes(b"truncat")
    assert latest_checkpoint(tmp_path / "crashed").name == "checkpoint-4"
    model = load_model(cfg)
    resumed = train(cfg, model, train_set, val_set, tok.pad_token_id, tmp_path / "crashed")
    assert resumed.resumed_from == 4 and resumed.steps == 12
    assert [s for s, _ in resumed.train_loss] == list(range(1, 13))
    assert [v for _, v in resumed.train_loss] == pytest.approx([v for _, v in straight.train_loss], rel=1e-5)
    weights = _adapter(tmp_path / "crashed")
    for name, value in reference.items():
        torch.testing.assert_close(weights[name], value, rtol=1e-5, atol=1e-6)
    # a rerun of the finished run trains nothing and hands back the trained adapter, not a fresh one
    model = load_model(cfg)
    again = train(cfg, model, train_set, val_set, tok.pad_token_id, tmp_path / "crashed")
    assert again.steps == 12 and again.train_loss == resumed.train_loss
    from peft import get_peft_model_state_dict

    for name, value in get_peft_model_state_dict(model).items():
        torch.testing.assert_close(value, reference[name], rtol=1e-5, atol=1e-6)


def _adapter(checkpoint_dir):
    """The LoRA weights of the latest checkpoint under ``checkpoint_dir``."""
    from safetensors.torch import load_file

    return load_file(latest_checkpoint(checkpoint_dir) / "adapter_model.safetensors")


def test_progress_lines_every_n_steps_and_after_30_quiet_seconds(caplog, monkeypatch):
    from transformers import TrainerState

    from llmops.training import trainer

    clock = [0.0]
    monkeypatch.setattr(trainer.time, "perf_counter", lambda: clock[0])
    seen = []
    callback = trainer.ProgressCallback(log_every=10, on_metrics=lambda step, values: seen.append(step))
    state = TrainerState(max_steps=100)
    callback.on_train_begin(None, state, None)
    with caplog.at_level("INFO", logger=trainer.log.name):
        for step in range(1, 21):
            clock[0] += 40 if step == 15 else 1  # one slow step: 40 s without a line
            state.global_step, state.num_input_tokens_seen = step, state.num_input_tokens_seen + 100
            callback.on_log(None, state, None, logs={"loss": 1.5, "learning_rate": 1e-3})
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split()[1] for line in lines] == ["10/100", "15/100", "20/100"]
    assert lines[0] == "step 10/100 loss 1.5000 lr 1.00e-03 tokens/s 100 eta 0:01:30"
    assert seen == list(range(1, 21))  # every step's metrics reach the hook (MLflow)
