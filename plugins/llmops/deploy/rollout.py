"""The canary rollout: step the canary's weight up, analyse each window against stable, promote or roll back.

Every change is recorded in the state file (:mod:`llmops.deploy.state`) before the next one, so a rerun
continues from the recorded step; any exception ends at 100 % stable before it propagates. The last step
(100 %) is the promotion itself: with no stable traffic left there is nothing to compare.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import httpx

from llmops.config import DeploySettings
from llmops.deploy import analysis, approval, quality, state
from llmops.deploy.analysis import Counts, Decision
from llmops.deploy.quality import MirrorItem
from llmops.deploy.report import write_report
from llmops.serving.backends.base import ServingBackend

log = logging.getLogger(__name__)


class LoadGenerator:
    """Replays held-out prompts through the stable name at ``rps`` (Flagger's load tester), each request as a
    new caller so the sticky split spreads them by weight, streamed so the gateway sees its time to first token.
    Counts what it sent and what failed."""

    def __init__(self, gateway_url: str, model: str, prompts: Sequence[str], rps: float, max_tokens: int):
        self.gateway_url, self.model, self.prompts = gateway_url, model, list(prompts) or ["Hello"]
        self.rps, self.max_tokens = rps, max_tokens
        self.sent = self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LoadGenerator:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        with httpx.Client(base_url=self.gateway_url, timeout=60) as client:
            for prompt in itertools.cycle(self.prompts):
                started = time.monotonic()
                if self._stop.is_set():
                    return
                body = {"model": self.model, "prompt": prompt, "max_tokens": self.max_tokens, "stream": True,
                        "user": f"loadgen-{uuid.uuid4().hex}"}  # fmt: skip
                try:
                    with client.stream("POST", "/v1/completions", json=body) as answer:
                        failed = answer.status_code >= 500 or any('"error"' in line for line in answer.iter_lines())
                except httpx.HTTPError:
                    failed = True
                self.sent, self.failed = self.sent + 1, self.failed + failed
                self._stop.wait(max(0.0, 1 / self.rps - (time.monotonic() - started)))


def _totals(looks: list[state.Look]) -> tuple[Counts, Counts]:
    stable, canary = Counts(0, 0, 0), Counts(0, 0, 0)
    for look in looks:
        stable, canary = stable + Counts(**look.stable), canary + Counts(**look.canary)
    return stable, canary


def _weight(st: state.RolloutState) -> float:
    """The canary's current weight (0 before the first step)."""
    return st.weights[-1][1] if st.weights else 0.0


def _route(backend: ServingBackend, st: state.RolloutState, weight: float) -> None:
    backend.set_weights(st.stable, st.canary if weight > 0 else None, weight)


def _set_weight(backend: ServingBackend, st: state.RolloutState, weight: float) -> None:
    _route(backend, st, weight)
    st.weights.append((time.time(), weight))


def _mirror_step(backend: ServingBackend, st: state.RolloutState, cfg: DeploySettings,
                 references: Sequence[MirrorItem] | None) -> list[tuple[float, float]] | None:  # fmt: skip
    """This step's mirrored prompts, scored on both versions (None: quality is not tested in this rollout)."""
    count = cfg.analysis.quality_prompts_per_step
    if not references or not count:
        return None
    used = sum(len(look.quality) for look in st.looks)
    items = quality.next_items(references, f"{st.stable}/{st.canary}", used, count)
    if len(items) < count:
        log.warning("step %d: only %d held-out prompts left to mirror (of %d wanted)", st.step_index, len(items),
                    count)  # fmt: skip
    return quality.mirror(backend, st.stable, st.canary, items, metric=cfg.analysis.quality_metric,
                          max_tokens=cfg.analysis.quality_max_tokens, pool_url=cfg.vllm_url)  # fmt: skip


def _analyse_step(backend: ServingBackend, st: state.RolloutState, cfg: DeploySettings, prompts: Sequence[str],
                  references: Sequence[MirrorItem] | None = None) -> state.Look:  # fmt: skip
    """Mirror this step's held-out prompts and wait out the window, then read and analyse; if the window is
    short of requests, replay prompts until it is not or the step's deadline passes (then the look stays
    "insufficient data")."""
    weight = _weight(st)  # held there while waiting for approval
    before = backend.read_metrics()
    started = time.monotonic()
    pairs = _mirror_step(backend, st, cfg, references)
    earlier = [pair for look in st.looks for pair in look.quality]
    time.sleep(max(0.0, cfg.window_s - (time.monotonic() - started)))
    generator = None
    try:
        while True:
            after = backend.read_metrics()
            stable_after = after.get(("stable", st.stable))
            bounds = ((analysis.p95_bound(stable_after.latency_buckets), analysis.p95_bound(stable_after.ttft_buckets))
                      if stable_after else (float("inf"), float("inf")))  # fmt: skip
            window_s = analysis.window_counts(before.get(("stable", st.stable)), stable_after, *bounds)
            window_c = analysis.window_counts(before.get(("canary", st.canary)), after.get(("canary", st.canary)),
                                              *bounds)  # fmt: skip
            total_s, total_c = _totals(st.looks)
            results = analysis.analyse(total_s + window_s, total_c + window_c, cfg.analysis,
                                       None if pairs is None else earlier + pairs)  # fmt: skip
            decision = analysis.overall(results)
            if decision is Decision.CONTINUE and min(window_s.requests, window_c.requests) < cfg.analysis.min_requests:
                decision = Decision.INSUFFICIENT  # every window needs its own traffic, not only the running totals
            if decision is not Decision.INSUFFICIENT or time.monotonic() - started > cfg.step_deadline_s:
                break
            if generator is None:
                log.info("step %d: too few requests so far (%d stable, %d canary): replaying held-out prompts",
                         st.step_index, window_s.requests, window_c.requests)  # fmt: skip
                generator = LoadGenerator(backend.gateway_url, backend.stable_name, prompts, cfg.load_rps,
                                          cfg.load_max_tokens).__enter__()  # fmt: skip
            time.sleep(min(1.0, cfg.window_s))
    finally:
        if generator is not None:
            generator.__exit__()
    log.info("step %d at %.0f%% canary: %s\n%s", st.step_index, 100 * weight, decision,
             analysis.format_table(results))  # fmt: skip
    return state.Look(step=st.step_index, canary_weight=weight, stable=asdict(window_s), canary=asdict(window_c),
                      results=analysis.as_dicts(results), decision=str(decision),
                      loadgen_requests=generator.sent if generator else 0, quality=pairs or [])  # fmt: skip


def finish(backend: ServingBackend, st: state.RolloutState, path: str, status: str, reason: str,
           drain_s: float) -> None:  # fmt: skip
    """Move all traffic to the winner, record the outcome, drain, and unload the loser."""
    keep, drop = (st.canary, st.stable) if status == state.PROMOTED else (st.stable, st.canary)
    backend.set_weights(keep)
    st.weights.append((time.time(), 1.0 if status == state.PROMOTED else 0.0))
    st.status, st.reason = status, reason
    st.report = write_report(st, state.report_path(path))
    state.save(path, st)
    log.info("rollout %s: %s", status, reason)
    time.sleep(drain_s)
    backend.unload_version(drop)


def _ended_elsewhere(path: str) -> state.RolloutState | None:
    """The recorded state when someone else ended this rollout while it ran (``llmops deploy promote|rollback``
    writes the same state file), else None: the file, not this process's copy, is the rollout's truth."""
    recorded = state.load(path)
    return recorded if recorded is not None and recorded.status != state.RUNNING else None


def _enforce(backend: ServingBackend, st: state.RolloutState) -> state.RolloutState:
    """An ended rollout: all of this backend's traffic to the recorded winner (the loser's unloading was done
    by whoever ended it)."""
    backend.set_weights(st.canary if st.status == state.PROMOTED else st.stable)
    log.info("rollout %s over %s already ended (%s: %s): traffic at the winner", st.canary, st.stable, st.status,
             st.reason)  # fmt: skip
    return st


def _failure(look: state.Look, when: str) -> str | None:
    """The rollback reason a look gives (a failing metric, or too little traffic by the deadline), else None."""
    if look.decision == Decision.ROLLBACK:
        results = [analysis.MetricResult(**{**r, "decision": Decision(r["decision"])}) for r in look.results]
        return f"{when}: {analysis.rollback_reason(results)}"
    if look.decision == Decision.INSUFFICIENT:
        return (f"{when}: insufficient data by the step deadline ({look.stable['requests']} stable, "
                f"{look.canary['requests']} canary requests)")  # fmt: skip
    return None


def _promote(backend: ServingBackend, st: state.RolloutState, path: str, cfg: DeploySettings,
             prompts: Sequence[str], references: Sequence[MirrorItem] | None) -> state.RolloutState:  # fmt: skip
    """Every step below 100 % passed: promote, or with approval required hold for a human's answer first."""
    if st.approval_required:
        return _hold(backend, st, path, cfg, prompts, references)
    finish(backend, st, path, state.PROMOTED, "every step passed the canary analysis", cfg.drain_s)
    return st


def _hold(backend: ServingBackend, st: state.RolloutState, path: str, cfg: DeploySettings,
          prompts: Sequence[str], references: Sequence[MirrorItem] | None) -> state.RolloutState:  # fmt: skip
    """Hold at the last canary weight until a human answers (:mod:`llmops.deploy.approval`), analysing each window
    all along: a failing metric rolls back even now, and so do a rejection and no answer by the timeout."""
    weight = _weight(st)
    _route(backend, st, weight)  # a resumed rollout's gateway may be new; the weight is recorded already
    if st.hold_started is None:
        st.hold_started = time.time()
        state.save(path, st)
        log.info("every step below 100%% passed: holding at %g%% canary for a human's approval (timeout %g s)",
                 100 * weight, cfg.approval_timeout_s)  # fmt: skip
    while True:
        if (answer := approval.read(path, since=st.hold_started)) is not None:
            if answer.decision == approval.APPROVED:
                reason = f"every step passed the canary analysis; approved by {answer.by}"
                finish(backend, st, path, state.PROMOTED, reason, cfg.drain_s)
            else:
                finish(backend, st, path, state.ROLLED_BACK, f"rejected by {answer.by} at the approval hold",
                       cfg.drain_s)  # fmt: skip
            return st
        if time.time() - st.hold_started > cfg.approval_timeout_s:
            finish(backend, st, path, state.ROLLED_BACK, f"no approval within {cfg.approval_timeout_s:g} s",
                   cfg.drain_s)  # fmt: skip
            return st
        look = _analyse_step(backend, st, cfg, prompts, references)
        if (ended := _ended_elsewhere(path)) is not None:
            return _enforce(backend, ended)
        st.looks.append(look)
        if reason := _failure(look, "waiting for approval"):
            finish(backend, st, path, state.ROLLED_BACK, reason, cfg.drain_s)
            return st
        state.save(path, st)


def run_rollout(backend: ServingBackend, stable: str, canary: str, cfg: DeploySettings, state_dir: str | Path,
                prompts: Sequence[str], *, references: Sequence[MirrorItem] | None = None, run_id: str = "",
                ) -> state.RolloutState:  # fmt: skip
    """Roll ``canary`` out over ``stable`` (both loaded in ``backend``), resuming any recorded rollout of the
    pair. ``references`` (held-out prompts with answers, :func:`llmops.deploy.quality.held_out_items`) turn on
    the answer-quality test on mirrored prompts; ``run_id`` names the Airflow run (its approval task finds the
    rollout by it). Returns the final state; an ended rollout is only re-enforced (traffic at its winner). The
    state file is re-read before each step and after each analysis window, so an on-call promote or rollback
    (``llmops deploy``) ends a running rollout at once."""
    path = state.state_path(state_dir, stable, canary)
    st = state.load(path)
    if st is None:
        st = state.RolloutState(stable=stable, canary=canary, steps=list(cfg.steps),
                                approval_required=cfg.approval_required)  # fmt: skip
    if st.status != state.RUNNING:
        return _enforce(backend, st)
    st.run_id = run_id or st.run_id
    try:
        while st.step_index < len(st.steps):
            if (ended := _ended_elsewhere(path)) is not None:
                return _enforce(backend, ended)
            if st.steps[st.step_index] >= 100:
                return _promote(backend, st, path, cfg, prompts, references)
            _set_weight(backend, st, st.steps[st.step_index] / 100)
            state.save(path, st)
            look = _analyse_step(backend, st, cfg, prompts, references)
            if (ended := _ended_elsewhere(path)) is not None:  # decided during the window: that decision stands
                return _enforce(backend, ended)
            st.looks.append(look)
            if reason := _failure(look, f"step {st.step_index} ({st.steps[st.step_index]:g}%)"):
                finish(backend, st, path, state.ROLLED_BACK, reason, cfg.drain_s)
                return st
            st.step_index += 1
            state.save(path, st)
        return _promote(backend, st, path, cfg, prompts, references)
    except BaseException as exc:
        if st.status == state.RUNNING:
            finish(backend, st, path, state.ROLLED_BACK, f"rollout failed: {exc!r}", 0.0)
        raise
