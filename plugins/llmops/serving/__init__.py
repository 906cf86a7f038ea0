"""Model serving: every evaluation, scan and rollout talks to a model through one OpenAI-compatible endpoint.

``merge`` folds a LoRA adapter into its base (``transformers serve`` cannot load an adapter directory),
``server`` runs a merged model locally behind ``gateway`` (request limits, the sticky traffic split of
``traffic``, the per-variant series of ``gateway_metrics``), ``client`` talks to that endpoint or to vLLM in
the kubernetes profile, ``vllm`` renders vLLM's command line for the cluster, and ``backends`` serves
versions for a canary rollout (``vllm`` adapters in one pool, or ``local`` CPU servers). Nothing heavy is
imported here, so DAG files may import the package.
"""
