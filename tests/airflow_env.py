"""Environment for running Airflow against this repository's DAGs in a throw-away home."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def airflow_env(home: Path, lake: Path | None = None, raw: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "LLMOPS__"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="120",
        PYSPARK_PYTHON=sys.executable,
        PATH=f"{BIN}:{env.get('PATH', '')}",
        LLMOPS__SPARK__SHUFFLE_PARTITIONS="2",
        LLMOPS__SPARK__DRIVER_MEMORY="2g",
        LLMOPS__PATHS__SCRATCH_DIR=str(home / "scratch"),
        LLMOPS__TRACKING__URI=f"sqlite:///{home}/mlflow/mlflow.db",
        LLMOPS__TRACKING__ARTIFACT_ROOT=f"file://{home}/mlflow/artifacts",
    )
    if lake is not None:
        env["LLMOPS__PATHS__LAKE_ROOT"] = f"file://{lake}"
    if raw is not None:
        env["LLMOPS__PATHS__RAW_ROOT"] = f"file://{raw}"
    env.update(extra)
    return env
