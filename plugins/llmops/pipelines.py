"""The steps of each pipeline, in order: the one definition both the DAGs and the CLI run."""

from __future__ import annotations

from dataclasses import dataclass

from llmops import lake
from llmops.step_summary import summary_uri
from llmops.steps import Step


def gate_report(lake_root: str, layer: str, ds: str) -> str:
    return lake.join(lake_root, "reports", "gates", layer, f"ds={ds}", "data_docs", "index.html")


def _gate(layer: str, lake_root: str, ds: str) -> Step:
    return Step(
        f"gate_{layer}",
        "expectations.gate",
        ("--layer", layer, "--lake-root", lake_root, "--ds", ds),
        report=gate_report(lake_root, layer, ds),
    )


def data_steps(raw_root: str, lake_root: str, ds: str, languages: str = "en") -> list[Step]:
    """raw landing zone -> bronze -> silver -> gold -> features, a gate after each layer.

    Values may be Jinja templates (in a DAG) or literals (``llmops data run``): nothing here
    inspects them, so ``ds`` is not validated until the step itself starts.
    """
    where = ("--lake-root", lake_root, "--ds", ds)
    return [
        Step("ingest", "spark_jobs.ingest", ("--raw-root", raw_root, *where),
             report=summary_uri(lake_root, "ingest", ds)),
        _gate("bronze", lake_root, ds),
        Step("clean", "spark_jobs.clean", (*where, "--languages", languages),
             report=summary_uri(lake_root, "clean", ds)),
        _gate("silver", lake_root, ds),
        Step("build_sft", "spark_jobs.build_sft", where,
             report=summary_uri(lake_root, "build_sft", ds)),
        _gate("gold", lake_root, ds),
        Step("featurize", "spark_jobs.featurize", where),
        Step("feast_materialize", "llmops.feature_store", where),
    ]


def training_args(lake_root: str, ds: str, base_model: str = "", method: str = "", max_trials: str = "0",
                  trial_steps: str = "0", max_steps: str = "-1", dag_id: str = "", dag_run_id: str = "") -> tuple:
    """Arguments of every training step (llmops.training.jobs parses them); values may be Jinja templates."""
    return ("--lake-root", lake_root, "--ds", ds, "--base-model", base_model, "--method", method,
            "--max-trials", max_trials, "--trial-steps", trial_steps, "--max-steps", max_steps,
            "--dag-id", dag_id, "--dag-run-id", dag_run_id)


@dataclass(frozen=True)
class TrainSteps:
    """base model -> sweep (prepare, trials) -> final run -> registration."""

    base_model: Step
    prepare_sweep: Step
    trial: Step  # one command line per trial: see trial_arguments
    train_final: Step
    register: Step

    def trial_arguments(self, max_trials: int) -> list[list[str]]:
        """The command line of each trial (one mapped task or process per entry)."""
        return [[*self.trial.arguments(), "--index", str(i)] for i in range(max_trials)]

    def sequence(self) -> list[Step]:
        return [self.base_model, self.prepare_sweep, self.trial, self.train_final, self.register]


def train_steps(lake_root: str, ds: str, **job: str) -> TrainSteps:
    """The training pipeline's steps; ``job`` holds :func:`training_args`' optional arguments."""
    args = training_args(lake_root, ds, **job)
    base = job.get("base_model", "")
    return TrainSteps(
        base_model=Step("base_model", "llmops.training.base_model",
                        ("--lake-root", lake_root, "--ds", ds, *(("--base-model", base) if base else ())),
                        pod="trainer", report=summary_uri(lake_root, "base_model", ds)),
        prepare_sweep=Step("prepare_sweep", "llmops.training.sweep", ("prepare", *args), pod="trainer"),
        trial=Step("sweep_trial", "llmops.training.sweep", ("trial", *args), pod="trainer"),
        train_final=Step("train_final", "llmops.training.final", args, pod="trainer"),
        register=Step("register_candidate", "llmops.training.registry", ("register", *args), pod="trainer",
                      report=summary_uri(lake_root, "register", ds)),
    )


def model_gate_dir(lake_root: str, gate: str, ds: str) -> str:
    """Where a candidate gate (``eval`` or ``governance``) writes its verdict and report for one date."""
    return lake.join(lake_root, "reports", f"{gate}_gate", f"ds={ds}")


def candidate_gate_steps(lake_root: str, ds: str, version: str = "challenger") -> list[Step]:
    """evaluation gate -> governance gate -> decision, on one registered version (number or alias)."""
    where = ("--lake-root", lake_root, "--ds", ds, "--version", version)
    return [
        Step("eval_gate", "llmops.evaluation.gate", where, pod="evaluator",
             report=lake.join(model_gate_dir(lake_root, "eval", ds), "report.html")),
        Step("governance_gate", "llmops.governance.gate", where, pod="evaluator",
             report=lake.join(model_gate_dir(lake_root, "governance", ds), "governance_report.html")),
        Step("decide", "llmops.candidates.cli", ("decide", *where), pod="evaluator",
             report=summary_uri(lake_root, "decide", ds)),
    ]


def governance_steps(lake_root: str, ds: str) -> list[Step]:
    """The daily scans: the champion through its endpoint, and the date's gold partition alone (no model).

    Their reports go to ``reports/governance_scan/``, not to the candidate gate's folder that decisions read.
    """
    where = ("--lake-root", lake_root, "--ds", ds)
    scans = lake.join(lake_root, "reports", "governance_scan", f"ds={ds}")
    champion, gold = lake.join(scans, "champion"), lake.join(scans, "gold")
    return [
        Step("scan_champion", "llmops.governance.gate",
             (*where, "--version", "champion", "--skip-missing", "--out-dir", champion),
             pod="evaluator", report=lake.join(champion, "governance_report.html")),
        Step("scan_gold", "llmops.governance.gate", (*where, "--data-only", "--out-dir", gold),
             pod="evaluator", report=lake.join(gold, "governance_report.html")),
    ]


def drift_report(lake_root: str, ds: str, hour: str) -> str:
    return lake.join(lake_root, "reports", "drift", f"ds={ds}", f"hour={hour}")


def drift_steps(lake_root: str, ds: str, hour: str) -> list[Step]:
    """The drift check (llmops.monitoring.drift_check) of the inference log's window ending at ``ds`` ``hour``:00."""
    where = ("--lake-root", lake_root, "--ds", ds, "--hour", hour)
    report = lake.join(drift_report(lake_root, ds, hour), "drift_report.html")
    return [Step("check_drift", "llmops.monitoring.drift_check", where, pod="evaluator", report=report)]


def deploy_report(lake_root: str, ds: str) -> str:
    """The rollout report of a deploy run's date (a copy of the one beside the rollout's state file)."""
    return lake.join(lake_root, "reports", "deploy", f"ds={ds}", "rollout.html")


def deploy_steps(lake_root: str, ds: str, version: str = "passed", steps: str = "", window_s: str = "",
                 dry_run: str = "false", approval: str = "", run_id: str = "") -> list[Step]:
    """The canary rollout (llmops.deploy.run) of one version; empty ``steps``/``window_s``/``approval`` = the
    settings'."""
    args = ("--lake-root", lake_root, "--ds", ds, "--version", version, "--dry-run", dry_run,
            *(("--steps", steps) if steps else ()), *(("--window-s", window_s) if window_s else ()),
            *(("--approval", approval) if approval else ()), *(("--run-id", run_id) if run_id else ()))
    return [Step("rollout", "llmops.deploy.run", args, pod="deploy", report=deploy_report(lake_root, ds),
                 deferrable=True)]
