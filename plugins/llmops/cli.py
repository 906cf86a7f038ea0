"""The `llmops` command: run pipeline steps outside Airflow through the same code the DAGs call."""

from __future__ import annotations

import argparse
import json
import sys

from llmops.config import ConfigError, settings
from llmops.logs import setup_step_logging
from llmops.pipelines import data_steps
from llmops.steps import EXIT_ERROR, StepFailed, ds_arg, run_all


def _cmd_generate(args: argparse.Namespace) -> int:
    if args.records == 0:
        print(f"--records 0: nothing generated; the pipeline reads what is already in {args.out}")
        return 0
    from llmops.sample_data import generate  # noqa: PLC0415 - keep `llmops --help` instant

    manifest = generate(args.out, args.ds, args.records, seed=args.seed)
    counts = manifest["counts"]
    print(f"wrote {sum(c['records'] for c in counts.values())} records for ds={args.ds} under {args.out}")
    for source, c in counts.items():
        print(f"  {source:<8} records={c['records']:>8} malformed={c['malformed']:>6}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    steps = data_steps(args.raw_root, args.lake_root, args.ds, ",".join(args.languages), str(args.sample_records))
    try:
        run_all(steps, emit=print)
    except StepFailed as exc:
        print(f"\nllmops data run: {exc}", file=sys.stderr)
        return exc.returncode
    print(f"\nllmops data run: all {len(steps)} steps passed for ds={args.ds}")
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    print(json.dumps(settings().model_dump(mode="json"), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    cfg = settings()
    parser = argparse.ArgumentParser(prog="llmops", description=__doc__)
    sub = parser.add_subparsers(dest="group", required=True)

    data = sub.add_parser("data", help="the data pipeline").add_subparsers(dest="command", required=True)
    gen = data.add_parser("generate", help="write deterministic sample raw data with planted defects")
    gen.add_argument("--out", default=cfg.paths.raw_root, help="raw landing zone URI")
    gen.add_argument("--ds", required=True, type=ds_arg)
    gen.add_argument("--records", required=True, type=int)
    gen.add_argument("--seed", type=int, default=7)
    gen.set_defaults(func=_cmd_generate)

    run = data.add_parser("run", help="run every step of the llmops_data DAG for one date")
    run.add_argument("--raw-root", default=cfg.paths.raw_root)
    run.add_argument("--lake-root", default=cfg.paths.lake_root)
    run.add_argument("--ds", required=True, type=ds_arg)
    run.add_argument("--languages", nargs="+", default=list(cfg.data.languages))
    run.add_argument("--sample-records", type=int, default=0, help="generate this many sample records first")
    run.set_defaults(func=_cmd_run)

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


if __name__ == "__main__":
    sys.exit(main())
