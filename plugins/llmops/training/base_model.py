"""The base model: a Hugging Face id or path from settings, or the project's own small Llama.

No model can be downloaded in the embedded default, so ``base_model: builtin`` builds one: a
Llama-architecture causal LM of a few million parameters on the lake's pinned tokenizer (the one Feast's
token features use), briefly pretrained on silver text, saved with ``save_pretrained``. Everything
downstream loads it with ``from_pretrained(path)`` exactly as it would load a hub id.

The builtin base is **pinned**: the first build (on that day's silver) stays the lake's base model for every
later run, whatever their day's text, because a LoRA canary can share one vLLM pool with the champion only
when both adapters sit on the same base. It is rebuilt only deliberately (``--rebuild`` or
``training.builtin.rebuild``), from the run's own silver, and re-pinned. Builds are cached in the lake under a
key of their inputs (tokenizer, text, recipe). A base's identity is its path and a content hash (sha256 over
its files; a hub id or path from settings is identified by name and revision instead), recorded in every
version's lineage (``llmops.base_model_hash``) and compared by :func:`llmops.training.lineage.same_base`.

CLI: ``python -m llmops.training.base_model --lake-root URI --ds DATE [--base-model ID_OR_PATH] [--rebuild]``
resolves the base model for a training run and records it in the step summary that later steps read; exit 0
when the model loads, 2 when it cannot be built or found.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

from llmops import lake, lakefs
from llmops.config import BuiltinModelSettings, settings
from llmops.logs import setup_step_logging
from llmops.step_summary import summary_uri, write_summary
from llmops.steps import guarded, lake_step_parser

log = logging.getLogger(__name__)

BUILTIN = "builtin"
_RECIPE_VERSION = 1
_SUMMARY_STEP = "base_model"
_PIN = "PINNED"  # file under models/base naming the pinned build
_IDENTITY = "identity.json"  # written next to the weights: {"content_hash": ...}


def cache_key(tokenizer_dir: Path, texts_digest: str, recipe: BuiltinModelSettings) -> str:
    spec = {"tokenizer": Path(tokenizer_dir).name, "texts": texts_digest,
            "recipe": recipe.model_dump(exclude={"rebuild"}), "version": _RECIPE_VERSION}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _blocks(tokenizer, texts: list[str], seq_len: int, needed: int) -> list[list[int]]:
    """Texts joined with EOS and cut into ``seq_len`` blocks (the usual causal-LM packing)."""
    blocks, buffer = [], []
    for text in texts:
        buffer.extend(tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id])
        while len(buffer) >= seq_len:
            blocks.append(buffer[:seq_len])
            buffer = buffer[seq_len:]
        if len(blocks) >= needed:
            break
    return blocks


def build_builtin(texts: list[str], tokenizer_dir: Path, out_dir: Path, recipe: BuiltinModelSettings) -> dict:
    """Pretrain the small Llama on ``texts`` and save model + tokenizer to ``out_dir``; returns build facts."""
    import torch  # noqa: PLC0415 - heavy, and only a build needs it
    from transformers import LlamaConfig, LlamaForCausalLM, get_cosine_schedule_with_warmup  # noqa: PLC0415

    from llmops.tokenizer import load_tokenizer  # noqa: PLC0415
    from llmops.training.trainer import compute_dtype  # noqa: PLC0415

    tokenizer = load_tokenizer(tokenizer_dir)
    torch.manual_seed(recipe.seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=recipe.hidden_size, intermediate_size=recipe.intermediate_size,
        num_hidden_layers=recipe.layers, num_attention_heads=recipe.heads, num_key_value_heads=recipe.heads,
        max_position_embeddings=recipe.max_positions, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    blocks = _blocks(tokenizer, texts, recipe.seq_len, recipe.pretrain_steps * recipe.batch_size)
    if not blocks:
        raise ValueError("not enough text to pretrain the builtin base model")
    data = torch.tensor(blocks)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=0.01)
    scheduler = get_cosine_schedule_with_warmup(optimizer, max(1, recipe.pretrain_steps // 10),
                                                recipe.pretrain_steps)
    generator = torch.Generator().manual_seed(recipe.seed)
    dtype = compute_dtype()
    started, losses = time.perf_counter(), []
    log_every = max(1, recipe.pretrain_steps // 10)
    for step in range(1, recipe.pretrain_steps + 1):
        batch = data[torch.randint(len(data), (recipe.batch_size,), generator=generator)]
        with torch.autocast("cpu", dtype=dtype, enabled=dtype == torch.bfloat16):
            loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.detach().item())
        if step % log_every == 0 or step == recipe.pretrain_steps:
            elapsed = time.perf_counter() - started
            log.info("pretrain step %d/%d loss %.3f tokens/s %.0f", step, recipe.pretrain_steps, losses[-1],
                     step * recipe.batch_size * recipe.seq_len / elapsed)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    facts = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "pretrain_steps": recipe.pretrain_steps,
        "pretrain_blocks": len(blocks),
        "first_loss": round(losses[0], 4),
        "final_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4),
        "perplexity": round(math.exp(sum(losses[-10:]) / len(losses[-10:])), 2),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (Path(out_dir) / "build.json").write_text(json.dumps(facts, indent=2))
    return facts


def content_hash(model_dir: Path) -> str:
    """sha256 over every file of a saved model (relative path and bytes), the identity file excepted."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(model_dir).rglob("*") if p.is_file() and p.name != _IDENTITY):
        digest.update(path.relative_to(model_dir).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def _pin_path(lake_root: str) -> Path:
    return lake.local_path(lake.join(lake_root, "models", "base", _PIN))


def pinned_builtin(lake_root: str) -> Path | None:
    """The lake's pinned builtin base model, if one was built."""
    pin = _pin_path(lake_root)
    if not pin.exists():
        return None
    target = pin.parent / pin.read_text().strip()
    if not (target / "config.json").exists():
        raise FileNotFoundError(f"the pinned base model {target} is missing; rebuild it deliberately (--rebuild)")
    return target


def _pin(target: Path, replace: bool) -> Path:
    """Pin ``target``: the first pin wins a race (``os.link`` fails if one exists); a rebuild replaces it."""
    pin = target.parent / _PIN
    tmp = target.parent / f"_{_PIN}.{uuid.uuid4().hex[:12]}"
    tmp.write_text(target.name + "\n")
    try:
        if replace:
            os.replace(tmp, pin)
        else:
            os.link(tmp, pin)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return target.parent / pin.read_text().strip()


def ensure_builtin(lake_root: str, ds: str, rebuild: bool = False) -> tuple[Path, str]:
    """The lake's pinned builtin base model and its cache key; built from ``ds``'s silver and pinned when there is
    none yet, or when ``rebuild`` (or the setting) asks for a new one."""
    from llmops.tokenizer import resolve_tokenizer, texts_digest, training_texts  # noqa: PLC0415 - transformers

    recipe = settings().training.builtin
    rebuild = rebuild or recipe.rebuild
    pinned = None if rebuild else pinned_builtin(lake_root)
    if pinned is not None:
        log.info("builtin base model %s is pinned (rebuild it with --rebuild)", pinned.name[:12])
        return pinned, pinned.name
    tokenizer_dir = resolve_tokenizer(lake_root, ds)
    texts = training_texts(lake_root, ds)
    key = cache_key(tokenizer_dir, texts_digest(texts), recipe)
    target = lake.local_path(lake.join(lake_root, "models", "base", key))
    if (target / "config.json").exists():
        log.info("builtin base model %s is cached", key[:12])
        pinned = _pin(target, replace=rebuild)
        return pinned, pinned.name
    staging = target.with_name(f"_{key}.{uuid.uuid4().hex[:12]}")
    log.info("building the builtin base model %s from %d silver texts", key[:12], len(texts))
    facts = build_builtin(texts, tokenizer_dir, staging, recipe)
    (staging / _IDENTITY).write_text(json.dumps({"content_hash": content_hash(staging)}))
    log.info("built: %s", facts)
    try:
        os.rename(staging, target)
    except OSError:
        if not (target / "config.json").exists():
            raise
        shutil.rmtree(staging, ignore_errors=True)  # a concurrent build got there first
    pinned = _pin(target, replace=rebuild)
    return pinned, pinned.name


def _identity(name: str, revision: str) -> str:
    return hashlib.sha256(f"{name}@{revision}".encode()).hexdigest()


def builtin_hash(model_dir: Path) -> str:
    """A builtin build's content hash (recorded at build time; computed for a build from before that)."""
    recorded = Path(model_dir) / _IDENTITY
    return json.loads(recorded.read_text())["content_hash"] if recorded.exists() else content_hash(model_dir)


def resolve(lake_root: str, ds: str, base_model: str | None = None, rebuild: bool = False) -> dict:
    """Decide the base model of a run: ``{"model": path_or_id, "revision": ..., "builtin": bool,
    "content_hash": ...}``."""
    cfg = settings().training
    name = base_model or cfg.base_model
    if name == BUILTIN:
        path, key = ensure_builtin(lake_root, ds, rebuild)
        return {"model": str(path), "revision": key, "builtin": True, "content_hash": builtin_hash(path)}
    return {"model": name, "revision": cfg.base_model_revision, "builtin": False,
            "content_hash": _identity(name, cfg.base_model_revision)}


def resolved(lake_root: str, ds: str, base_model: str | None = None) -> dict:
    """The base model the base_model step resolved for ``ds`` (a hub id or path needs no step)."""
    name = base_model or settings().training.base_model
    if name != BUILTIN:
        revision = settings().training.base_model_revision
        return {"model": name, "revision": revision, "builtin": False, "content_hash": _identity(name, revision)}
    uri = summary_uri(lake_root, _SUMMARY_STEP, ds)
    found = lakefs.read_json(uri)
    if found is None:
        raise FileNotFoundError(f"no base model resolved for ds={ds}: run the base_model step first ({uri})")
    if "content_hash" not in found:  # resolved before base identities were recorded
        found["content_hash"] = builtin_hash(Path(found["model"]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = lake_step_parser("llmops.training.base_model", __doc__.splitlines()[0])
    parser.add_argument("--base-model", help="Hugging Face id or path; 'builtin' builds the project's own")
    parser.add_argument("--rebuild", action="store_true", help="build a new builtin base from this ds and pin it")
    args = parser.parse_args(argv)
    setup_step_logging()

    def body() -> int:
        from transformers import AutoConfig  # noqa: PLC0415

        found = resolve(args.lake_root, args.ds, args.base_model, args.rebuild)
        config = AutoConfig.from_pretrained(found["model"])  # proves it loads (hub ids from the model cache)
        found["architecture"] = (config.architectures or [config.model_type])[0]
        write_summary(args.lake_root, _SUMMARY_STEP, args.ds, found)
        log.info("base model for ds=%s: %s", args.ds, found)
        return 0

    return guarded("base_model", body)


if __name__ == "__main__":
    sys.exit(main())
