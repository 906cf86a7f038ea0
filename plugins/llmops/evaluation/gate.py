"""The evaluation gate: lm-eval on the candidate and a reference model, paired bootstrap CIs, pass/fail.

    python -m llmops.evaluation.gate --lake-root URI --ds YYYY-MM-DD --version V \\
        [--out-dir DIR] [--limit N] [--thresholds JSON]
    python -m llmops.evaluation.gate --lake-root URI --ds YYYY-MM-DD \\
        --candidate-base DIR [--candidate-adapter DIR] [--champion-base DIR [--champion-adapter DIR]] ...

``--version`` takes a registered version number or alias (``challenger``): the candidate is that version
and the reference is the ``champion`` alias. When there is no champion yet (or the candidate is the champion,
and comparing a model with itself proves nothing), the reference is the candidate's own base model without
the adapter: a first candidate must earn its place by improving on what it was trained from. The outcome is
then recorded on the version (llmops.candidates.outcomes.record_gate). Thresholds and options default to
``settings().evaluation``.

Both models answer the same items: the gold test split up to ``ds``. Each metric passes when the
95% interval of mean(candidate - reference) rules out a regression beyond its tolerance and the
candidate's mean clears its floor; against the base model the answer NLL must also improve (the interval
of (base - candidate) NLL per token must lie above ``first_candidate_min_nll_gain``) and no generation metric
may be significantly worse (the interval of candidate - base must not lie wholly below
``-first_candidate_max_significant_regression``). Exit code 0: passed;
1: failed (nothing downstream may promote the candidate); 2: the gate could not run (a base model that is
gone included).

Writes ``verdict.json``, ``report.html`` and the lm-eval inputs (rendered items, task YAMLs) to
``--out-dir`` (default ``<lake>/reports/eval_gate/ds=<ds>/``), replaced whole on a rerun.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmops import lake, lakefs
from llmops.candidates import lookup
from llmops.candidates.outcomes import record_gate
from llmops.config import EvaluationSettings, settings
from llmops.evaluation.harness import GENERATION_TASK, ModelRef, ModelScores, evaluate_model, gate_metrics, task_metrics
from llmops.evaluation.items import export_test_items, read_items
from llmops.evaluation.report import Example, render_html
from llmops.evaluation.stats import Threshold, decide
from llmops.evaluation.verdict import EvalVerdict, format_table
from llmops.logs import setup_step_logging
from llmops.pipelines import model_gate_dir
from llmops.publish import publish_partition
from llmops.steps import guarded, lake_step_parser

log = logging.getLogger("llmops.evaluation.gate")


def thresholds_from(evaluation: EvaluationSettings) -> dict[str, Threshold]:
    return {m: Threshold(t.max_regression, t.floor) for m, t in evaluation.thresholds.items()}


# The built-in tolerances, sized for a test split of ~120 items (see EvaluationSettings); profiles may
# override them, and the command line reads the active profile's.
DEFAULT_THRESHOLDS = thresholds_from(EvaluationSettings())
WORST_BY = "rouge_l"  # the graded answer metric that orders the report's most regressed items


@dataclass(frozen=True)
class GateOptions:
    limit: int | None = None  # evaluate the first N items only (smoke runs)
    n_resamples: int = 10_000
    confidence: float = 0.95
    seed: int = 0
    extra_tasks: tuple[str, ...] = ()  # standard lm-eval tasks to run and report too
    device: str = "cpu"
    dtype: str = "float32"
    batch_size: int = 8
    max_new_tokens: int = 128
    worst_examples: int = 10
    first_candidate_min_nll_gain: float = 0.0  # against the base model: the NLL gain the interval must clear
    first_candidate_max_significant_regression: float = 0.0  # ... and the generation metrics' proven regression


IMPROVES = "nll"  # the metric a first candidate must improve on its base: one forward pass, low paired variance


def first_candidate_thresholds(
    thresholds: dict[str, Threshold], min_gain: float, max_significant_regression: float
) -> dict[str, Threshold]:
    """The thresholds against the base model: the same tolerances and floors, an NLL improvement demanded, and
    no generation metric (of those gated) significantly worse than the base's. The tolerances alone, sized for
    a champion that already answers well, let through a candidate that answers nothing at all."""
    nll = thresholds.get(IMPROVES, Threshold())
    generation = {
        m: dataclasses.replace(t, max_significant_regression=max_significant_regression)
        for m, t in thresholds.items()
        if m in task_metrics(GENERATION_TASK)
    }
    return {**thresholds, **generation, IMPROVES: dataclasses.replace(nll, min_improvement=min_gain)}


def base_reference(candidate: ModelRef) -> ModelRef:
    """The candidate's base model without its adapter. A base given as a local path must still be there: a
    missing base is an error (exit 2), never a comparison skipped."""
    if not candidate.adapter:
        raise ValueError(f"candidate {candidate.base} has no adapter: it is its own base, there is nothing to judge")
    base = Path(candidate.base)
    if (base.is_absolute() or candidate.base.startswith(".")) and not base.is_dir():
        raise FileNotFoundError(f"base model {candidate.base} of the candidate is gone: it cannot be compared with it")
    return ModelRef(candidate.base)


def paired_scores(
    candidate: ModelScores, champion: ModelScores | None
) -> tuple[dict[str, list[str]], dict[str, tuple[np.ndarray, np.ndarray | None]]]:
    """Per metric: the item keys (sorted) and both models' scores in that order. Both models must have
    scored exactly the same items, or the comparison is not paired and the gate refuses to judge."""
    keys, arrays = {}, {}
    for metric, by_key in candidate.scores.items():
        keys[metric] = sorted(by_key)
        other = None
        if champion is not None:
            theirs = champion.scores.get(metric, {})
            if set(theirs) != set(by_key):
                raise ValueError(
                    f"{metric}: candidate scored {len(by_key)} items, champion {len(theirs)}; "
                    f"{len(set(by_key) ^ set(theirs))} are not in both"
                )
            other = np.array([theirs[k] for k in keys[metric]])
        arrays[metric] = (np.array([by_key[k] for k in keys[metric]]), other)
    return keys, arrays


def worst_examples(
    items: list[dict], keys: list[str], scores: tuple[np.ndarray, np.ndarray | None], higher_is_better: bool,
    candidate: ModelScores, champion: ModelScores | None, count: int,
) -> list[Example]:  # fmt: skip
    """The items where the candidate did worst against the champion (or worst outright, alone)."""
    cand, champ = scores
    loss = (cand if champ is None else cand - champ) * (1 if higher_is_better else -1)
    by_id = {item["example_id"]: item for item in items}
    picked = []
    for i in np.argsort(loss, kind="stable")[:count]:
        item = by_id[keys[i]]
        picked.append(
            Example(
                example_id=keys[i],
                question=item["instruction"],
                context=item["input"],
                reference=item["output"],
                candidate=candidate.outputs.get(keys[i], ""),
                champion=None if champion is None else champion.outputs.get(keys[i], ""),
                candidate_score=float(cand[i]),
                champion_score=None if champ is None else float(champ[i]),
            )
        )
    return picked


def check_thresholds(thresholds: dict[str, Threshold], extra_tasks: tuple[str, ...]) -> None:
    """Refuse, before spending an evaluation run, thresholds that gate nothing or name metrics no task reports."""
    if not thresholds:
        raise ValueError("no thresholds: a gate without any would pass every candidate")
    known = gate_metrics()
    unknown = [m for m in thresholds if m not in known and m.split("/")[0] not in extra_tasks]
    if unknown:
        raise ValueError(f"thresholds for unknown metrics {unknown}; the gate tasks report {sorted(known)}")


def run_eval_gate(
    candidate: ModelRef,
    champion: ModelRef | None,
    items_path: Path,
    thresholds: dict[str, Threshold],
    out_dir: Path,
    options: GateOptions = GateOptions(),
) -> EvalVerdict:
    """Evaluate the candidate and its reference (``champion``, or without one the candidate's base model) on
    the items in ``items_path`` (JSONL of gold fields) and judge the candidate.

    Writes verdict.json, report.html and lm-eval's inputs under ``out_dir`` (created, not cleared).
    """
    check_thresholds(thresholds, options.extra_tasks)
    items = read_items(items_path, options.limit)
    if not items:
        raise ValueError(f"no evaluation items in {items_path}")
    role = "champion" if champion is not None else "base"
    reference = champion if champion is not None else base_reference(candidate)
    if role == "base":
        thresholds = first_candidate_thresholds(
            thresholds, options.first_candidate_min_nll_gain, options.first_candidate_max_significant_regression
        )
    run = dict(
        extra_tasks=options.extra_tasks, limit=options.limit, device=options.device, dtype=options.dtype,
        batch_size=options.batch_size, max_new_tokens=options.max_new_tokens,
    )  # fmt: skip
    runs = {
        "candidate": evaluate_model(candidate, items, out_dir / "lm_eval" / "candidate", **run),
        role: evaluate_model(reference, items, out_dir / "lm_eval" / role, **run),
    }
    cand, champ = runs["candidate"], runs[role]
    keys, arrays = paired_scores(cand, champ)
    bootstrap = {"n_resamples": options.n_resamples, "confidence": options.confidence, "seed": options.seed}
    decisions = decide(
        {m: a[0] for m, a in arrays.items()},
        {m: a[1] for m, a in arrays.items()},
        cand.higher_is_better,
        thresholds,
        **bootstrap,
    )
    worst = worst_examples(
        items, keys[WORST_BY], arrays[WORST_BY], cand.higher_is_better[WORST_BY], cand, champ, options.worst_examples
    )
    verdict = EvalVerdict(
        candidate=dataclasses.asdict(candidate),
        champion=None if champion is None else dataclasses.asdict(champion),
        n_items=len(items),
        metrics=decisions,
        task_versions=cand.versions,
        bootstrap=bootstrap,
        lm_eval_seconds={role: round(r.seconds, 2) for role, r in runs.items()},
        worst_examples=[x.example_id for x in worst],
        reference_role=role,
        reference=dataclasses.asdict(reference),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "verdict.json").write_text(verdict.to_json())
    (out_dir / "report.html").write_text(render_html(verdict, arrays, worst, WORST_BY), encoding="utf-8")
    return verdict


def parse_thresholds(text: str) -> dict[str, Threshold]:
    """``{"metric": {"max_regression": x, "floor": y}, ...}`` from JSON text or a JSON file path."""
    source = Path(text).read_text() if not text.lstrip().startswith("{") else text
    return {metric: Threshold(**spec) for metric, spec in json.loads(source).items()}


def parser() -> argparse.ArgumentParser:
    ev = settings().evaluation
    p = lake_step_parser("python -m llmops.evaluation.gate", __doc__.split("\n\n")[0])
    model = p.add_mutually_exclusive_group(required=True)
    model.add_argument("--version", help="registered version number or alias: judged against the champion alias")
    model.add_argument("--candidate-base", help="base model directory (with its tokenizer)")
    p.add_argument("--candidate-adapter", help="the candidate's PEFT adapter directory")
    p.add_argument(
        "--champion-base",
        help="the champion's base model directory; omit to compare the candidate with its own base model",
    )
    p.add_argument("--champion-adapter", help="the champion's PEFT adapter directory")
    p.add_argument(
        "--out-dir", help="folder or lake URI the verdict and report go to (default: the lake's reports layer)"
    )
    p.add_argument("--limit", type=int, default=ev.limit, help="evaluate the first N test items only")
    p.add_argument(
        "--thresholds",
        help="JSON (or a JSON file): {metric: {max_regression, floor}}; default: settings().evaluation.thresholds",
    )
    p.add_argument(
        "--extra-task", action="append", default=list(ev.extra_tasks), help="a standard lm-eval task to report too"
    )
    p.add_argument(
        "--min-nll-gain",
        type=float,
        default=ev.first_candidate_min_nll_gain,
        help="without a champion: the NLL gain per token over the base the interval must clear",
    )
    p.add_argument("--n-resamples", type=int, default=ev.n_resamples)
    p.add_argument("--confidence", type=float, default=ev.confidence)
    p.add_argument("--seed", type=int, default=ev.seed)
    p.add_argument("--device", default=ev.device)
    p.add_argument("--dtype", default=ev.dtype)
    p.add_argument("--batch-size", type=int, default=ev.batch_size)
    p.add_argument("--max-new-tokens", type=int, default=ev.max_new_tokens)
    return p


def default_out_dir(lake_root: str, ds: str) -> str:
    return model_gate_dir(lake_root, "eval", ds)


def registered_models(version: str) -> tuple[lookup.Candidate, ModelRef, ModelRef | None]:
    """The registered candidate and the champion alias to compare it with; None when there is no champion yet
    or the candidate is the champion (comparing a model with itself proves nothing): the gate then compares
    the candidate with its base model."""
    candidate = lookup.resolve(version)
    champion = lookup.champion()
    if champion is None:
        log.info("no champion yet: version %d is judged against its base model %s", candidate.version, candidate.base)
    elif champion.version == candidate.version:
        log.info("version %d is the champion itself: judged against its base model %s", candidate.version,
                 candidate.base)  # fmt: skip
        champion = None
    else:
        log.info("version %d against the champion, version %d", candidate.version, champion.version)
    refs = [None if c is None else ModelRef(c.base, str(c.adapter_dir), c.version) for c in (candidate, champion)]
    return candidate, refs[0], refs[1]


def verdict_metrics(verdict: EvalVerdict) -> dict[str, float | None]:
    """What the registry run keeps of a verdict: each metric's candidate mean and difference interval."""
    values: dict[str, float | None] = {"n_items": verdict.n_items}
    for d in verdict.metrics:
        values.update(
            {
                f"{d.metric}.candidate": d.candidate_mean,
                f"{d.metric}.difference": d.difference,
                f"{d.metric}.ci_low": d.ci_low,
                f"{d.metric}.ci_high": d.ci_high,
            }
        )
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = parser()
    args = p.parse_args(argv)  # bad arguments exit 2 here
    if args.champion_adapter and not args.champion_base:
        p.error("--champion-adapter needs --champion-base")
    if args.version and (args.candidate_adapter or args.champion_base):
        p.error("--version takes both models from the registry: no model directories with it")
    return args


def judge(args: argparse.Namespace, candidate: ModelRef, champion: ModelRef | None, target: str) -> EvalVerdict:
    """Run the gate in a local staging folder and publish it to ``target`` (a lake URI or a folder) whole."""
    with lakefs.build_folder(target, stage_local=True) as staging:
        count = export_test_items(args.lake_root, args.ds, staging / "items.jsonl")
        log.info("exported %d gold test items up to ds=%s", count, args.ds)
        verdict = run_eval_gate(
            candidate, champion, staging / "items.jsonl",
            parse_thresholds(args.thresholds) if args.thresholds else thresholds_from(settings().evaluation),
            staging,
            GateOptions(
                limit=args.limit, n_resamples=args.n_resamples, confidence=args.confidence, seed=args.seed,
                extra_tasks=tuple(args.extra_task), device=args.device, dtype=args.dtype,
                batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
                worst_examples=settings().evaluation.worst_examples, first_candidate_min_nll_gain=args.min_nll_gain,
                first_candidate_max_significant_regression=(
                    settings().evaluation.first_candidate_max_significant_regression
                ),
            ),
        )  # fmt: skip
        publish_partition(str(staging), target)
    return verdict


def gate(args: argparse.Namespace) -> int:
    target = args.out_dir or default_out_dir(args.lake_root, args.ds)
    if not args.version:
        champion = ModelRef(args.champion_base, args.champion_adapter) if args.champion_base else None
        verdict = judge(args, ModelRef(args.candidate_base, args.candidate_adapter), champion, target)
    else:
        registered, candidate, champion = registered_models(args.version)
        try:
            verdict = judge(args, candidate, champion, target)
        except Exception:
            record_gate(registered, "eval", "error", None, None, {})
            raise
        record_gate(
            registered,
            "eval",
            verdict.status,
            lake.join(target, "verdict.json"),
            lake.join(target, "report.html"),
            verdict_metrics(verdict),
        )
    for line in format_table(verdict):
        print(line)
    print(
        f"verdict: {lake.shown(lake.join(target, 'verdict.json'))}\n"
        f"report: {lake.shown(lake.join(target, 'report.html'))}"
    )
    return verdict.exit_code


def main(argv: list[str] | None = None) -> int:
    setup_step_logging()
    # settings are read while parsing: a configuration error is an error (2) too, not a failed gate
    return guarded("eval gate", lambda: gate(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
