"""The end-of-demo table shows the rollout from the deploy step's summary: outcome, report, each step."""

from __future__ import annotations

from llmops import summary
from llmops.deploy import run, state
from llmops.step_summary import write_summary

DS = "2026-11-20"


def _look(step: int, weight: float, canary: int, stable: int, replayed: int) -> state.Look:
    return state.Look(step=step, canary_weight=weight, stable={"requests": stable, "errors": 0, "slow": 0},
                      canary={"requests": canary, "errors": 0, "slow": 0}, results=[], decision="continue",
                      loadgen_requests=replayed)  # fmt: skip


def test_the_summary_table_shows_the_rollout_steps_requests_decision_and_report(tmp_path, capsys):
    lake_root = f"file://{tmp_path}"
    plan = run.Plan(candidate=2, champion=1, stable="support-assistant-v1", canary="support-assistant-v2",
                    path=run.ADAPTER_CANARY, path_reason="same base", backend="local", steps=[25, 50, 100],
                    window_s=2, state_file="/s.json")  # fmt: skip
    final = state.RolloutState(stable=plan.stable, canary=plan.canary, steps=plan.steps, status=state.PROMOTED,
                               reason="every step passed the canary analysis",
                               looks=[_look(0, 0.25, 9, 31, 40), _look(1, 0.5, 22, 20, 0)])  # fmt: skip
    report = f"{lake_root}/reports/deploy/ds={DS}/rollout.html"
    write_summary(lake_root, "deploy", DS, run.rollout_summary(plan, final, report))
    table = summary.rows(lake_root, DS)
    assert table[0] == ("deploy", "PROMO", "v2 over v1 (adapter canary), 25% -> 50% -> 100%: every step passed "
                        "the canary analysis", report)  # fmt: skip
    assert table[1:] == [("  25%", "contin", "canary 9 / stable 31 requests, 40 replayed", report),
                         ("  50%", "contin", "canary 22 / stable 20 requests, 0 replayed", report)]  # fmt: skip
    assert summary.main(["--ds", DS, "--lake-root", lake_root]) == 0
    assert "PROMO" in capsys.readouterr().out
