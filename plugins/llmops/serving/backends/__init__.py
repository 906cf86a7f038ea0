"""Serving backends for canary rollouts: one small interface (:class:`~llmops.serving.backends.base.ServingBackend`:
load version, unload version, set weights, read metrics), implemented by ``vllm`` (adapters loaded at run time
into one vLLM pool) and ``local`` (one CPU ``transformers serve`` process per version). Both sit behind the same
gateway, so the rollout code does not fork. Nothing heavy is imported here."""
