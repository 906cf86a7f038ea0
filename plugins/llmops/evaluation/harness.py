"""Run lm-eval on one model and collect per-item scores, keyed so two models' runs can be paired.

The llmops tasks (tasks/*.yaml) are templates without a data file. Each run writes, next to its
items JSONL, one small YAML per task that includes the template by absolute path and sets
``dataset_kwargs.data_files.test``; ``TaskManager(include_path=<that dir>)`` then finds them by
name. Extra standard lm-eval tasks (for clusters that have their datasets cached) run in the same
call; their metrics are named ``<task>/<metric>``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmops.evaluation.items import render_items, write_items
from llmops.tokenizer import load_tokenizer

log = logging.getLogger(__name__)

TASKS_DIR = Path(__file__).with_name("tasks")
GATE_TASKS = ("llmops_sft_gen", "llmops_sft_ppl")
GENERATION_TASK = "llmops_sft_gen"


@dataclass(frozen=True)
class ModelRef:
    """A model as lm-eval's ``hf`` backend loads it: a base directory (with its tokenizer) and an
    optional PEFT adapter directory; ``version`` names it in the verdict when it came from the registry."""

    base: str
    adapter: str | None = None
    version: int | None = None

    def model_args(self, device: str, dtype: str) -> dict[str, str]:
        args = {"pretrained": str(self.base), "device": device, "dtype": dtype}
        if self.adapter:
            args["peft"] = str(self.adapter)
        return args


@dataclass
class ModelScores:
    """One model's run: ``scores[metric][key]`` per item (key: example_id, or doc_id for extra tasks)."""

    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # example_id -> generated answer
    seconds: float = 0.0


class _TemplateLoader(yaml.SafeLoader):
    """Reads a task template's plain keys; ``!function`` references stay strings (lm-eval resolves them)."""


_TemplateLoader.add_constructor("!function", lambda loader, node: loader.construct_scalar(node))


def _template(task: str) -> dict[str, Any]:
    return yaml.load((TASKS_DIR / f"{task}.yaml").read_text(), Loader=_TemplateLoader)


def task_metrics(task: str) -> set[str]:
    """The metric names one gate task reports, known before anything runs."""
    return {m["metric"] for m in _template(task)["metric_list"]}


def gate_metrics() -> set[str]:
    """The metric names the gate tasks report, known before anything runs."""
    return set().union(*(task_metrics(task) for task in GATE_TASKS))


def write_task_dir(data_file: Path, task_dir: Path, max_new_tokens: int, cache_dir: Path) -> Path:
    """Per-run task YAMLs that include the packaged templates, with ``data_file`` as the test split.

    The generation length is set here rather than through simple_evaluate's gen_kwargs, which would
    override extra tasks' own lengths too; ``cache_dir`` keeps the datasets library's Arrow copy of
    the items out of ~/.cache. (JSON is valid YAML.)
    """
    task_dir.mkdir(parents=True, exist_ok=True)
    for task in GATE_TASKS:
        data = {"data_files": {"test": str(data_file)}, "cache_dir": str(cache_dir)}
        spec: dict[str, Any] = {"include": str(TASKS_DIR / f"{task}.yaml"), "dataset_kwargs": data}
        generation = _template(task).get("generation_kwargs")
        if generation is not None:
            spec["generation_kwargs"] = {**generation, "max_gen_toks": max_new_tokens}
        (task_dir / f"{task}.yaml").write_text(json.dumps(spec, indent=2) + "\n")
    return task_dir


def metric_name(task: str, metric: str, filter_key: str) -> str:
    name = metric if task in GATE_TASKS else f"{task}/{metric}"
    return name if filter_key == "none" else f"{name},{filter_key}"


def collect(results: dict[str, Any]) -> ModelScores:
    """Per-item numeric scores from ``simple_evaluate(..., log_samples=True)``'s result."""
    run = ModelScores(versions=dict(results["versions"]))
    for task, samples in results["samples"].items():
        directions = results["higher_is_better"].get(task, {})
        for sample in samples:
            key = str(sample["doc"].get("example_id", sample["doc_id"]))
            if task == GENERATION_TASK:
                run.outputs[key] = sample["filtered_resps"][0]
            for metric in sample["metrics"]:
                value = sample.get(metric)
                if isinstance(value, bool | int | float) and metric in directions:
                    name = metric_name(task, metric, sample["filter"])
                    run.scores.setdefault(name, {})[key] = float(value)
                    run.higher_is_better[name] = bool(directions[metric])
    return run


def evaluate_model(
    model: ModelRef,
    items: list[dict],
    work_dir: Path,
    *,
    extra_tasks: tuple[str, ...] = (),
    limit: int | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    batch_size: int = 8,
    max_new_tokens: int = 128,
) -> ModelScores:
    """Render ``items`` with the model's chat template, run the gate tasks (plus ``extra_tasks``), score."""
    import lm_eval  # noqa: PLC0415 - heavy; only the evaluation process needs it
    from lm_eval.tasks import TaskManager  # noqa: PLC0415

    data_file = work_dir / "items.jsonl"
    write_items(render_items(items, load_tokenizer(model.base)), data_file)
    cache_dir = work_dir / "datasets_cache"
    task_dir = write_task_dir(data_file, work_dir / "tasks", max_new_tokens, cache_dir)
    # the built-in task index is thousands of YAMLs: scan it only when a standard task is asked for
    manager = TaskManager(include_path=str(task_dir), include_defaults=bool(extra_tasks))
    started = time.monotonic()
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args=model.model_args(device, dtype),
        tasks=[*GATE_TASKS, *extra_tasks],
        task_manager=manager,
        batch_size=batch_size,
        limit=limit,
        log_samples=True,
        bootstrap_iters=0,  # the gate bootstraps paired differences itself
    )
    shutil.rmtree(cache_dir, ignore_errors=True)
    run = collect(results)
    run.seconds = time.monotonic() - started
    log.info("lm-eval on %s (%s): %d items in %.1fs", model.base, model.adapter, len(items), run.seconds)
    return run
