"""Wall time of the candidate gates on this machine for the embedded model, with their item and probe counts.

Runs the gates' own command lines (`llmops gate eval|governance --version V --ds D`) on a lake that holds a
registered version (after `make demo`), each once, and reads the numbers of items and probes back from the
verdicts they wrote.

    .venv/bin/python bench/bench_gates.py --ds 2026-11-22 [--version challenger]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from llmops import lake
from llmops.config import settings
from llmops.pipelines import model_gate_dir


def run_gate(gate: str, version: str, ds: str) -> dict:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "llmops.cli", "gate", gate, "--version", version, "--ds", ds],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    return {"gate": gate, "exit_code": proc.returncode, "seconds": round(seconds, 1), "load": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ds", required=True)
    parser.add_argument("--version", default="challenger")
    parser.add_argument("--out", default="bench/results/gates.json")
    args = parser.parse_args()
    lake_root = settings().paths.lake_root
    rows = []
    for gate in ("eval", "governance"):
        row = run_gate(gate, args.version, args.ds)
        folder = lake.local_path(model_gate_dir(lake_root, gate, args.ds))
        if gate == "eval":
            verdict = json.loads((folder / "verdict.json").read_text())
            row.update(status=verdict["status"], items=verdict["n_items"])
        else:
            report = json.loads((folder / "governance_report.json").read_text())
            row.update(status=report["status"],
                       probes=sum(c["attempts"] for c in (report["owasp"] or {}).get("categories", [])),
                       scanned_records=sum(s["records"] for s in report["leakage"]),
                       scan_seconds=round(sum(s["seconds"] for s in report["leakage"]), 1))
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{'gate':<11} {'status':<7} {'seconds':>8}  counts")
    for r in rows:
        counts = {k: r[k] for k in ("items", "probes", "scanned_records", "scan_seconds") if k in r}
        print(f"{r['gate']:<11} {r['status']:<7} {r['seconds']:>8}  {counts}")
    Path(args.out).write_text(json.dumps({"machine": platform.node(), "cpus": os.cpu_count(), "ds": args.ds,
                                          "version": args.version, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
