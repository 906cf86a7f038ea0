"""Model serving: every evaluation and scan talks to a model through one OpenAI-compatible endpoint.

``merge`` folds a LoRA adapter into its base (``transformers serve`` cannot load an adapter directory),
``server`` runs a merged model locally behind ``gateway`` (the request limits), ``client`` talks to that
endpoint or to vLLM in the kubernetes profile, and ``vllm`` renders vLLM's command line for the cluster.
Nothing heavy is imported here, so DAG files may import the package.
"""
