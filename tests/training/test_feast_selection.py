"""The trainer's examples come from Feast: point-in-time correct features select them, gold supplies the text."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from llmops.config import ExampleSelectionSettings
from llmops.training.jobs import TrainingJob
from llmops.training.sft_data import as_of, exclusion_reasons, load_gold, select_examples
from tests.training.conftest import DS
from tests.training.fixtures import write_features

NEXT = "2026-11-21"
RULES = ExampleSelectionSettings(min_quality_score=0.5)


def _revised(row: dict, at: dt.datetime, **changes) -> dict:
    return {**row, "event_timestamp": at, **changes}


@pytest.fixture
def revised_lake(training_env):
    """DS's 120 featurized examples, then: #0 flagged (injection) and #1 scored low the same day; #2 flagged only
    the next day; #3's features arrive only the next day (late: after the DS run's entity timestamp)."""
    path = training_env / "features" / "llm_training_features" / f"ds={DS}" / "part-00000.parquet"
    features = pq.read_table(path)
    rows = features.to_pylist()
    pq.write_table(features.filter(pc.not_equal(features["example_id"], rows[3]["example_id"])), path)
    noon, next_noon = as_of(DS) - dt.timedelta(hours=12), as_of(DS) + dt.timedelta(hours=12)
    write_features(
        training_env,
        NEXT,
        pa.Table.from_pylist(
            [
                _revised(rows[0], noon, injection_flag=True, injection_rule="ignore_instructions"),
                _revised(rows[1], noon, quality_score=0.1, quality_flags=["short_answer"]),
                _revised(rows[2], next_noon, injection_flag=True, injection_rule="ignore_instructions"),
                _revised(rows[3], next_noon),
            ],
            schema=features.schema,
        ),
    )
    return f"file://{training_env}", [r["example_id"] for r in rows[:4]]


def test_selection_is_point_in_time_correct(revised_lake):
    lake_root, (flagged, low, flagged_later, late) = revised_lake
    gold = load_gold(lake_root, DS)
    on_ds = set(select_examples(gold, lake_root, DS, RULES).table["example_id"].to_pylist())
    assert len(on_ds) == gold.table.num_rows - 3
    assert not on_ds & {flagged, low, late}  # excluded by features; no features visible yet
    assert flagged_later in on_ds  # its flag arrives after the run's entity timestamp
    # a run on the next day sees both next-day rows: the late example joins, the later flag excludes
    on_next = set(select_examples(gold, lake_root, NEXT, RULES).table["example_id"].to_pylist())
    assert on_next == on_ds - {flagged_later} | {late}
    # the thresholds are the settings': no quality floor keeps the low-scored example
    assert low in set(
        select_examples(gold, lake_root, DS, ExampleSelectionSettings(min_quality_score=0))
        .table["example_id"]
        .to_pylist()
    )


def test_training_job_reads_its_examples_through_feast(training_env, tiny_model):
    path = training_env / "features" / "llm_training_features" / f"ds={DS}" / "part-00000.parquet"
    features = pq.read_table(path)
    flagged = [i == 0 for i in range(features.num_rows)]
    pq.write_table(
        features.set_column(features.schema.get_field_index("injection_flag"), "injection_flag", pa.array(flagged)),
        path,
    )
    job = TrainingJob(f"file://{training_env}", DS, str(tiny_model), "lora")
    assert set(job.gold.table["example_id"].to_pylist()) - set(job.examples.table["example_id"].to_pylist()) == {
        features["example_id"][0].as_py()
    }
    pq.write_table(
        features.set_column(
            features.schema.get_field_index("injection_flag"), "injection_flag", pa.array([True] * features.num_rows)
        ),
        path,
    )
    del job.__dict__["examples"]
    with pytest.raises(ValueError, match="passes the Feast selection"):  # nothing left: the run says why
        job.examples  # noqa: B018 - the property reads Feast


def test_exclusion_reasons_follow_the_settings():
    features = pa.table(
        {
            "source": ["faq", None, "tickets", "faq", "faq"],
            "injection_flag": [False, None, True, False, False],
            "quality_score": [0.9, None, 0.9, 0.1, 0.9],
            "language": ["en", None, "en", "en", "de"],
        }
    )
    reasons = exclusion_reasons(features, ExampleSelectionSettings(min_quality_score=0.5))
    assert reasons.to_pylist() == [None, "no_features", "injection_flag", "low_quality", None]
    rules = ExampleSelectionSettings(exclude_injection=False, min_quality_score=0, languages=["en"], sources=["faq"])
    assert exclusion_reasons(features, rules).to_pylist() == [None, "no_features", "source", None, "language"]
