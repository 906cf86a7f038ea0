"""Mirror items: the gate's held-out test split with its references, each mirrored at most once per rollout."""

from __future__ import annotations

from llmops.deploy.quality import held_out_items, next_items
from tests.training.fixtures import SYSTEM, write_gold

DS = "2026-11-20"


def test_held_out_items_are_the_test_split_with_references(tmp_path):
    write_gold(tmp_path / "lake", DS, 60)
    items = held_out_items(f"file://{tmp_path}/lake", DS)
    assert len(items) == 6  # one row in ten is test
    assert all(item.system == SYSTEM and item.instruction and item.reference for item in items)
    assert len(held_out_items(f"file://{tmp_path}/lake", DS, limit=2)) == 2


def test_next_items_never_repeats_an_item_and_runs_out():
    items = list(range(10))
    steps = [next_items(items, "v1/v2", used, 4) for used in (0, 4, 8)]
    assert [len(s) for s in steps] == [4, 4, 2]
    assert sorted(x for s in steps for x in s) == items  # each once, then the held-out set is spent
    assert next_items(items, "v1/v2", 0, 4) == steps[0]  # the same order when a rollout resumes
    assert next_items(items, "v1/v3", 0, 10) != items  # shuffled per rollout
