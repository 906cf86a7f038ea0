"""Every Asset of the model's lifecycle, declared once: DAGs import them from here, never declare their own.

Data-aware scheduling matches Assets by name and URI, so two declarations that drift apart silently stop a
downstream DAG from running. Each line says what emits the Asset and who schedules on it.
"""

from __future__ import annotations

from airflow.sdk import Asset

from llmops.config import settings

_cfg = settings()
_LAKE = _cfg.paths.lake_root
_REGISTRY = f"mlflow://registry/{_cfg.tracking.registered_model}"

# emitted by llmops_data (gate_gold, once gold passes its gate); llmops_train schedules on it (or weekly)
GOLD_SFT = Asset(name="gold_sft", uri=f"{_LAKE}/gold/sft")
# emitted by llmops_data (feast_materialize); read by training through Feast, nothing schedules on it yet
TRAINING_FEATURES = Asset(name="llm_training_features", uri=f"{_LAKE}/features/llm_training_features")
# emitted by llmops_train (register: a new registry version, alias challenger); nothing schedules on it
MODEL_CANDIDATES = Asset(name="model_candidates", uri=_REGISTRY)
# emitted by llmops_train (decide: a version tagged passed or rejected); llmops_deploy schedules on it
MODEL_PASSED_GATES = Asset(name="model_passed_gates", uri=f"{_REGISTRY}/passed")
# emitted by llmops_deploy when a canary is promoted (alias champion moves); monitoring follows the new version
MODEL_DEPLOYED = Asset(name="model_deployed", uri=f"{_REGISTRY}/champion")
# emitted by the alert webhook receiver (Alertmanager's drift alerts); llmops_train schedules on it
DRIFT_ALERTS = Asset(name="drift_alerts", uri="x-llmops://monitoring/drift_alerts")
