"""Benchmark: the clean job's data layer against a copy floor and a single-process pandas baseline.

Per size (records handed to the sample-data generator; ~80% of them land in the text sources):

  setup (not in the table): generate raw data, ingest tickets/faq/reviews to bronze;
  1. copy_floor           read the bronze Parquet of tickets, faq, reviews and write it back;
  2. normalise_mask_dedup clean_text_fields + content_hash + exact_dedup, written (target <= 4x the floor);
  3. clean_job            clean_source per source (+ language filter, near-duplicate removal), written;
  4. pandas_baseline      bench/pandas_clean.py, one process (target: Spark >= 3x faster at 1M records);
  5. growth               clean_job time at the largest size / at the smallest (target <= 1.2 x size ratio,
                          i.e. 12 for 100k -> 1M).

Spark stages run warm: one untimed run first, then the median of ``--repeats`` runs, fewer when a run
takes longer than ``--cheap-seconds``. pandas runs cold (a fresh process would too), same repeat rule.
The Spark and pandas outputs of the whole job are compared (surviving records by lineage, and their
content hashes) so a fast but different baseline cannot pass unnoticed. Usage:

    .venv/bin/python bench/bench_clean.py [--sizes 100000 1000000] [--pandas-max-size N]
        [--work-dir .scratch/bench] [--results bench/results/clean.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy
import pandas
import pandas_clean  # next to this script, so on sys.path when it runs
import pyarrow
import pyarrow.parquet as pq
import pyspark
from pandas_clean import TEXT_SOURCES
from pyspark.sql import functions as F

from llmops import lake
from llmops.config import settings
from llmops_demo import generate
from spark_jobs import ingest

# _order_key is the clean job's private order key: stage 2 keeps the job's survivor rule
from spark_jobs.clean import _order_key, clean_source, clean_text_fields
from spark_jobs.schemas import SILVER
from spark_jobs.session import get_spark, read_partition
from spark_jobs.transforms.dedup import content_hash, exact_dedup

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("results") / "clean.json"
DS = "2026-01-01"
STAGES = ("copy_floor", "normalise_mask_dedup", "clean_job", "pandas_baseline")
FLOOR_RATIO_TARGET = 4.0
PANDAS_RATIO_TARGET, PANDAS_TARGET_SIZE = 3.0, 1_000_000
GROWTH_SLACK = 1.2  # time may grow 1.2x faster than the data: 12 for 10x the records

_t0 = time.monotonic()


def progress(message: str) -> None:
    print(f"[{time.monotonic() - _t0:7.1f}s] {message}", flush=True)


def machine_info(spark) -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spark": spark.version,
        "pyspark": pyspark.__version__,
        "pandas": pandas.__version__,
        "pyarrow": pyarrow.__version__,
        "numpy": numpy.__version__,
    }


def timed(fn: Callable[..., object], *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def measure(label: str, run_sources: Callable[[], dict[str, float]], warm: bool, repeats: int, cheap_s: float) -> dict:
    """Median total of up to ``repeats`` runs (1 when the first timed run exceeds ``cheap_s``)."""
    if warm:
        progress(f"{label}: warm-up {sum(run_sources().values()):.2f} s")
    runs: list[dict[str, float]] = []
    while len(runs) < repeats and (not runs or sum(runs[0].values()) <= cheap_s):
        runs.append(run_sources())
        progress(f"{label}: run {len(runs)} {sum(runs[-1].values()):.2f} s {_fmt_sources(runs[-1])}")
    totals = [sum(r.values()) for r in runs]
    median = statistics.median(totals)
    return {
        "seconds": round(median, 3),
        "runs": [round(t, 3) for t in totals],
        "per_source": {s: round(statistics.median(r[s] for r in runs), 3) for s in runs[0]},
        "warm": warm,
    }


def _fmt_sources(times: dict[str, float]) -> str:
    return "(" + ", ".join(f"{s} {t:.2f}" for s, t in times.items()) + ")"


class Stages:
    """The timed stages of one size: each runs over every text source and returns seconds per source."""

    def __init__(self, spark, cfg, lake_root: str, out_root: Path):
        self.spark, self.cfg, self.lake_root, self.out = spark, cfg, lake_root, out_root

    def bronze(self, source: str):
        return read_partition(self.spark, self.lake_root, "bronze", source, DS)

    def _each(self, stage: str, build) -> dict[str, float]:
        def write(source: str) -> None:  # plan building (and its schema reads) counts, as pandas' reads do
            build(source).write.mode("overwrite").parquet(str(self.out / stage / source))

        return {source: timed(write, source) for source in TEXT_SOURCES}

    def copy_floor(self) -> dict[str, float]:
        return self._each("copy_floor", self.bronze)

    def normalise_mask_dedup(self) -> dict[str, float]:
        def build(source: str):
            cleaned = (
                clean_text_fields(self.bronze(source), source)
                .withColumn("content_hash", content_hash(F.col("dedup_text")))
                .withColumn("_order", _order_key(source))
            )
            return exact_dedup(cleaned, "content_hash", "_order").select(*SILVER[source].fieldNames())

        return self._each("normalise_mask_dedup", build)

    def clean_job(self) -> dict[str, float]:
        languages = list(self.cfg.data.languages)
        times = self._each("clean_job", lambda s: clean_source(self.bronze(s), s, languages, self.cfg)[0])
        # near_duplicates persists its signatures and nothing unpersists them: drop them between runs
        self.spark.catalog.clearCache()
        return times

    def pandas_baseline(self) -> dict[str, float]:
        languages = list(self.cfg.data.languages)
        return {
            source: timed(
                pandas_clean.run,
                lake.local_path(lake.partition_uri(self.lake_root, "bronze", source, DS)),
                self.out / "pandas_baseline" / f"{source}.parquet",
                source,
                languages,
                self.cfg.data,
            )
            for source in TEXT_SOURCES
        }


def setup(spark, work: Path, size: int) -> tuple[str, dict]:
    """Generate raw data and ingest the text sources to bronze; return (lake root, setup figures)."""
    if work.exists():
        shutil.rmtree(work)
    raw_root, lake_root = f"file://{work}/raw", f"file://{work}/lake"
    generate_s = timed(lambda: generate(raw_root, DS, size))
    progress(f"size={size}: generated raw data in {generate_s:.1f} s")
    summary: dict = {}
    ingest_s = timed(lambda: summary.update(ingest.run(raw_root, lake_root, DS, sources=TEXT_SOURCES)))
    bronze = {s: summary["sources"][s]["bronze"] for s in TEXT_SOURCES}
    progress(f"size={size}: ingested to bronze in {ingest_s:.1f} s {bronze}")
    return lake_root, {
        "generate_s": round(generate_s, 2),
        "ingest_s": round(ingest_s, 2),
        "bronze_rows": bronze,
    }


def agreement(out: Path) -> dict:
    """Spark's whole-job output against pandas': records kept by one only, content hashes that differ."""
    cols = ["_source_file", "_line", "content_hash"]
    report = {}
    for source in TEXT_SOURCES:
        spark_rows = pq.read_table(out / "clean_job" / source, columns=cols).to_pylist()
        pandas_rows = pq.read_table(out / "pandas_baseline" / f"{source}.parquet", columns=cols).to_pylist()
        spark_kept = {(r["_source_file"], r["_line"]): r["content_hash"] for r in spark_rows}
        pandas_kept = {(r["_source_file"], r["_line"]): r["content_hash"] for r in pandas_rows}
        both = spark_kept.keys() & pandas_kept.keys()
        report[source] = {
            "spark_rows": len(spark_kept),
            "pandas_rows": len(pandas_kept),
            "only_spark": len(spark_kept.keys() - pandas_kept.keys()),
            "only_pandas": len(pandas_kept.keys() - spark_kept.keys()),
            "content_hash_differs": sum(spark_kept[k] != pandas_kept[k] for k in both),
        }
    return report


def bench_size(spark, cfg, args, size: int) -> tuple[dict, list[dict], dict | None]:
    work = Path(args.work_dir).resolve() / f"records-{size}"
    lake_root, setup_figures = setup(spark, work, size)
    stages = Stages(spark, cfg, lake_root, work / "out")
    rows = []
    for stage in STAGES:
        label = f"size={size} {stage}"
        if stage == "pandas_baseline" and args.pandas_max_size is not None and size > args.pandas_max_size:
            rows.append(skipped_row(stage, size, f"size > --pandas-max-size {args.pandas_max_size}"))
            progress(f"{label}: skipped ({rows[-1]['skipped']})")
            continue
        figures = measure(label, getattr(stages, stage), stage != "pandas_baseline", args.repeats, args.cheap_seconds)
        rows.append({"metric": stage, "size": size, **figures})
    add_ratios(rows, size)
    agree = agreement(work / "out") if rows[-1]["seconds"] is not None else None
    if agree:
        progress(f"size={size}: spark vs pandas survivors {agree}")
    return setup_figures, rows, agree


def skipped_row(metric: str, size: int, why: str) -> dict:
    """A stage that was not run: no number, and the reason."""
    return {"metric": metric, "size": size, "seconds": None, "skipped": why}


def add_ratios(rows: list[dict], size: int) -> None:
    by = {r["metric"]: r for r in rows}
    floor, step2, job, pandas = (by[m] for m in STAGES)
    step2.update(ratio=round(step2["seconds"] / floor["seconds"], 2), target=f"<= {FLOOR_RATIO_TARGET:g}x floor")
    step2["met"] = step2["ratio"] <= FLOOR_RATIO_TARGET
    if pandas["seconds"] is not None:
        pandas.update(
            ratio=round(pandas["seconds"] / job["seconds"], 2),
            target=f">= {PANDAS_RATIO_TARGET:g}x (pandas / Spark) at {PANDAS_TARGET_SIZE:,}",
        )
        pandas["met"] = pandas["ratio"] >= PANDAS_RATIO_TARGET if size == PANDAS_TARGET_SIZE else None


def growth_row(rows: list[dict]) -> dict | None:
    jobs = sorted((r for r in rows if r["metric"] == "clean_job"), key=lambda r: r["size"])
    if len(jobs) < 2:
        return None
    small, large = jobs[0], jobs[-1]
    target = GROWTH_SLACK * large["size"] / small["size"]
    ratio = round(large["seconds"] / small["seconds"], 2)
    return {
        "metric": "growth",
        "size": f"{small['size']}->{large['size']}",
        "seconds": None,
        "ratio": ratio,
        "target": f"<= {target:g}",
        "met": ratio <= target,
    }


def print_table(rows: list[dict]) -> None:
    def cell(value, fmt="{}"):
        return "-" if value is None else fmt.format(value)

    print(f"\n{'metric':<22} {'size':>16} {'seconds':>9} {'ratio':>7}  {'target':<40} met?")
    for r in rows:
        met = {True: "yes", False: "NO", None: "-"}[r.get("met")]
        seconds = "skipped" if r.get("skipped") else cell(r.get("seconds"), "{:.2f}")
        print(
            f"{r['metric']:<22} {r['size']!s:>16} {seconds:>9} {cell(r.get('ratio'), '{:.2f}'):>7}  "
            f"{r.get('target') or '-':<40} {met}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000], help="records to generate")
    parser.add_argument("--pandas-max-size", type=int, default=None, help="skip pandas above this size")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per stage (median reported)")
    parser.add_argument("--cheap-seconds", type=float, default=60.0, help="only one timed run above this")
    parser.add_argument("--work-dir", default=str(ROOT / ".scratch" / "bench"))
    parser.add_argument("--results", default=str(RESULTS))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # the reference machine: 2 cores, Spark local[2]; an explicit LLMOPS__SPARK__MASTER still wins
    os.environ.setdefault("LLMOPS__SPARK__MASTER", "local[2]")
    cfg = settings()
    started = dt.datetime.now(dt.UTC)
    spark = get_spark("bench-clean", cfg)
    machine = machine_info(spark)
    progress(f"Spark {spark.version} {cfg.spark.master}, {machine['nproc']} cores, sizes {args.sizes}")
    setups, rows, agreements = {}, [], {}
    for size in sorted(args.sizes):
        setups[size], size_rows, agree = bench_size(spark, cfg, args, size)
        rows += size_rows
        if agree:
            agreements[size] = agree
    if growth := growth_row(rows):
        rows.append(growth)
    spark.stop()
    machine["load_average_at_end"] = os.getloadavg()
    print_table(rows)
    for size, figures in setups.items():
        print(
            f"setup {size}: generate {figures['generate_s']} s, ingest {figures['ingest_s']} s, "
            f"bronze rows {figures['bronze_rows']}"
        )
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "benchmark": "clean",
                "started_at": started.isoformat(timespec="seconds"),
                "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "argv": sys.argv[1:] if argv is None else argv,
                "sizes": sorted(args.sizes),
                "machine": machine,
                "settings": {
                    "spark": cfg.spark.model_dump(),
                    "data": cfg.data.model_dump(
                        include={
                            "languages",
                            "near_dup_threshold",
                            "minhash_permutations",
                            "minhash_bands",
                            "shingle_words",
                        }
                    ),
                    "repeats": args.repeats,
                    "cheap_seconds": args.cheap_seconds,
                },
                "setup": setups,
                "results": rows,
                "agreement": agreements,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
