"""Training: the project's own base model, QLoRA/LoRA fine-tuning, HyperOpt sweeps, MLflow tracking and registry.

Every heavy piece is a command line (``python -m llmops.training.<module> ...``) that a DAG runs as a local
process or in a GPU pod, and that ``llmops train run`` runs in order outside Airflow.
"""
