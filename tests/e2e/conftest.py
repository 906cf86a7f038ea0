"""One live Airflow stack (api-server, scheduler, dag-processor, triggerer) shared by the tests that use the
running system the way people do: REST, the scheduler, the browser."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from llmops.stack import Stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# the alert webhook's secrets, as an Airflow connection (the receiver reads them through the secrets backends)
WEBHOOK_TOKEN, WEBHOOK_HMAC = "live-test-bearer-token", "live-test-hmac-secret"


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    lake, raw = root / "lake", root / "raw"
    stack = Stack(
        home=root / "airflow", state_dir=root / "state", port=free_port(),
        extra_env={
            "LLMOPS__PATHS__LAKE_ROOT": f"file://{lake}", "LLMOPS__PATHS__RAW_ROOT": f"file://{raw}",
            "LLMOPS__PATHS__SCRATCH_DIR": str(root / "scratch"),
            "LLMOPS__TRACKING__URI": f"sqlite:///{root}/mlflow/mlflow.db",
            "LLMOPS__TRACKING__ARTIFACT_ROOT": f"file://{root}/mlflow/artifacts",
            "LLMOPS__SPARK__SHUFFLE_PARTITIONS": "2", "LLMOPS__SPARK__DRIVER_MEMORY": "2g",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW_CONN_LLMOPS_ALERT_WEBHOOK": json.dumps({"conn_type": "generic", "extra": {
                "bearer_tokens": [WEBHOOK_TOKEN], "hmac_secrets": [WEBHOOK_HMAC]}}),
            # a failing step fails at once (a scheduled run on an empty landing zone must not block the queue)
            "LLMOPS__AIRFLOW__RETRIES": "0",
            # the smallest training that runs every step, two mapped trials: the lifecycle test chains llmops_train
            "LLMOPS__TRAINING__BUILTIN__PRETRAIN_STEPS": "20", "LLMOPS__TRAINING__SWEEP__MAX_TRIALS": "2",
            "LLMOPS__TRAINING__SWEEP__TRIAL_STEPS": "4", "LLMOPS__TRAINING__SWEEP__EVAL_EVERY": "2",
            "LLMOPS__TRAINING__MAX_STEPS": "4", "LLMOPS__TRAINING__EVAL_EVERY": "2",
            "LLMOPS__TRAINING__MAX_EVAL_EXAMPLES": "16", "LLMOPS__TRAINING__MIN_NEW_EXAMPLES": "10",
            "LLMOPS__EVALUATION__MAX_NEW_TOKENS": "16",
        },
    )
    stack.up()
    headers = {"Authorization": f"Bearer {stack.token('admin')}"}
    deadline = time.monotonic() + 180
    while True:  # the dag-processor's first parse: every llmops DAG listed, as up left it
        dags = httpx.get(f"{stack.url}/api/v2/dags", params={"dag_id_pattern": "llmops_"}, timeout=30,
                         headers=headers).json()["dags"]
        if {"llmops_data", "llmops_train"} <= {d["dag_id"] for d in dags} or time.monotonic() > deadline:
            break
        time.sleep(2)
    stack.paused_after_up = {d["dag_id"]: d["is_paused"] for d in dags}
    try:
        yield stack
    finally:
        stack.down()
