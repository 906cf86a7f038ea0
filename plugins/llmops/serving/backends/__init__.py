"""Serving backends for canary rollouts: one small interface (:class:`~llmops.serving.backends.base.ServingBackend`:
load version, unload version, set weights, read metrics), implemented by ``vllm`` (adapters loaded at run time
into a vLLM server the deploy step reaches), ``adapter_pool`` (in kubernetes, adapters listed in the pool's traffic
table and loaded by every pod's gateway), ``two_deployments`` (in kubernetes, a candidate on another base in a vLLM
pool of its own, split from the champion's by an HTTPRoute) and ``local`` (one CPU ``transformers serve`` process
per version).
All sit behind the same gateway, so the rollout code does not fork. Nothing heavy is imported here."""
