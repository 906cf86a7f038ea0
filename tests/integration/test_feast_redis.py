"""Feast online reads from a real Redis at 127.0.0.1:6379 (the `integration` profile's online store)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis

from llmops import feature_store as fsm
from llmops.config import load_settings
from spark_jobs.schemas import LLM_TRAINING_FEATURES
from spark_jobs.session import write_partition

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 11, 21, 8, 15, tzinfo=dt.UTC)


@pytest.fixture
def cfg(lake_root):
    # a project of its own: keys of other runs sharing this Redis are never read or deleted
    return load_settings(
        "integration",
        environ={
            "LLMOPS__PATHS__LAKE_ROOT": lake_root,
            "LLMOPS__FEAST__PROJECT": f"it{uuid.uuid4().hex[:12]}",
        },
    )


def project_keys(client: redis.Redis, project: str) -> list[bytes]:
    return list(client.scan_iter(match=f"*{project}"))  # Feast's Redis keys end with the project name


def test_materialize_and_read_online_from_redis(spark, cfg, lake_root):
    ids = [f"ex-{i}" for i in range(50)]
    features = [
        {
            "example_id": e,
            "event_timestamp": AT,
            "source": "tickets",
            "language": "en",
            "n_chars": 100 + i,
            "question_chars": 30,
            "answer_chars": 70 + i,
            "quality_score": 1.0,
            "quality_flags": [] if i % 2 else ["masked_heavy"],
            "injection_flag": i == 7,
            "injection_rule": "ignore_instructions" if i == 7 else None,
            "dedup_cluster": f"c{i}",
            "split": "train",
        }
        for i, e in enumerate(ids)
    ]
    write_partition(
        spark.createDataFrame(features, LLM_TRAINING_FEATURES),
        lake_root,
        "features",
        "llm_training_features",
        "2026-11-21",
    )

    client = redis.Redis.from_url(f"redis://{cfg.feast.redis_connection}")
    fs = fsm.store(cfg)
    assert fs.config.online_store.type == "redis"
    try:
        fsm.apply(cfg)
        fsm.materialize(cfg, dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
        assert len(project_keys(client, cfg.feast.project)) == len(ids)  # one hash per example

        online = fsm.read_online(["ex-7", "ex-0", "missing"], cfg=cfg)
        assert online["injection_flag"] == [True, False, None]
        assert online["quality_flags"] == [[], ["masked_heavy"], None]
        assert online["answer_chars"] == [77, 70, None] and online["dedup_cluster"] == ["c7", "c0", None]
    finally:
        fsm.store(cfg).teardown()
    assert project_keys(client, cfg.feast.project) == []
