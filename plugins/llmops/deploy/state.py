"""The rollout's persisted state: one JSON file per (stable, canary) pair, replaced atomically after every change,
so a killed or retried task continues from the recorded step (or finds the rollout already ended). The files
live where ``deploy.state_dir`` says, on any file system llmops.lakefs reaches (by default in the lake), so a
rollout pod that is replaced, and the approval task in the worker, read the same state."""

from __future__ import annotations

import os
import time

from pydantic import BaseModel, Field

from llmops import lake, lakefs

RUNNING, PROMOTED, ROLLED_BACK = "running", "promoted", "rolled_back"


class Look(BaseModel):
    """One analysis at one step: the window's counts per variant and the metric table."""

    step: int
    canary_weight: float
    stable: dict[str, int]  # Counts as a dict: requests, errors, slow, ttft_requests, ttft_slow
    canary: dict[str, int]
    results: list[dict]
    decision: str
    loadgen_requests: int = 0
    quality: list[tuple[float, float]] = []  # (stable, canary) score per mirrored prompt (llmops.deploy.quality)
    at: float = Field(default_factory=time.time)


class RolloutState(BaseModel):
    stable: str
    canary: str
    steps: list[float]
    step_index: int = 0
    status: str = RUNNING
    reason: str = ""
    weights: list[tuple[float, float]] = []  # (unix time, canary weight) each time the weights changed
    looks: list[Look] = []
    report: str = ""
    run_id: str = ""  # the Airflow run that started it: its approval task finds the rollout by it
    approval_required: bool = False
    hold_started: float | None = None  # unix time the rollout began to wait for a human before 100 %


def state_path(root: str | os.PathLike, stable: str, canary: str) -> str:
    return lake.join(os.fspath(root), f"{canary}-over-{stable}.json")


def report_path(state_file: str) -> str:
    """The rollout's HTML report, beside its state."""
    return state_file.removesuffix(".json") + ".html"


def listed(root: str | os.PathLike) -> list[str]:
    """The state files of every rollout recorded under ``root``."""
    root = os.fspath(root)
    return [lake.join(root, name) for name in lakefs.files(root, ".json") if "/" not in name and "-over-" in name]


def load(location: str | os.PathLike) -> RolloutState | None:
    found = lakefs.read_json(os.fspath(location))
    return None if found is None else RolloutState.model_validate(found)


def save(location: str | os.PathLike, record: BaseModel) -> None:
    """Replace the file whole (llmops.lakefs.write_text): a reader sees the old or the new state, never a part."""
    lakefs.write_text(os.fspath(location), record.model_dump_json(indent=1))
