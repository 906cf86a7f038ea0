"""vLLM's command line for the kubernetes profile: the base model plus the candidate's LoRA adapter.

vLLM loads the adapter next to the base weights (no merge), so a canary swaps adapters without copying
a model. The flags were checked against vLLM's own argument definitions (``vllm serve`` with
``--enable-lora``, ``--lora-modules name=path``, ``--max-lora-rank``, ``--max-loras``,
``--override-generation-config``); containers/vllm/deployment.yaml runs exactly this line, which a test
checks. vLLM listens on localhost only: clients reach it through the gateway sidecar. The pool holds at
least two adapters (the stable version and a canary) and accepts more at run time
(``VLLM_ALLOW_RUNTIME_LORA_UPDATING``, :mod:`llmops.serving.lora`), which the gateway beside it loads
(:mod:`llmops.serving.adapter_sync`).
"""

from __future__ import annotations

import json

# The environment every vLLM container gets: adapters are loaded and unloaded by name at run time.
VLLM_ENV = {"VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True"}
# The values LoRAConfig.max_lora_rank accepts (vllm/config/lora.py, MaxLoRARanks).
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def max_lora_rank(rank: int) -> int:
    """The smallest rank vLLM accepts for ``--max-lora-rank`` that still holds an adapter of ``rank``."""
    fitting = [r for r in VLLM_LORA_RANKS if r >= rank]
    if rank < 1 or not fitting:
        raise ValueError(f"LoRA rank must be between 1 and {VLLM_LORA_RANKS[-1]} to serve with vLLM, got {rank}")
    return fitting[0]


def vllm_args(
    base_model: str,
    adapter_name: str | None = None,
    adapter_path: str | None = None,
    *,
    max_model_len: int,
    max_tokens: int,
    lora_rank: int = 16,
    served_model_name: str = "base",
    port: int = 8000,
    gpu_memory_utilization: float = 0.9,
    max_num_seqs: int = 32,
    max_loras: int = 2,
) -> list[str]:
    """``vllm serve`` serving ``base_model`` as ``served_model_name`` and the adapter as ``adapter_name`` (none: the
    pool starts with the base alone and versions are loaded at run time by name).

    ``max_tokens`` becomes vLLM's own ceiling on generated tokens (``max_new_tokens`` in the overridden
    generation config caps every request's max_tokens), a second line behind the gateway's cap. The
    adapter goes in vLLM's ``name=path`` form, which vLLM reads as JSON once a ``,`` appears: hence the
    check on the characters.
    """
    if (adapter_name is None) != (adapter_path is None):
        raise ValueError("give both adapter_name and adapter_path, or neither")
    if adapter_name and any(c in value for value in (adapter_name, adapter_path) for c in ",="):
        raise ValueError(f"adapter name and path must not contain ',' or '=': {adapter_name!r}, {adapter_path!r}")
    if max_loras < 2:
        raise ValueError(f"max_loras must be at least 2 (the stable and a canary adapter at once), got {max_loras}")
    if max_tokens >= max_model_len:
        raise ValueError(f"max_tokens ({max_tokens}) must leave room for a prompt in max_model_len ({max_model_len})")
    return [
        "vllm", "serve", base_model,
        "--host", "127.0.0.1", "--port", str(port),
        "--served-model-name", served_model_name,
        "--max-model-len", str(max_model_len),
        "--max-num-seqs", str(max_num_seqs),
        "--gpu-memory-utilization", str(gpu_memory_utilization),
        "--override-generation-config", json.dumps({"max_new_tokens": max_tokens}),
        "--enable-lora",
        *(["--lora-modules", f"{adapter_name}={adapter_path}"] if adapter_name else []),
        "--max-lora-rank", str(max_lora_rank(lora_rank)),
        "--max-loras", str(max_loras),
    ]  # fmt: skip
