"""The arguments every training step takes, and the keys that make the steps idempotent.

A sweep, its trials and the final run are identified by a key over everything that shapes their result
(date, gold content, base model, method, search space, budget, seeds). A retried task, a rerun DAG or
``llmops train run`` with the same inputs finds the runs that key names in MLflow and continues them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

from llmops.config import settings
from llmops.pipelines import TrainSteps, train_steps
from llmops.steps import lake_step_parser
from llmops.training import base_model
from llmops.training.sft_data import GoldSnapshot, load_gold, select_examples


@dataclass(frozen=True)
class TrainingJob:
    lake_root: str
    ds: str
    base_model: str = ""  # empty = settings.training.base_model
    method: str = ""  # empty = settings.training.method
    max_trials: int = 0  # 0 = settings.training.sweep.max_trials
    trial_steps: int = 0  # 0 = settings.training.sweep.trial_steps
    max_steps: int = -1  # -1 = settings.training.max_steps
    dag_id: str = ""
    dag_run_id: str = ""

    def __post_init__(self) -> None:
        t = settings().training
        defaults = {"base_model": t.base_model, "method": t.method, "max_trials": t.sweep.max_trials,
                    "trial_steps": t.sweep.trial_steps}
        for name, default in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, default)
        if self.max_steps < 0:
            object.__setattr__(self, "max_steps", t.max_steps)
        if self.method not in ("qlora", "lora"):
            raise ValueError(f"method must be 'qlora' or 'lora', got {self.method!r}")

    @cached_property
    def gold(self) -> GoldSnapshot:
        return load_gold(self.lake_root, self.ds)

    @cached_property
    def examples(self) -> GoldSnapshot:
        """The gold examples the run trains and validates on: those its Feast features select."""
        return select_examples(self.gold, self.lake_root, self.ds, settings().training.selection)

    @cached_property
    def examples_digest(self) -> str:
        """sha256 over the sorted ids of the selected examples: what the run trains on, for keys and lineage."""
        return hashlib.sha256("\n".join(sorted(self.examples.table["example_id"].to_pylist())).encode()).hexdigest()

    @cached_property
    def base(self) -> dict:
        return base_model.resolved(self.lake_root, self.ds, self.base_model)

    @cached_property
    def sweep_key(self) -> str:
        t = settings().training
        spec = {
            "ds": self.ds, "gold": self.gold.content_hash, "examples": self.examples_digest,
            "base": [self.base["model"], self.base["revision"]],
            "method": self.method, "max_trials": self.max_trials, "trial_steps": self.trial_steps,
            "sweep": t.sweep.model_dump(exclude={"max_trials", "trial_steps", "parallel_trials"}),
            "train": t.model_dump(include={"batch_size", "grad_accum", "max_seq_len", "warmup_steps", "seed"}),
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()

    def trial_key(self, index: int) -> str:
        return f"{self.sweep_key[:20]}-trial-{index:03d}"

    @property
    def final_key(self) -> str:
        return f"{self.sweep_key[:20]}-final-{self.max_steps}"

    def steps(self) -> TrainSteps:
        """The pipeline's steps for this job (what ``llmops train run`` runs)."""
        return train_steps(self.lake_root, self.ds, base_model=self.base_model, method=self.method,
                           max_trials=str(self.max_trials), trial_steps=str(self.trial_steps),
                           max_steps=str(self.max_steps), dag_id=self.dag_id, dag_run_id=self.dag_run_id)


def job_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    parser = lake_step_parser(prog, description)
    add_job_arguments(parser)
    return parser


def add_job_arguments(parser: argparse.ArgumentParser) -> None:
    """Every training job argument but --lake-root and --ds (``llmops train run`` defaults those itself)."""
    parser.add_argument("--base-model", default="", help="Hugging Face id or path; 'builtin' = the project's own")
    parser.add_argument("--method", default="", choices=["", "qlora", "lora"])
    parser.add_argument("--max-trials", type=int, default=0)
    parser.add_argument("--trial-steps", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=-1, help="final run's step cap (0 = whole epochs)")
    parser.add_argument("--dag-id", default="", help="the Airflow DAG that runs this step (lineage)")
    parser.add_argument("--dag-run-id", default="", help="the Airflow run that runs this step (lineage)")


def job_from_args(args: argparse.Namespace) -> TrainingJob:
    return TrainingJob(args.lake_root, args.ds, args.base_model, args.method, args.max_trials, args.trial_steps,
                       args.max_steps, args.dag_id, args.dag_run_id)
