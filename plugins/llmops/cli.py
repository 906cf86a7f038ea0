"""The `llmops` command: run pipeline steps outside Airflow through the same code the DAGs call."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from llmops.config import ConfigError, settings
from llmops.logs import setup_step_logging
from llmops.pipelines import data_steps
from llmops.steps import EXIT_ERROR, EXIT_FAILED, StepFailed, ds_arg, run_all, run_local
from llmops.training.tracking import TrackingUnavailable


def _run_steps(command: str, run: Callable[[], object], done: str) -> int:
    """Runs a command's steps; a failed step ends it with the step's exit code and its message on stderr."""
    try:
        run()
    except StepFailed as exc:
        print(f"\nllmops {command}: {exc}", file=sys.stderr)
        return exc.returncode
    print(f"\nllmops {command}: {done}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    steps = data_steps(args.raw_root, args.lake_root, args.ds, ",".join(args.languages))
    return _run_steps("data run", lambda: run_all(steps, emit=print), f"all {len(steps)} steps passed for ds={args.ds}")


def _cmd_train_run(args: argparse.Namespace) -> int:
    """base model -> sweep trials (up to parallel_trials at once) -> final run -> registration."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from llmops.training.jobs import job_from_args  # noqa: PLC0415 - pyarrow; keep `llmops --help` instant

    job = job_from_args(args)
    steps = job.steps()
    parallel = settings().training.sweep.parallel_trials
    trials = [steps.trial.with_arguments(a) for a in steps.trial_arguments(job.max_trials)]

    def run() -> None:
        run_all([steps.base_model, steps.prepare_sweep], emit=print)
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            for future in [pool.submit(run_local, trial, print) for trial in trials]:
                future.result()
        run_all([steps.train_final, steps.register], emit=print)

    return _run_steps("train run", run, f"registered a candidate for ds={args.ds} ({job.max_trials} trials)")


def _cmd_registry_list(args: argparse.Namespace) -> int:
    from llmops.training.registry import format_versions, versions  # noqa: PLC0415 - mlflow

    rows = versions(args.model)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
    elif rows:
        print(format_versions(rows))
    else:
        print(f"no versions of {args.model or settings().tracking.registered_model} registered yet")
    return 0


# `llmops gate <command>`: the step module each runs in-process, with the arguments that precede the common ones
GATE_COMMANDS = {
    "eval": ("llmops.evaluation.gate", ()),
    "governance": ("llmops.governance.gate", ()),
    "decide": ("llmops.candidates.cli", ("decide",)),
}


def _cmd_gate(args: argparse.Namespace) -> int:
    """A gate on a registered version through its step module's own main: the code its DAG task runs."""
    import importlib  # noqa: PLC0415

    module, head = GATE_COMMANDS[args.command]
    code = importlib.import_module(module).main(
        [*head, "--lake-root", args.lake_root, "--ds", args.ds, "--version", args.version])
    failed = "rejected" if args.command == "decide" else "failed"
    outcome = {0: "passed", EXIT_FAILED: failed}.get(code, "error")
    print(f"llmops gate {args.command} --version {args.version}: {outcome} (exit code {code})")
    return code


def _cmd_status(args: argparse.Namespace) -> int:
    from llmops.ops_status import status  # noqa: PLC0415 - mlflow

    doc = status(args.lake_root)
    print(json.dumps(doc, indent=2, default=str))
    return 2 if doc["errors"] else 0


def _cmd_deploy(args: argparse.Namespace) -> int:
    """The on-call's view and hands on rollouts: the recorded states, or a running rollout ended now."""
    from llmops.deploy import run  # noqa: PLC0415 - mlflow, torch when acting

    cfg = settings()
    if args.command == "status":
        states = [st for st in run.rollouts(cfg)
                  if args.version is None or st.canary == run.version_name(cfg.deploy, args.version)]
        if not states:
            print(f"no rollouts recorded in {run.state_dir(cfg)}")
            return 0
        print(f"{'canary':<24} {'over':<24} {'status':<11} {'step':<10} {'weight':>6}  {'decisions':<30} report")
        for st in states:
            step = f"{min(st.step_index + 1, len(st.steps))}/{len(st.steps)}"
            weight = f"{100 * st.weights[-1][1]:g}%" if st.weights else "-"
            decisions = ",".join(look.decision for look in st.looks) or "-"
            print(f"{st.canary:<24} {st.stable:<24} {st.status:<11} {step:<10} {weight:>6}  {decisions:<30} "
                  f"{st.report or '-'}")
            if st.reason:
                print(f"{'':<24} reason: {st.reason}")
        return 0
    from llmops.serving.backends.base import BackendError  # noqa: PLC0415

    try:
        st = run.end_rollout(cfg, args.version, args.command == "promote",
                             f"{args.command} by hand (llmops deploy): {args.reason}")  # fmt: skip
    except (ValueError, LookupError, BackendError) as exc:
        print(f"llmops deploy {args.command}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"version {args.version}: {st.status}; report {st.report}")
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    print(json.dumps(settings().model_dump(mode="json"), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    cfg = settings()
    parser = argparse.ArgumentParser(prog="llmops", description=__doc__)
    sub = parser.add_subparsers(dest="group", required=True)

    data = sub.add_parser("data", help="the data pipeline").add_subparsers(dest="command", required=True)
    run = data.add_parser("run", help="run every step of the llmops_data DAG for one date")
    run.add_argument("--raw-root", default=cfg.paths.raw_root)
    run.add_argument("--lake-root", default=cfg.paths.lake_root)
    run.add_argument("--ds", required=True, type=ds_arg)
    run.add_argument("--languages", nargs="+", default=list(cfg.data.languages))
    run.set_defaults(func=_cmd_run)

    train = sub.add_parser("train", help="fine-tuning").add_subparsers(dest="command", required=True)
    from llmops.training.jobs import add_job_arguments  # noqa: PLC0415

    trun = train.add_parser("run", help="sweep + final training + registration, as the llmops_train DAG runs them")
    trun.add_argument("--lake-root", default=cfg.paths.lake_root)
    trun.add_argument("--ds", required=True, type=ds_arg)
    add_job_arguments(trun)
    trun.set_defaults(func=_cmd_train_run)

    registry = sub.add_parser("registry", help="the model registry").add_subparsers(dest="command", required=True)
    rlist = registry.add_parser("list", help="versions with their aliases and lineage")
    rlist.add_argument("--model", help="registered model name (default: settings.tracking.registered_model)")
    rlist.add_argument("--json", action="store_true", help="print JSON instead of a table")
    rlist.set_defaults(func=_cmd_registry_list)

    gate = sub.add_parser("gate", help="candidate gates on a registered model version").add_subparsers(
        dest="command", required=True)
    for name, text in (("eval", "lm-eval gate against the champion"),
                       ("governance", "leakage scans and OWASP probes on the version as served"),
                       ("decide", "pass or reject the version from both gates' verdicts for the date")):
        cmd = gate.add_parser(name, help=text)
        cmd.add_argument("--version", required=True, help="version number or alias (challenger, champion)")
        cmd.add_argument("--lake-root", default=cfg.paths.lake_root)
        cmd.add_argument("--ds", required=True, type=ds_arg, help="the date whose gold test split and reports count")
        cmd.set_defaults(func=_cmd_gate)

    stat = sub.add_parser("status", help="versions, gate verdicts and reports as JSON (the UI's LLMOps page)")
    stat.add_argument("--lake-root", default=cfg.paths.lake_root)
    stat.set_defaults(func=_cmd_status)

    deploy = sub.add_parser("deploy", help="canary rollouts (the llmops_deploy DAG's)").add_subparsers(
        dest="command", required=True)
    dstat = deploy.add_parser("status", help="recorded rollouts: step, weight, decisions, reason, report")
    dstat.add_argument("--version", type=int, help="only this version's rollouts")
    dstat.set_defaults(func=_cmd_deploy)
    for name, text in (("promote", "end a running rollout now: the candidate takes all traffic, becomes champion"),
                       ("rollback", "end a running rollout now: all traffic back to stable, the candidate tagged")):
        cmd = deploy.add_parser(name, help=text)
        cmd.add_argument("--version", type=int, required=True, help="the candidate's version number")
        cmd.add_argument("--reason", default="on-call decision", help="recorded on the version")
        cmd.set_defaults(func=_cmd_deploy)

    conf = sub.add_parser("config", help="print the validated settings of the active profile")
    conf.set_defaults(func=_cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    setup_step_logging()
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except ConfigError as exc:
        print(f"llmops: configuration error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except TrackingUnavailable as exc:  # an unreachable registry is an error, never "no versions"
        print(f"llmops: tracking error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
