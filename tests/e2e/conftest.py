"""One live Airflow stack (api-server, scheduler, dag-processor, triggerer) shared by the tests that use the
running system the way people do: REST, the scheduler, the browser."""

from __future__ import annotations

import socket

import pytest

from llmops.stack import Stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
        },
    )
    stack.up()
    try:
        yield stack
    finally:
        stack.down()
