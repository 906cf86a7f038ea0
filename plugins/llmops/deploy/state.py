"""The rollout's persisted state: one JSON file per (stable, canary) pair, replaced atomically after every change,
so a killed or retried task continues from the recorded step (or finds the rollout already ended)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel, Field

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


def state_path(root: Path, stable: str, canary: str) -> Path:
    return root / f"{canary}-over-{stable}.json"


def load(path: Path) -> RolloutState | None:
    return RolloutState.model_validate_json(path.read_text()) if path.exists() else None


def save(path: Path, state: RolloutState) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename: a reader sees the old or the new state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(state.model_dump(mode="json"), handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
