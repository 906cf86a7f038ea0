"""Answer quality on mirrored prompts: held-out prompts with reference answers, sent to the stable and the canary
version alike and scored with the evaluation gate's own scorer (:func:`llmops.evaluation.tasks.utils.score_generation`).

Each version is called at its own target (the version's server, or the vLLM pool under the adapter's name), not
through the stable name's split: mirrored requests must not change the per-variant traffic the other metrics
count, and the gateway offers no way to pin a version. Requests are greedy chat completions in the training
layout (:func:`llmops.tokenizer.chat_messages`), as the gate generates. A version that fails to answer scores 0
on that prompt: an error is the worst answer. Greedy answers to a repeated prompt carry no new evidence, so a
rollout never mirrors the same item twice (:func:`next_items`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from llmops.evaluation.tasks.utils import score_generation
from llmops.serving.backends.base import ServingBackend
from llmops.serving.client import OpenAIClient, ServingError
from llmops.tokenizer import chat_messages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MirrorItem:
    """A held-out example: the prompt's parts (as training lays them out) and the reference answer."""

    system: str
    instruction: str
    input: str
    reference: str

    @property
    def prompt(self) -> str:
        """The prompt as one text, as the load generator replays it through the stable name."""
        return f"{self.instruction}\n{self.input}".strip() if self.input else self.instruction


def held_out_items(lake_root: str, ds: str, limit: int | None = None) -> list[MirrorItem]:
    """The gold test split up to ``ds`` (the evaluation gate's items) as mirror items."""
    from llmops.evaluation.items import read_test_split  # noqa: PLC0415 - pyarrow, only when a rollout starts

    rows = read_test_split(lake_root, ds).to_pylist()[:limit]
    return [MirrorItem(r["system"] or "", r["instruction"] or "", r["input"] or "", r["output"] or "") for r in rows]


def next_items(items: Sequence[MirrorItem], seed: str, used: int, count: int) -> list[MirrorItem]:
    """The next ``count`` items of a fixed shuffle of ``items`` (seeded by the rollout), after the ``used`` ones
    already mirrored; fewer, or none, once the held-out set is spent."""
    order = list(items)
    random.Random(seed).shuffle(order)
    return order[used : used + count]


def version_base_url(backend: ServingBackend, version: str, pool_url: str) -> str:
    """Where ``version`` answers directly: its target's server, else the pool (vLLM) that serves it by name."""
    return f"{(backend.target(version).backend or pool_url).rstrip('/')}/v1"


def mirror(backend: ServingBackend, stable: str, canary: str, items: Sequence[MirrorItem], *, metric: str,
           max_tokens: int, pool_url: str, timeout_s: float = 120.0, workers: int = 4,
           ) -> list[tuple[float, float]]:  # fmt: skip
    """(stable score, canary score) per item, each version answering the same prompt greedily."""
    if not items:
        return []
    versions = (stable, canary)
    clients = {v: OpenAIClient(version_base_url(backend, v, pool_url), v, timeout_s=timeout_s) for v in versions}

    def score(job: tuple[str, MirrorItem]) -> float:
        version, item = job
        messages = chat_messages(item.system, item.instruction, item.input or None, None)
        try:
            answer = clients[version].chat(messages, max_tokens, temperature=0.0).text
        except ServingError as exc:
            log.warning("mirrored prompt to %s failed (scored 0): %s", version, exc)
            return 0.0
        return score_generation({"output": item.reference}, [answer])[metric]

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            scores = list(pool.map(score, [(v, item) for item in items for v in versions]))
    finally:
        for client in clients.values():
            client.close()
    return list(zip(scores[::2], scores[1::2], strict=True))
