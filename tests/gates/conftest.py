"""A registry holding two real versions of the tiny model (LoRA, a few steps each), shared by a test module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from llmops.config import settings
from tests.training.conftest import DS, tiny_model, training_environ  # noqa: F401 - tiny_model is a fixture
from tests.training.fixtures import register_features, write_gold

# what the gates read from settings, shrunk for 2 busy cores
GATE_ENV = {
    "LLMOPS__EVALUATION__MAX_NEW_TOKENS": "16",
    "LLMOPS__EVALUATION__N_RESAMPLES": "1000",
}


def short_answer_suite(folder: Path) -> Path:
    """The bundled probe suite with 16-token answers instead of 128: the tiny model needs ~20 ms a token on
    these cores, and what a probe detects shows in the first words."""
    from llmops.governance.suite import DEFAULT_SUITE

    text = DEFAULT_SUITE.read_text()
    assert "\n  max_tokens: 128\n" in text, "the suite's default answer length moved: update this fixture"
    path = folder / DEFAULT_SUITE.name
    path.write_text(text.replace("\n  max_tokens: 128\n", "\n  max_tokens: 16\n", 1))
    return path


@dataclass(frozen=True)
class Registered:
    root: Path
    lake_root: str
    base_model: str
    versions: tuple[int, int]  # the first registered, the second (the challenger)

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"


def register_version(lake_root: str, base_model: str, max_steps: int) -> int:
    """Sweep (one trial), final run and registration, as the training steps do: a real version."""
    from llmops.training import registry, sweep
    from llmops.training.final import run_final
    from llmops.training.jobs import TrainingJob

    job = TrainingJob(lake_root=lake_root, ds=DS, base_model=base_model, method="lora", max_trials=1,
                      trial_steps=4, max_steps=max_steps, dag_id="llmops_train",
                      dag_run_id=f"manual__{DS}T00:00:0{max_steps}")
    sweep.prepare(job)
    sweep.run_trial(job, 0)
    run_final(job)
    return registry.register(job)["version"]


@pytest.fixture(scope="module")
def registered(tmp_path_factory, tiny_model):  # noqa: F811 - the imported fixture
    """Settings on a fresh lake, MLflow store and scratch folder; versions 1 and 2 registered (2 = challenger)."""
    root = tmp_path_factory.mktemp("gates")
    env = {**training_environ(root), **GATE_ENV, "LLMOPS__PATHS__SCRATCH_DIR": str(root / "scratch"),
           "LLMOPS__GOVERNANCE__SUITE": str(short_answer_suite(root))}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        settings.cache_clear()
        write_gold(root / "lake", DS, 120)
        register_features()
        lake_root = f"file://{root / 'lake'}"
        first = register_version(lake_root, str(tiny_model), max_steps=4)
        second = register_version(lake_root, str(tiny_model), max_steps=6)
        yield Registered(root, lake_root, str(tiny_model), (first, second))
    settings.cache_clear()
