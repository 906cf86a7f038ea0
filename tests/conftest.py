"""Shared fixtures. Every test runs against a throw-away lake and Airflow home under tmp paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Spark workers must use this interpreter; tldextract (Presidio) must never reach for the network.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("LLMOPS_PSEUDONYM_KEY", "test-only-pseudonym-key")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local Spark session for the whole test run (JVM start-up costs seconds)."""
    from llmops.config import load_settings
    from spark_jobs.session import get_spark

    scratch = tmp_path_factory.mktemp("spark-scratch")
    cfg = load_settings(
        "local",
        environ={
            "LLMOPS__SPARK__MASTER": "local[2]",
            "LLMOPS__SPARK__SHUFFLE_PARTITIONS": "2",
            "LLMOPS__SPARK__DRIVER_MEMORY": "2g",
            "LLMOPS__PATHS__SCRATCH_DIR": str(scratch),
        },
    )
    session = get_spark("llmops-tests", cfg)
    yield session
    session.stop()


@pytest.fixture
def lake_root(tmp_path) -> str:
    return f"file://{tmp_path}/lake"
