"""A candidate's adapter folded into its base model, for servers without LoRA support."""

from __future__ import annotations

from pathlib import Path

from llmops.candidates.lookup import Candidate


def merged_model(candidate: Candidate) -> Path:
    """The candidate's adapter folded into its base, cached beside the adapter (for servers without LoRA)."""
    from llmops.serving.merge import merge_adapter  # noqa: PLC0415 - torch

    base = Path(candidate.base)
    if not base.is_dir():  # a hub id: its snapshot in the local Hugging Face cache
        from huggingface_hub import snapshot_download  # noqa: PLC0415

        base = Path(snapshot_download(candidate.base, revision=candidate.base_revision or None))
    return merge_adapter(base, candidate.adapter_dir, candidate.adapter_dir.parent / "merged")
