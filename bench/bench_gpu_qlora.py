"""QLoRA vs bf16 LoRA on a GPU: training tokens/s and peak GPU memory for Llama-shaped models built here.

No model can be downloaded, so the models are random-init Llamas with the shapes of real ones (weights do not
change speed or memory). Each is saved with save_pretrained and trained through the project's own trainer
(llmops.training.trainer: load_model + train), i.e. the code the trainer pod runs.

    python bench/bench_gpu_qlora.py --sizes 1b 8b --methods qlora lora --out results.json
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "plugins"), str(Path(__file__).resolve().parents[1])]

from llmops.training.sft_data import IGNORE_INDEX, Encoded  # noqa: E402
from llmops.training.trainer import Hyperparams, TrainConfig, load_model, train  # noqa: E402

# hidden, intermediate, layers, heads, kv heads, vocab (Llama-3.2-1B and Llama-3.1-8B shapes)
SHAPES = {"1b": (2048, 8192, 16, 32, 8, 128256), "8b": (4096, 14336, 32, 32, 8, 128256)}


def build(shape: str, root: Path) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    out = root / shape
    if (out / "config.json").exists():
        return out
    hidden, inter, layers, heads, kv, vocab = SHAPES[shape]
    config = LlamaConfig(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv, vocab_size=vocab,
                         max_position_embeddings=4096, tie_word_embeddings=shape == "1b",
                         bos_token_id=1, eos_token_id=2, pad_token_id=0)
    with torch.device("cuda"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(out)
    params = sum(p.numel() for p in model.parameters())
    del model
    gc.collect()
    torch.cuda.empty_cache()
    (out / "params.txt").write_text(str(params))
    return out


def examples(n: int, seq_len: int, vocab: int) -> list[Encoded]:
    rng = random.Random(0)
    out = []
    for _ in range(n):
        ids = [rng.randrange(3, vocab) for _ in range(seq_len)]
        out.append(Encoded(ids, [IGNORE_INDEX] * (seq_len // 2) + ids[seq_len // 2:]))  # loss on the second half
    return out


def measure(model_dir: Path, method: str, batch: int, seq_len: int, steps: int) -> dict:
    cfg = TrainConfig(base_model=str(model_dir), hyperparams=Hyperparams(2e-4, 16, 32, 0.05, 1), method=method,
                      batch_size=batch, max_steps=steps, warmup_steps=2, eval_every=10**9,
                      checkpoint_every=10**9, seed=0)
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model = load_model(cfg)
    load_s = time.perf_counter() - started
    loaded_mem = torch.cuda.memory_allocated()
    stamps: list[float] = []
    with tempfile.TemporaryDirectory() as ckpt:
        result = train(cfg, model, examples(batch * steps, seq_len, model.config.vocab_size), [], 0, Path(ckpt),
                       on_metrics=lambda step, m: stamps.append(time.perf_counter()) if "train_loss" in m else None)
    warm = stamps[2:]  # steps 3.. (the first steps compile kernels and warm the allocator)
    tokens_per_s = (len(warm) - 1) * batch * seq_len / (warm[-1] - warm[0])
    row = {
        "model": model_dir.name, "params": int((model_dir / "params.txt").read_text()), "method": method,
        "batch": batch, "seq_len": seq_len, "steps": result.steps, "load_s": round(load_s, 1),
        "tokens_per_s": round(tokens_per_s), "weights_gib": round(loaded_mem / 2**30, 2),
        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "first_loss": round(result.train_loss[0][1], 3), "last_loss": round(result.train_loss[-1][1], 3),
    }
    del model
    gc.collect()
    torch.cuda.empty_cache()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1b", "8b"], choices=list(SHAPES))
    parser.add_argument("--methods", nargs="+", default=["qlora", "lora"])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--models", default="/tmp/bench-models")
    parser.add_argument("--out", default="bench/results/gpu_qlora.json")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        model_dir = build(size, Path(args.models))
        for method in args.methods:
            rows.append(measure(model_dir, method, args.batch, args.seq_len, args.steps))
            print(json.dumps(rows[-1]), flush=True)
    header = ("model", "params", "method", "tokens/s", "weights GiB", "peak GiB", "load s")
    print("\n{:<5} {:>8} {:<6} {:>9} {:>11} {:>9} {:>7}".format(*header))
    for r in rows:
        print(f"{r['model']:<5} {r['params'] / 1e9:>7.2f}B {r['method']:<6} {r['tokens_per_s']:>9} "
              f"{r['weights_gib']:>11} {r['peak_gib']:>9} {r['load_s']:>7}")
    device = torch.cuda.get_device_name(0)
    Path(args.out).write_text(json.dumps({"device": device, "torch": torch.__version__, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
