"""The project's own tokenizer: byte-level BPE trained on silver text, saved as a Hugging Face tokenizer.

Nothing comes from the hub, so the project trains its tokenizer on its own (already masked) text and
saves it with ``save_pretrained``; everything downstream loads it with ``AutoTokenizer.from_pretrained``
exactly as it would load a hub id. Built tokenizers are cached in the lake under a key derived from the
training text and the build settings, so an unchanged input never retrains. The training text is read from
silver with pyarrow (no Spark session): the featurize job and the builtin base model both call
:func:`resolve_tokenizer`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from llmops import lake, lakefs
from llmops.contracts.personal_data import PLACEHOLDERS as MASK_PLACEHOLDERS

log = logging.getLogger(__name__)

PAD, BOS, EOS, IM_START, IM_END = "<|pad|>", "<|bos|>", "<|eos|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (PAD, BOS, EOS, IM_START, IM_END)
# The raw-landing contract's personal-data placeholders. Ordinary (non-special) added tokens: each stays
# one token, and decoding with skip_special_tokens=True still shows them.
PLACEHOLDERS = tuple(MASK_PLACEHOLDERS.values())

# ChatML turns. A conversation that ends with the assistant's answer ends with EOS, so a model trained on
# these ids learns to stop and plain ``generate()`` (which stops at eos_token_id) does too.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% elif messages and messages[-1]['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
)

# Bump when the build recipe changes so cached tokenizers built by the old recipe are not reused.
_RECIPE_VERSION = 1
DEFAULT_VOCAB_SIZE = 8192
_PIN = "CURRENT"  # file naming the cache key of the lake's pinned tokenizer
MAX_TRAINING_CHARS = 4_000_000
# Silver text the tokenizer learns from: table -> (columns read, one text per ticket message, FAQ entry, review)
_TRAINING_TEXT = {
    "tickets": (["messages"], lambda t: pc.struct_field(pc.list_flatten(t["messages"]), "text")),
    "faq": (["question", "answer"],
            lambda t: pc.binary_join_element_wise(t["question"], t["answer"], "\n", null_handling="skip")),
    "reviews": (["body"], lambda t: t["body"]),
}


def chat_messages(
    system: str, instruction: str, context: str | None, answer: str | None
) -> list[dict[str, str]]:
    """One SFT example as chat messages; the single place that decides the prompt layout."""
    user = f"Context:\n{context}\n\nQuestion:\n{instruction}" if context else instruction
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def build_tokenizer(texts: Iterable[str], out_dir: Path, vocab_size: int = DEFAULT_VOCAB_SIZE) -> Path:
    """Train a byte-level BPE tokenizer on ``texts`` and save it (Hugging Face format) to ``out_dir``."""
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    backend.add_tokens([AddedToken(p, normalized=False, single_word=False) for p in PLACEHOLDERS])
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        bos_token=BOS,
        eos_token=EOS,
        additional_special_tokens=[IM_START, IM_END],
        chat_template=CHAT_TEMPLATE,
        model_max_length=1_000_000,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wrapped.save_pretrained(out_dir)
    return out_dir


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """Load a saved tokenizer the way a hub model id would be loaded."""
    return AutoTokenizer.from_pretrained(str(path))


def texts_digest(texts: Iterable[str]) -> str:
    """sha256 over the texts in order (NUL-separated, so boundaries count)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def cache_key(texts: Sequence[str], vocab_size: int = DEFAULT_VOCAB_SIZE) -> str:
    """Content key of a tokenizer build: the training text plus every setting that shapes the result."""
    recipe = {
        "texts": texts_digest(texts),
        "vocab_size": vocab_size,
        "special_tokens": SPECIAL_TOKENS,
        "placeholders": PLACEHOLDERS,
        "chat_template": CHAT_TEMPLATE,
        "recipe": _RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def _tokenizers_root(lake_root: str) -> Path:
    if not lake.is_local(lake_root):
        raise NotImplementedError(f"tokenizers are cached on a local lake only, got {lake_root!r}")
    return lake.local_path(lake.join(lake_root, "models", "tokenizer"))


def tokenizer_dir(lake_root: str, key: str) -> Path:
    """Where the tokenizer with cache ``key`` lives: ``<lake_root>/models/tokenizer/<key>/``."""
    return _tokenizers_root(lake_root) / key


def ensure_tokenizer(texts: Sequence[str], lake_root: str, vocab_size: int = DEFAULT_VOCAB_SIZE) -> Path:
    """The cached tokenizer for these texts and settings, trained first if it does not exist yet.

    A build goes to a private sibling directory and is renamed into place, so a reader never sees a
    half-written tokenizer and two concurrent builders cannot mix files (the loser's copy is discarded).
    """
    target = tokenizer_dir(lake_root, cache_key(texts, vocab_size))
    if target.is_dir():
        return target
    if not texts:
        raise ValueError("cannot train a tokenizer on no text")
    staging = target.with_name(f"_{target.name}.{uuid.uuid4().hex[:12]}")
    build_tokenizer(texts, staging, vocab_size)
    try:
        os.rename(staging, target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(staging, ignore_errors=True)  # a concurrent build got there first
    return target


def pinned_tokenizer(lake_root: str) -> Path | None:
    """The lake's pinned tokenizer (the one every features partition is encoded with), if any."""
    pin = _tokenizers_root(lake_root) / _PIN
    return tokenizer_dir(lake_root, pin.read_text().strip()) if pin.exists() else None


def pin_tokenizer(lake_root: str, path: Path) -> Path:
    """Pin ``path`` as the lake's tokenizer unless one is pinned already; return the pinned one.

    Token ids are only comparable under one vocabulary, so the first tokenizer built for a lake stays
    its tokenizer: later partitions are encoded with it, not with one retrained on their own text. The
    pin file is created with ``os.link`` (fails if it exists), so of two racing first runs one wins.
    """
    path = Path(path)
    if path.parent != _tokenizers_root(lake_root):
        raise ValueError(f"{path} is not a tokenizer cached in {lake_root}")
    pin = path.parent / _PIN
    tmp = path.parent / f"_{_PIN}.{uuid.uuid4().hex[:12]}"
    tmp.write_text(path.name + "\n")
    try:
        os.link(tmp, pin)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return pinned_tokenizer(lake_root)


def training_texts(lake_root: str, ds: str, max_chars: int = MAX_TRAINING_CHARS) -> list[str]:
    """The ``ds`` silver text to train a tokenizer on: non-blank, in a stable order (by sha256), about
    ``max_chars`` long. A source without a partition that day contributes nothing."""
    texts: list[str] = []
    for table, (columns, extract) in _TRAINING_TEXT.items():
        uri = lake.partition_uri(lake_root, "silver", table, ds)
        if not lakefs.exists(uri):
            log.warning("no silver %s partition for ds=%s", table, ds)
            continue
        rows = lakefs.read_parquet(uri, columns)
        column = extract(rows)
        texts += (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).to_pylist()
    texts = sorted((t for t in texts if t and t.strip(" ")), key=lambda t: hashlib.sha256(t.encode()).hexdigest())
    kept, total = [], 0
    for text in texts:
        kept.append(text)
        total += len(text)
        if total >= max_chars:
            break
    return kept


def resolve_tokenizer(lake_root: str, ds: str) -> Path:
    """The lake's pinned tokenizer; on a lake without one, build it from this ``ds``'s silver and pin it."""
    pinned = pinned_tokenizer(lake_root)
    if pinned is not None:
        return pinned
    return pin_tokenizer(lake_root, ensure_tokenizer(training_texts(lake_root, ds), lake_root))
