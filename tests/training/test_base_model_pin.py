"""One base for an adapter canary: the builtin base model is built once and pinned, so runs on other days' silver
train on the same base (same content hash); ``--rebuild`` makes and pins a new one; lineage carries the identity
and ``same_base`` tells the deploy stage which rollout path a candidate needs."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from llmops.config import settings
from llmops.training import base_model, lineage
from tests.training.conftest import training_environ

DAY1, DAY2 = "2026-11-20", "2026-11-21"
TINY_RECIPE = {"HIDDEN_SIZE": "32", "INTERMEDIATE_SIZE": "64", "LAYERS": "1", "HEADS": "2", "MAX_POSITIONS": "32",
               "PRETRAIN_STEPS": "3", "BATCH_SIZE": "2", "SEQ_LEN": "16"}  # fmt: skip


def _write_faq(lake, ds: str, topic: str) -> None:
    part = lake / "silver" / "faq" / f"ds={ds}"
    part.mkdir(parents=True)
    questions = [f"How do I {verb} my {topic} number {i}?" for i in range(60) for verb in ("return", "track")]
    answers = [f"You can {q.split()[3]} the {topic} from your account page within {i % 30 + 1} days."
               for i, q in enumerate(questions)]  # fmt: skip
    pq.write_table(pa.table({"question": questions, "answer": answers}), part / "part-00000.parquet")


@pytest.fixture
def lake(tmp_path, monkeypatch):
    for key, value in training_environ(tmp_path).items():
        monkeypatch.setenv(key, value)
    for key, value in TINY_RECIPE.items():
        monkeypatch.setenv(f"LLMOPS__TRAINING__BUILTIN__{key}", value)
    monkeypatch.setenv("LLMOPS__TRAINING__BASE_MODEL", "builtin")
    settings.cache_clear()
    lake = tmp_path / "lake"
    _write_faq(lake, DAY1, "order")
    _write_faq(lake, DAY2, "parcel")  # another day's silver: the old cache key would have rebuilt
    yield lake
    settings.cache_clear()


def _tags(found: dict) -> dict[str, str]:
    return {"llmops.base_model": found["model"], "llmops.base_model_hash": found["content_hash"]}


def test_the_base_is_pinned_across_days_and_rebuilt_only_on_request(lake):
    root = f"file://{lake}"
    first = base_model.resolve(root, DAY1)
    assert first["builtin"] and len(first["content_hash"]) == 64
    assert first["content_hash"] == base_model.content_hash(first["model"])  # the recorded hash is the files'
    second = base_model.resolve(root, DAY2)
    assert second == first  # same path, same content hash, although DAY2's text differs

    assert base_model.main(["--lake-root", root, "--ds", DAY2, "--base-model", "builtin", "--rebuild"]) == 0
    rebuilt = base_model.resolved(root, DAY2)
    assert rebuilt["model"] != first["model"] and rebuilt["content_hash"] != first["content_hash"]
    assert rebuilt["content_hash"] == base_model.content_hash(rebuilt["model"])
    assert base_model.resolve(root, DAY1) == {k: v for k, v in rebuilt.items() if k != "architecture"}  # re-pinned

    same, reason = lineage.same_base(_tags(second), _tags(first))
    assert same and first["content_hash"][:12] in reason
    same, reason = lineage.same_base(_tags(rebuilt), _tags(first))
    assert not same and "differs" in reason and rebuilt["content_hash"][:12] in reason


def test_a_missing_pinned_build_is_an_error_not_a_silent_rebuild(lake):
    import shutil

    root = f"file://{lake}"
    found = base_model.resolve(root, DAY1)
    shutil.rmtree(found["model"])
    with pytest.raises(FileNotFoundError, match="--rebuild"):
        base_model.resolve(root, DAY2)


def test_same_base_fails_closed_without_a_recorded_hash():
    pinned = {"llmops.base_model": "/lake/models/base/k", "llmops.base_model_hash": "a" * 64}
    same, reason = lineage.same_base({"llmops.base_model": "/lake/models/base/k"}, pinned)
    assert not same and "candidate" in reason and "no base model hash" in reason
    assert lineage.same_base(pinned, dict(pinned)) == (True, "same base /lake/models/base/k (sha256 aaaaaaaaaaaa)")
