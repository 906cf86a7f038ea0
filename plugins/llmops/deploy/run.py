"""The deploy step: roll a gated candidate out over the champion on the configured backend, record the outcome.

The candidate (a version number, an alias, or ``passed``: the newest version tagged passed and not yet rolled
out) is canaried against the ``champion``; before the first promotion against its own base model served
without adapter, so nothing is ever promoted without a comparison. A candidate on another base than the
champion's cannot share an adapter pool: it takes the two-Deployment path (logged, and recorded in the summary),
where the kubernetes runtime gives it a vLLM pool of its own and the HTTPRoute splits the traffic
(:mod:`llmops.serving.backends.two_deployments`); the local backend serves every version in its own process
either way. Decisions live in :mod:`llmops.deploy.rollout` and :mod:`llmops.training.lineage`, I/O in the
backends and the registry; this module wires them.

CLI: ``python -m llmops.deploy.run --lake-root URI --ds DATE [--version passed|N|ALIAS] [--steps 5,25,50,100]
[--window-s S] [--dry-run]``. Exit 0: promoted (or a dry run's plan printed); 1: rolled back (the reason names
the failing metric); 2: could not run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmops import lake, lakefs
from llmops.config import DeploySettings, Settings, settings
from llmops.logs import setup_step_logging
from llmops.pipelines import deploy_report
from llmops.step_summary import summary_uri, write_summary
from llmops.steps import EXIT_FAILED, guarded, lake_step_parser

log = logging.getLogger(__name__)

PASSED = "passed"  # --version: the newest version tagged passed (a rolled-out one is tagged deployed/rolled_back)
TWO_DEPLOYMENTS, ADAPTER_CANARY, FIRST = "two deployments", "adapter canary", "first deployment"
DRY_RUN = "dry run"
ROLLOUT_ENDED = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})  # task states
LOAD_PROMPTS = 64  # held-out prompts the load generator cycles through


@dataclass(frozen=True)
class Plan:
    """What a rollout will do: the versions, their served names, the path and why, the steps and window."""

    candidate: int
    champion: int | None
    stable: str  # served names: <stable_name>-v<N>, or <stable_name>-base before the first promotion
    canary: str
    path: str
    path_reason: str
    backend: str
    steps: list[float]
    window_s: float
    state_file: str
    approval: bool = False  # hold before 100 % for a human's answer (llmops.deploy.approval)


def state_dir(cfg: Settings) -> str:
    """Where rollout states, reports and approval answers live: ``deploy.state_dir``, else in the lake."""
    return cfg.deploy.state_dir or lake.join(cfg.paths.lake_root, "reports", "deploy", "rollouts")


def version_name(cfg: DeploySettings, version: int | None) -> str:
    return f"{cfg.stable_name}-v{version}" if version is not None else f"{cfg.stable_name}-base"


def candidate_row(ref: str) -> dict:
    """The registry row of ``ref``: a number, an alias, or ``passed``."""
    from llmops.candidates.decision import STATUS_TAG  # noqa: PLC0415 - mlflow
    from llmops.candidates.lookup import CandidateNotFound, version_row  # noqa: PLC0415
    from llmops.training import registry  # noqa: PLC0415

    if ref != PASSED:
        return version_row(ref)
    passed = [r for r in registry.versions() if r["tags"].get(STATUS_TAG) == PASSED]  # newest first
    if not passed:
        raise CandidateNotFound("no version is tagged passed: every passed version has been rolled out already")
    return passed[0]


def make_plan(ref: str, cfg: Settings, steps: list[float] | None = None, window_s: float | None = None,
              approval: bool | None = None) -> tuple[Plan, dict, dict | None]:  # fmt: skip
    """The plan for rolling ``ref`` out, with the candidate's and the champion's registry rows."""
    from llmops.deploy.state import state_path  # noqa: PLC0415
    from llmops.training import registry  # noqa: PLC0415

    row = candidate_row(ref)
    champion = registry.version_by_alias(registry.CHAMPION)
    if champion is not None and champion["version"] == row["version"]:
        raise ValueError(f"version {row['version']} is already the champion: nothing to roll out")
    path, reason = rollout_path(row, champion)
    d = cfg.deploy
    stable = version_name(d, champion["version"] if champion else None)
    canary = version_name(d, row["version"])
    state_file = state_path(state_dir(cfg), stable, canary)
    plan = Plan(candidate=row["version"], champion=champion["version"] if champion else None, stable=stable,
                canary=canary, path=path, path_reason=reason, backend=d.backend, steps=list(steps or d.steps),
                window_s=window_s or d.window_s, state_file=state_file,
                approval=d.approval_required if approval is None else approval)  # fmt: skip
    return plan, row, champion


def rollout_path(row: dict, champion: dict | None) -> tuple[str, str]:
    """The path of rolling registry row ``row`` out over ``champion``'s, and why."""
    from llmops.training import lineage  # noqa: PLC0415

    if champion is None:
        return FIRST, "no champion yet: the candidate is canaried against its base model without adapter"
    same, reason = lineage.same_base(row["tags"], champion["tags"])
    return ADAPTER_CANARY if same else TWO_DEPLOYMENTS, reason


def base_dir(tags: dict) -> Path:
    """A version's base model on disk: its recorded directory, or a hub id's snapshot in the local cache."""
    from llmops.training.lineage import BASE_PATH_TAG  # noqa: PLC0415

    base = Path(tags[BASE_PATH_TAG])
    if base.is_dir():
        return base
    from huggingface_hub import snapshot_download  # noqa: PLC0415

    return Path(snapshot_download(tags[BASE_PATH_TAG], revision=tags.get("llmops.base_model_revision") or None))


def build_backend(cfg: Settings, base_tags: dict, canary: tuple[str, dict] | None = None):
    """The configured serving backend (a context manager that closes it). ``base_tags``: the lineage of the version
    whose base the local backend serves by default; ``canary``: the served name and registry row of a candidate on
    another base than the champion's, which the kubernetes runtime serves from a pool of its own."""
    d = cfg.deploy
    if d.backend == "local":
        from llmops.serving.backends.local import LocalBackend  # noqa: PLC0415 - torch

        return LocalBackend(base_dir(base_tags), Path(cfg.paths.scratch_dir) / "deploy", cfg.serving,
                            stable_name=d.stable_name, gateway_port=d.gateway_port,
                            admin_token_env=d.admin_token_env, inference_log=cfg.paths.lake_root)  # fmt: skip
    if canary is not None:
        return _two_deployments(cfg, *canary)
    if cfg.runtime.kind == "kubernetes":  # vLLM listens inside the pool's pods: adapters go through its table
        from llmops.serving.backends.adapter_pool import AdapterPoolBackend  # noqa: PLC0415

        return contextlib.closing(AdapterPoolBackend(cfg))
    from llmops.serving.backends.base import AdminTrafficStore, FileTrafficStore  # noqa: PLC0415
    from llmops.serving.backends.vllm import VLLMBackend  # noqa: PLC0415

    gateway_url = f"http://{d.gateway_host}:{d.gateway_port}"
    if d.traffic_file:
        traffic = FileTrafficStore(Path(d.traffic_file))
    else:
        import os  # noqa: PLC0415

        traffic = AdminTrafficStore(gateway_url, os.environ.get(d.admin_token_env, ""))
    return contextlib.closing(VLLMBackend(d.vllm_url, stable_name=d.stable_name, gateway_url=gateway_url,
                                          traffic=traffic))  # fmt: skip


def _two_deployments(cfg: Settings, name: str, row: dict):
    """The vllm backend of the two-Deployment path: ``row``'s version, served as ``name`` in a pool of its own on
    its recorded base (the identity its trainer loaded), its adapter copied onto the model-cache volume."""
    from llmops.candidates.adapter_cache import download_adapter  # noqa: PLC0415 - mlflow
    from llmops.serving.backends.adapter_volume import stage_adapter  # noqa: PLC0415
    from llmops.serving.backends.base import BackendError  # noqa: PLC0415
    from llmops.serving.backends.two_deployments import TwoDeploymentsBackend  # noqa: PLC0415
    from llmops.training.lineage import BASE_PATH_TAG  # noqa: PLC0415

    if cfg.runtime.kind != "kubernetes":
        raise BackendError(f"{name} sits on another base than the champion: the vllm backend gives it a pool "
                           "of its own in the kubernetes runtime only (runtime.kind)")  # fmt: skip
    if not row["tags"].get(BASE_PATH_TAG):
        raise BackendError(f"version {row['version']} records no base model ({BASE_PATH_TAG}): no pool can serve it")
    adapter = stage_adapter(download_adapter(row["source"], row["run_id"]), name, cfg)
    return contextlib.closing(TwoDeploymentsBackend(cfg, canary=name, canary_base=row["tags"][BASE_PATH_TAG],
                                                    canary_adapter=adapter))  # fmt: skip


def _ensure_loaded(backend, name: str, row: dict | None, local: bool) -> None:
    """Load ``row``'s adapter (None: the base itself) as ``name`` unless the backend serves that name already
    (a resumed rollout on a pool that outlived the task): a version is never reloaded under its name. The local
    backend serves each version on its own recorded base, in its own process (the two-Deployment path)."""
    from llmops.candidates.adapter_cache import download_adapter  # noqa: PLC0415 - mlflow
    from llmops.serving.backends.base import BackendError  # noqa: PLC0415

    with contextlib.suppress(BackendError):
        backend.target(name)
        log.info("%s is already served", name)
        return
    if not local:
        if row is None:  # the pool serves the base under its own name, which the rollout cannot unload
            raise BackendError(f"the vllm backend cannot serve the base model as {name}: a first deployment "
                               "needs a comparison (see docs/known-limits.md)")  # fmt: skip
        backend.load_version(name, str(download_adapter(row["source"], row["run_id"])))
    elif row is None:
        backend.load_version(name, None)
    else:
        backend.load_version(name, str(download_adapter(row["source"], row["run_id"])), base_dir(row["tags"]))


def _row_of(cfg: Settings, name: str) -> dict | None:
    """The registry row behind a served name (None: the base model without adapter)."""
    from llmops.candidates.lookup import version_row  # noqa: PLC0415 - mlflow

    if name == version_name(cfg.deploy, None):
        return None
    return version_row(name.rsplit("-v", 1)[1])


def rollouts(cfg: Settings) -> list:
    """Every recorded rollout, newest first."""
    from llmops.deploy import state  # noqa: PLC0415

    found = [state.load(p) for p in state.listed(state_dir(cfg))]
    return sorted(found, key=lambda st: -(st.weights[0][0] if st.weights else 0.0))


def end_rollout(cfg: Settings, version: int, promote: bool, reason: str):
    """The on-call's promote or rollback of ``version``'s running rollout: traffic to the winner, state, report
    and registry through the rollout's own ``finish`` and ``record_outcome``. Only the winner is loaded."""
    from llmops.deploy import state  # noqa: PLC0415
    from llmops.deploy.outcome import record_outcome  # noqa: PLC0415
    from llmops.deploy.rollout import finish  # noqa: PLC0415

    canary = version_name(cfg.deploy, version)
    running = [st for st in rollouts(cfg) if st.canary == canary and st.status == state.RUNNING]
    if not running:
        raise ValueError(f"no running rollout of version {version} ({canary}) in {state_dir(cfg)}")
    st = running[0]
    keep = st.canary if promote else st.stable
    stable_row, canary_row = _row_of(cfg, st.stable), _row_of(cfg, st.canary)
    row = canary_row if promote else stable_row
    separate = rollout_path(canary_row, stable_row)[0] == TWO_DEPLOYMENTS
    with build_backend(cfg, (row or canary_row)["tags"], (st.canary, canary_row) if separate else None) as backend:
        _ensure_loaded(backend, keep, row, cfg.deploy.backend == "local")
        finish(backend, st, state.state_path(state_dir(cfg), st.stable, st.canary),
               state.PROMOTED if promote else state.ROLLED_BACK, reason, cfg.deploy.drain_s)  # fmt: skip
    record_outcome(version, st)
    return st


def rollout_inputs(cfg: Settings, lake_root: str, ds: str) -> tuple[list[str], list | None]:
    """The held-out test items up to ``ds``: their prompts for the load generator, and the items themselves as
    the references of the answer-quality test on mirrored prompts (None when
    ``deploy.analysis.quality_prompts_per_step`` is 0). Fewer items than the test needs to ever pass
    (``quality_min_prompts``) is an error here, not a rollout that can only end "insufficient data"."""
    from llmops.deploy.quality import held_out_items  # noqa: PLC0415 - pyarrow

    items = held_out_items(lake_root, ds)
    prompts = [item.prompt for item in items[:LOAD_PROMPTS]]
    a = cfg.deploy.analysis
    if not a.quality_prompts_per_step:
        log.warning("answer quality is not tested in this rollout: deploy.analysis.quality_prompts_per_step is 0")
        return prompts, None
    if len(items) < a.quality_min_prompts:
        raise ValueError(f"the answer-quality test needs deploy.analysis.quality_min_prompts="
                         f"{a.quality_min_prompts} held-out test items; the gold test split up to {ds} has "
                         f"{len(items)} (set deploy.analysis.quality_prompts_per_step=0 to roll out without it)")
    log.info("answer quality: %s on %d mirrored prompts per step, of %d held-out items", a.quality_metric,
             a.quality_prompts_per_step, len(items))  # fmt: skip
    return prompts, items


def deploy(plan: Plan, row: dict, champion: dict | None, cfg: Settings, prompts: list[str],
           references: list | None = None, run_id: str = ""):
    """Run (or resume) the rollout of ``plan`` and record its outcome in the registry; the final state.
    ``references``: held-out items for the answer-quality test (:func:`rollout_inputs`); ``run_id``: the Airflow
    run, whose approval task finds the rollout by it."""
    from llmops.deploy import state  # noqa: PLC0415
    from llmops.deploy.outcome import record_outcome  # noqa: PLC0415
    from llmops.deploy.rollout import run_rollout  # noqa: PLC0415

    recorded = state.load(plan.state_file)
    if recorded is not None and recorded.status != state.RUNNING:
        log.info("the rollout of %s over %s already ended (%s): recording its outcome again", plan.canary,
                 plan.stable, recorded.status)  # fmt: skip
        final = recorded
    else:
        rollout_cfg = DeploySettings.model_validate({**cfg.deploy.model_dump(), "steps": plan.steps,
                                                     "window_s": plan.window_s,
                                                     "approval_required": plan.approval})  # fmt: skip
        separate = (plan.canary, row) if plan.path == TWO_DEPLOYMENTS else None
        with build_backend(cfg, (champion or row)["tags"], separate) as backend:
            local = cfg.deploy.backend == "local"
            _ensure_loaded(backend, plan.stable, champion, local)
            _ensure_loaded(backend, plan.canary, row, local)
            try:
                final = run_rollout(backend, plan.stable, plan.canary, rollout_cfg, state_dir(cfg), prompts,
                                    references=references, run_id=run_id)
            except Exception:  # the rollout ended at 100 % stable before raising: the registry says so too
                ended = state.load(plan.state_file)
                if ended is not None and ended.status != state.RUNNING:
                    record_outcome(plan.candidate, ended)
                raise
    record_outcome(plan.candidate, final)
    return final


def rollout_summary(plan: Plan, final, report: str) -> dict:
    looks = [{"step": look.step, "weight": look.canary_weight, "stable_requests": look.stable["requests"],
              "canary_requests": look.canary["requests"], "replayed": look.loadgen_requests,
              "decision": look.decision} for look in final.looks]  # fmt: skip
    return {**asdict(plan), "status": final.status, "reason": final.reason, "looks": looks, "report": report}


def format_plan(plan: Plan) -> str:
    lines = [f"candidate   v{plan.candidate} served as {plan.canary}",
             f"stable      {f'v{plan.champion} (champion)' if plan.champion else 'base model, no adapter'} "
             f"served as {plan.stable}",
             f"path        {plan.path}: {plan.path_reason}",
             f"backend     {plan.backend}",
             f"steps       {' -> '.join(f'{s:g}%' for s in plan.steps)}, analysis window {plan.window_s:g} s",
             f"approval    {'a human approves before 100%' if plan.approval else 'not required'}",
             f"state file  {plan.state_file}"]  # fmt: skip
    return "\n".join(lines)


def announce_deployed(params: dict, dag_run: Any, outlet_events: Any, triggering_asset_events: Any = None) -> dict:
    """In Airflow, after the rollout task: the ``model_deployed`` event carries the promoted version (the step
    summary of the run's date); a dry run promoted nothing, so the task skips and no event is emitted."""
    from airflow.sdk.exceptions import AirflowSkipException  # noqa: PLC0415 - only inside Airflow

    from llmops.assets import MODEL_DEPLOYED  # noqa: PLC0415
    from llmops.templating import run_ds  # noqa: PLC0415

    ds = run_ds(params, dag_run, triggering_asset_events)
    uri = summary_uri(settings().paths.lake_root, "deploy", ds)
    summary = json.loads(lake.local_path(uri).read_text())
    if summary["status"] != "promoted":
        raise AirflowSkipException(f"nothing promoted ({summary['status']}): no model_deployed event")
    extra = {"version": summary["candidate"], "previous": summary["champion"], "ds": ds, "report": summary["report"]}
    outlet_events[MODEL_DEPLOYED].extra.update(extra)
    return extra


def await_hold(params: dict, run_id: str, ti: Any) -> Any:
    """In Airflow, beside the rollout task: poked until this run's rollout holds for approval, then the approver's
    page (the state file and the body :func:`llmops.deploy.approval.hold_body` writes) as XCom; skipped when
    no approval was asked for, or the rollout task ended without holding."""
    from airflow.sdk import PokeReturnValue  # noqa: PLC0415 - only inside Airflow
    from airflow.sdk.exceptions import AirflowSkipException  # noqa: PLC0415

    from llmops.deploy import approval, state  # noqa: PLC0415

    cfg = settings()
    if params.get("dry_run") or not params.get("approval", cfg.deploy.approval_required):
        raise AirflowSkipException("no approval asked for in this run")
    found = approval.find(state_dir(cfg), run_id)
    if found is not None and found[1].status == state.RUNNING and found[1].hold_started is not None:
        path, st = found
        return PokeReturnValue(is_done=True, xcom_value={"state_file": str(path), "canary": st.canary,
                                                         "body": approval.hold_body(st, cfg.deploy.approval_timeout_s)})
    rollout = ti.get_task_states(dag_id=ti.dag_id, task_ids=["rollout"], run_ids=[run_id])[run_id].get("rollout")
    if (found is not None and found[1].status != state.RUNNING) or rollout in ROLLOUT_ENDED:
        raise AirflowSkipException(f"the rollout ended without holding for approval (task {rollout}"
                                   + (f"; {found[1].status}: {found[1].reason})" if found else ")"))
    return PokeReturnValue(is_done=False)  # not started yet, or still below its last canary step


def _steps(text: str) -> list[float]:
    try:
        steps = [float(s) for s in text.replace(" ", "").split(",") if s]
    except ValueError:
        raise argparse.ArgumentTypeError(f"steps must be comma-separated percentages, got {text!r}") from None
    if not steps or any(not 0 < s <= 100 for s in steps) or steps != sorted(set(steps)):
        raise argparse.ArgumentTypeError(f"steps must rise strictly within (0, 100], got {text!r}")
    return steps


def _bool(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return text.lower() in ("true", "1", "yes")


def main(argv: list[str] | None = None) -> int:
    parser = lake_step_parser("llmops.deploy.run", __doc__.splitlines()[0])
    parser.add_argument("--version", default=PASSED, help="version number, alias, or 'passed' (default)")
    parser.add_argument("--steps", type=_steps, default=None, help="canary percent per step, e.g. 5,25,50,100")
    parser.add_argument("--window-s", type=float, default=None, help="analysis window per step (seconds)")
    parser.add_argument("--dry-run", type=_bool, nargs="?", const=True, default=False,
                        help="print the plan and change nothing")  # fmt: skip
    parser.add_argument("--approval", type=_bool, nargs="?", const=True, default=None,
                        help="hold before 100%% for a human's answer (default: deploy.approval_required)")
    parser.add_argument("--run-id", default="", help="the Airflow run starting it (its approval task finds it)")
    args = parser.parse_args(argv)
    if args.window_s is not None and args.window_s <= 0:
        parser.error("--window-s must be positive")
    setup_step_logging()

    def body() -> int:
        cfg = settings()
        plan, row, champion = make_plan(args.version, cfg, args.steps, args.window_s, args.approval)
        log.info("rollout plan:\n%s", format_plan(plan))
        if plan.path == TWO_DEPLOYMENTS:
            log.warning("base model differs from the champion's: %s; two-Deployment path", plan.path_reason)
        if args.dry_run:
            print(format_plan(plan))
            write_summary(args.lake_root, "deploy", args.ds, {**asdict(plan), "status": DRY_RUN, "looks": []})
            return 0
        prompts, references = rollout_inputs(cfg, args.lake_root, args.ds)
        final = deploy(plan, row, champion, cfg, prompts, references, args.run_id)
        report = final.report
        if final.report:  # the run's copy, linked from the task (the original stays beside the state)
            report = deploy_report(args.lake_root, args.ds)
            lakefs.write_bytes(report, lakefs.read_bytes(final.report))
        summary = rollout_summary(plan, final, report)
        write_summary(args.lake_root, "deploy", args.ds, summary)
        log.info("deploy summary: %s", json.dumps(summary, default=str))
        if final.status != "promoted":
            log.error("version %d ROLLED BACK: %s (report: %s)", plan.candidate, final.reason, report)
            print(f"llmops.deploy.run: version {plan.candidate} rolled back: {final.reason}", file=sys.stderr)
            return EXIT_FAILED
        log.info("version %d PROMOTED to champion: %s (report: %s)", plan.candidate, final.reason, report)
        return 0

    return guarded("deploy", body)


if __name__ == "__main__":
    sys.exit(main())
