"""`python -m llmops_demo --ds YYYY-MM-DD --records N`: write sample raw data with planted defects and its manifest."""

from __future__ import annotations

import argparse
import sys

from llmops.config import settings
from llmops.steps import ds_arg
from llmops_demo import generate
from llmops_demo.generator import MIN_RECORDS


def _records(value: str) -> int:
    """argparse type for --records: too few for the planted defects is a usage error (exit 2), not a traceback."""
    records = int(value)
    if records < MIN_RECORDS:
        raise argparse.ArgumentTypeError(f"must be >= {MIN_RECORDS} so every planted defect fits, got {records}")
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmops_demo", description=__doc__)
    parser.add_argument("--out", help="raw landing zone URI (default: settings.paths.raw_root)")
    parser.add_argument("--ds", required=True, type=ds_arg)
    parser.add_argument("--records", required=True, type=_records)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    out = args.out or settings().paths.raw_root
    counts = generate(out, args.ds, args.records, seed=args.seed)["counts"]
    print(f"wrote {sum(c['records'] for c in counts.values())} records for ds={args.ds} under {out}")
    for source, c in counts.items():
        print(f"  {source:<8} records={c['records']:>8} malformed={c['malformed']:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
