"""Feast over the lake: apply, incremental materialization into SQLite, online and point-in-time reads."""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import pytest

from llmops import feature_store as fsm
from llmops import lake
from llmops.config import load_settings
from spark_jobs.schemas import LLM_TRAINING_FEATURES
from spark_jobs.session import write_partition

UTC = dt.UTC
T1 = dt.datetime(2026, 11, 20, 10, 0, 0, 250_000, tzinfo=UTC)
T2 = dt.datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)


def features_row(example_id: str, at: dt.datetime, n_chars: int, split: str = "train") -> dict:
    return {
        "example_id": example_id,
        "event_timestamp": at,
        "source": "faq",
        "language": "en",
        "n_chars": n_chars,
        "question_chars": 10,
        "answer_chars": n_chars - 10,
        "quality_score": n_chars / 100,
        "quality_flags": ["short_answer"] if n_chars < 50 else [],
        "injection_flag": False,
        "injection_rule": None,
        "dedup_cluster": f"c-{example_id}",
        "split": split,
    }


def publish(spark, lake_root: str, ds: str, features: list[dict]) -> None:
    """Write the features table the way featurize does (Spark, microsecond UTC timestamps, atomic publish)."""
    write_partition(
        spark.createDataFrame(features, LLM_TRAINING_FEATURES), lake_root, "features", "llm_training_features", ds
    )


def publish_two_days(spark, lake_root: str) -> None:
    """Example `a` at T1 (day 1) and again, revised, at T2 (day 2); `b` only at T2."""
    publish(spark, lake_root, "2026-11-20", [features_row("a", T1, 40)])
    publish(spark, lake_root, "2026-11-21", [features_row("a", T2, 80), features_row("b", T2, 60, "test")])


@pytest.fixture(scope="module")
def shared_lake(spark, tmp_path_factory) -> str:
    """One lake with both days for the tests below; each test registers its own Feast project in it."""
    lake_root = f"file://{tmp_path_factory.mktemp('feast')}/lake"
    publish_two_days(spark, lake_root)
    return lake_root


@pytest.fixture
def cfg(shared_lake):
    project = f"t{uuid.uuid4().hex[:10]}"  # own registry entries and online tables
    return load_settings(
        "local", environ={"LLMOPS__PATHS__LAKE_ROOT": shared_lake, "LLMOPS__FEAST__PROJECT": project}
    )


def definitions(fs) -> dict[str, object]:
    return {o.name: o for o in [*fs.list_entities(), *fs.list_feature_views(), *fs.list_feature_services()]}


def test_apply_materialize_and_read_online(cfg, shared_lake):
    fs = fsm.apply(cfg)
    assert {fv.name for fv in fs.list_feature_views()} == {"llm_training_features"}
    assert fs.get_entity("example").join_key == "example_id"
    fsm.materialize(cfg, dt.datetime(2026, 11, 21, tzinfo=UTC))  # day 1 only
    day1 = fsm.read_online(["a", "b"], cfg=cfg)
    assert day1["quality_flags"] == [["short_answer"], None] and day1["n_chars"] == [40, None]

    before = definitions(fsm.store(cfg))
    again = definitions(fsm.apply(cfg))  # idempotent: same definitions, materialization state kept
    assert again == before and len(before) == 3
    assert again["llm_training_features"].most_recent_end_time == dt.datetime(2026, 11, 21, tzinfo=UTC)
    assert fsm.read_online(["a"], ["llm_training_features:answer_chars"], cfg)["answer_chars"] == [30]

    fsm.materialize(cfg, dt.datetime(2026, 11, 22, tzinfo=UTC))  # incremental: day 2 on top
    online = fsm.read_online(["a", "b", "nope"], cfg=cfg)
    assert online["example_id"] == ["a", "b", "nope"]
    assert online["quality_score"] == [0.8, 0.6, None] and online["quality_flags"] == [[], [], None]
    assert online["n_chars"] == [80, 60, None] and online["split"] == ["train", "test", None]
    assert online["injection_flag"] == [False, False, None] and online["dedup_cluster"] == ["c-a", "c-b", None]
    assert fsm.read_online(["b"], ["llm_training_features:source"], cfg) == {"example_id": ["b"], "source": ["faq"]}
    assert (lake.local_path(shared_lake) / "features" / "_feast" / "online.db").is_file()


def test_training_frame_is_point_in_time_correct(cfg):
    fsm.apply(cfg)
    entities = pd.DataFrame(
        {
            "example_id": ["a", "a", "a", "a", "b"],
            "event_timestamp": [T1 - dt.timedelta(seconds=1), T1, T1 + dt.timedelta(hours=1), T2, T1],
        }
    )
    frame = (
        fsm.training_frame(entities, cfg)
        .sort_values(["example_id", "event_timestamp"])
        .reset_index(drop=True)
    )
    assert len(frame) == len(entities)  # no entity row is dropped, even with no feature row before it
    before, at_t1, between, at_t2, b_early = (frame.iloc[i] for i in range(5))
    assert before["quality_flags"] is None and pd.isna(before["n_chars"])
    assert list(at_t1["quality_flags"]) == ["short_answer"] and at_t1["n_chars"] == 40
    assert between["n_chars"] == 40 and between["quality_score"] == 0.4
    assert list(at_t2["quality_flags"]) == [] and at_t2["n_chars"] == 80
    assert pd.isna(b_early["n_chars"])  # b's only row is later than the entity row


def test_half_written_partitions_are_invisible(spark, cfg, shared_lake):
    # what a killed writer leaves behind: a staging directory next to the partitions
    staging = lake.staging_uri(shared_lake, "features", "llm_training_features", "2026-11-22")
    spark.createDataFrame([features_row("c", T2, 20)], LLM_TRAINING_FEATURES).write.parquet(staging)
    fsm.apply(cfg)
    frame = fsm.training_frame(
        pd.DataFrame({"example_id": ["c"], "event_timestamp": [T2 + dt.timedelta(days=1)]}),
        cfg,
        ["llm_training_features:n_chars"],
    )
    assert pd.isna(frame["n_chars"].iloc[0])


def test_feast_env_keeps_state_in_the_lake_and_picks_the_online_store(cfg, shared_lake):
    env = fsm.feast_env(cfg)
    feast_dir = str(lake.local_path(shared_lake) / "features" / "_feast")
    assert env["LLMOPS_FEAST_REGISTRY"] == f"{feast_dir}/registry.db"
    assert env["LLMOPS_FEAST_ONLINE_STORE"] == f'{{"type": "sqlite", "path": "{feast_dir}/online.db"}}'
    assert env["LLMOPS_FEAST_FEATURES_PATH"] == str(lake.local_path(shared_lake) / "features")
    redis = load_settings("integration", environ={"LLMOPS__PATHS__LAKE_ROOT": "s3a://bucket/lake"})
    env = fsm.feast_env(redis)
    assert env["LLMOPS_FEAST_ONLINE_STORE"] == '{"type": "redis", "connection_string": "127.0.0.1:6379"}'
    assert env["LLMOPS_FEAST_REGISTRY"] == "s3://bucket/lake/features/_feast/registry.db"
    assert fsm.store(cfg).config.online_store.type == "sqlite"


def test_run_apply_and_materialize_and_cli(spark, lake_root):
    publish_two_days(spark, lake_root)
    summary = fsm.run_apply_and_materialize(lake_root, "2026-11-21")
    assert summary["partition_rows"] == summary["online_checked"] == summary["online_found"] == 2
    assert summary["end"] == "2026-11-22T00:00:00+00:00" and summary["late_rows_window"] is None

    # the next day brings a row whose event time lies before the previous run's end (a late arrival):
    # incremental materialization alone would never look at it
    late, fresh = T1 - dt.timedelta(hours=1), T2 + dt.timedelta(days=1)
    publish(spark, lake_root, "2026-11-22", [features_row("late", late, 30), features_row("c", fresh, 35)])
    summary = fsm.run_apply_and_materialize(lake_root, "2026-11-22")
    assert summary["online_found"] == summary["online_checked"] == 2
    assert summary["late_rows_window"] == [late.isoformat(), "2026-11-22T00:00:00+00:00"]
    cfg = fsm.with_lake_root(fsm.settings(), lake_root)
    assert fsm.read_online(["a", "late", "c"], ["llm_training_features:n_chars"], cfg)["n_chars"] == [80, 30, 35]

    assert fsm.main(["--lake-root", lake_root, "--ds", "2026-11-22"]) == 0
    assert fsm.main(["--lake-root", lake_root, "--ds", "2026-11-23"]) == 2  # no such features partition
