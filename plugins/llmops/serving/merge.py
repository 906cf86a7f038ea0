"""Fold a LoRA adapter into its base model, so a server that cannot load adapters can serve it.

``transformers serve`` loads full models only. The merged copy is cached: its directory holds a marker
with the content digest of the base and adapter it came from, and an unchanged pair is never merged
twice. A merge is written to a private sibling directory and swapped into place, so a reader never sees
a half-written model.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

from llmops.publish import publish_partition

MARKER = "llmops-merge.json"
# Bump when the merge recipe changes so models merged by the old recipe are not reused.
_RECIPE_VERSION = 1
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def _dir_digest(digest: hashlib._Hash, root: Path) -> None:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")


def merge_digest(base_dir: Path, adapter_dir: Path) -> str:
    """Content digest of a (base, adapter) pair: every file's relative path and bytes, plus the recipe.

    Contents rather than paths or mtimes, so the marker is real lineage. Merging happens in the local
    profile only, on small models, where hashing them costs well under a second.
    """
    digest = hashlib.sha256(f"merge-recipe-{_RECIPE_VERSION}\0".encode())
    for root in (base_dir, adapter_dir):
        digest.update(b"\0dir\0")
        _dir_digest(digest, root)
    return digest.hexdigest()


def _cached(out_dir: Path, digest: str) -> bool:
    marker = out_dir / MARKER
    try:
        return json.loads(marker.read_text())["digest"] == digest
    except (OSError, ValueError, KeyError):
        return False


def merge_adapter(base_dir: str | Path, adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Merge the PEFT adapter in ``adapter_dir`` into the model in ``base_dir``; save to ``out_dir``.

    The tokenizer comes from the adapter directory when training saved one there (it is the one the
    adapter was trained with), else from the base. Returns ``out_dir``.
    """
    import torch  # noqa: PLC0415 - heavy; callers that only check the cache should not pay for it
    from peft import PeftModel  # noqa: PLC0415
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

    base_dir, adapter_dir, out_dir = Path(base_dir), Path(adapter_dir), Path(out_dir)
    for what, path in (("base model", base_dir / "config.json"), ("adapter", adapter_dir / "adapter_config.json")):
        if not path.is_file():
            raise FileNotFoundError(f"no {what} at {path.parent} (missing {path.name})")
    digest = merge_digest(base_dir, adapter_dir)
    if _cached(out_dir, digest):
        return out_dir

    has_tokenizer = any((adapter_dir / name).is_file() for name in _TOKENIZER_FILES)
    tokenizer = AutoTokenizer.from_pretrained(str(adapter_dir if has_tokenizer else base_dir))
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(str(base_dir))
        merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()

    staging = out_dir.with_name(f"_{out_dir.name}.{uuid.uuid4().hex[:12]}")
    merged.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / MARKER).write_text(
        json.dumps({"digest": digest, "base": str(base_dir), "adapter": str(adapter_dir)}, indent=2) + "\n"
    )
    publish_partition(str(staging), str(out_dir))
    return out_dir
