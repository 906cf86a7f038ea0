"""Partition publishing (llmops.publish), date validation (llmops.lake) and settings validation."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from llmops import lake, lakefs
from llmops.config import ConfigError, load_settings
from llmops.publish import publish_partition


def _partition(root, name: str, files: dict[str, str]):
    d = root / name
    d.mkdir(parents=True)
    for fname, content in files.items():
        (d / fname).write_text(content)
    return d


def test_publish_replaces_a_partition_in_one_step(tmp_path):
    table = tmp_path / "silver" / "tickets"
    old = _partition(table, "ds=2026-11-20", {"part-0.parquet": "old"})
    staging = _partition(table / "_staging", "ds=2026-11-20.abc", {"part-0.parquet": "new", "part-1.parquet": "new"})
    publish_partition(f"file://{staging}", f"file://{old}")
    assert sorted(p.name for p in old.iterdir()) == ["part-0.parquet", "part-1.parquet"]
    assert (old / "part-0.parquet").read_text() == "new"
    assert not staging.exists()
    assert lakefs.list_partitions(f"file://{table}") == ["2026-11-20"]


def _reader(path: str, stop: float, seen) -> None:
    while time.monotonic() < stop:
        try:
            seen.append(tuple(sorted(os.listdir(path))))
        except FileNotFoundError:
            seen.append(("<missing>",))


def test_readers_never_see_a_mix_or_a_gap(tmp_path):
    table = tmp_path / "t"
    target = _partition(table, "ds=2026-11-20", {"a": "v0"})
    with multiprocessing.Manager() as manager:
        seen = manager.list()
        reader = multiprocessing.Process(target=_reader, args=(str(target), time.monotonic() + 1.5, seen))
        reader.start()
        for i in range(200):
            files = {"a": f"v{i}", "b": f"v{i}"} if i % 2 else {"c": f"v{i}"}
            staging = _partition(table / "_staging", f"ds=2026-11-20.{i}", files)
            publish_partition(f"file://{staging}", f"file://{target}")
        reader.join()
        observed = set(seen)
    assert observed <= {("a",), ("a", "b"), ("c",)}, observed - {("a",), ("a", "b"), ("c",)}


def test_a_job_killed_before_publishing_leaves_the_old_partition(tmp_path):
    table = tmp_path / "t"
    target = _partition(table, "ds=2026-11-20", {"part-0": "old"})
    _partition(table / "_staging", "ds=2026-11-20.dead", {"part-0": "half"})  # never published
    assert (target / "part-0").read_text() == "old"
    assert lakefs.list_partitions(f"file://{table}") == ["2026-11-20"]  # staging is invisible


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-02-30", "20261120", "", "2026-1-5"])
def test_bad_dates_rejected(bad):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        lake.check_ds(bad)


def test_previous_partition(tmp_path):
    for ds in ("2026-11-18", "2026-11-20", "2026-11-21"):
        (tmp_path / f"ds={ds}").mkdir()
    assert lakefs.previous_partition(f"file://{tmp_path}", "2026-11-21") == "2026-11-20"
    assert lakefs.previous_partition(f"file://{tmp_path}", "2026-11-18") is None


def test_settings_profiles_and_overrides():
    assert load_settings("local", environ={}).runtime.kind == "local"
    assert load_settings("kubernetes", environ={}).paths.lake_root.startswith("s3a://")
    cfg = load_settings("local", environ={"LLMOPS__DATA__LANGUAGES": "[en, de]"})
    assert cfg.data.languages == ["en", "de"]
    k8s = load_settings("kubernetes", environ={})
    assert k8s.training.base_model != "builtin" and k8s.runtime.pods["trainer"].gpus == 1
    assert k8s.tracking.uri.startswith("http")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LLMOPS__DATA__MAX_QUARANTINE_RATE": "1.5"}, "data.max_quarantine_rate"),
        ({"LLMOPS__PATHS__LAKE_ROOT": "/no/scheme"}, "expected a URI"),
        ({"LLMOPS__DATA__SPLIT_FRACTIONS": "[0.5, 0.2, 0.2]"}, "add up to 1"),
        ({"LLMOPS__RUNTIME__KIND": "slurm"}, "runtime.kind"),
        ({"LLMOPS__DATA__UNKNOWN_SETTING": "1"}, "unknown_setting"),
        ({"LLMOPS__RUNTIME__STARTUP_TIMEOUT_S": "120"}, "runtime.startup_timeout_s"),
        ({"LLMOPS__TRAINING__METHOD": "fp8"}, "training.method"),
        ({"LLMOPS__TRAINING__SWEEP__SPACE__LEARNING_RATE": "[0.01, 0.001]"}, "0 < low < high"),
        ({"LLMOPS__TRAINING__SWEEP__SPACE__LORA_RANK": "[]"}, "at least one choice"),
        ({"LLMOPS__EVALUATION__THRESHOLDS": "{exact_match: null, f1: null, rouge_l: null, nll: null}"},
         "at least one metric threshold"),  # null drops a default metric (an override merges, see config._layer)
        ({"LLMOPS__SERVING__CLIENT_TIMEOUT_S": "10"}, "client_timeout_s must exceed"),
        ({"LLMOPS__DEPLOY__ANALYSIS__QUALITY_PROMPTS_PER_STEP": "5"}, "at least quality_min_prompts"),
    ],
)
def test_bad_settings_name_the_setting(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings("local", environ=environ)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigError, match="known profiles: integration, kubernetes, local"):
        load_settings("prod", environ={})
