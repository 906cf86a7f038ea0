"""The hourly drift check as one step: ``python -m llmops.monitoring.drift_check --lake-root L --ds D --hour H``.

Reference: the training prompts of the registered version with the ``champion`` alias (its lineage tags
``llmops.gold.table``/``llmops.gold.partitions`` name the gold it was trained on); current: the inference log's
last ``monitoring.drift_window_h`` hours before ``D`` ``H``:00 UTC. Writes drift_report.html and verdict.json
under ``<lake>/reports/drift/ds=<D>/hour=<H>/`` (llmops.pipelines.drift_report) and the Prometheus textfile
the exporter serves (llmops.monitoring.drift_exporter). Drift is not a failure of the step: the alert rules
page on the exported ``llmops_drift_detected``. No champion yet: says so and exits 0 (nothing is served to
drift). A registry or lake that cannot be read is an error (exit 2), never a "no drift".
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from llmops import lake, lakefs
from llmops.config import settings
from llmops.pipelines import drift_report
from llmops.publish import publish_partition
from llmops.steps.model import EXIT_ERROR

log = logging.getLogger(__name__)


def metrics_file(lake_root: str) -> Path:
    configured = settings().monitoring.drift_metrics_file
    if configured:
        return Path(configured)
    if not lake.is_local(lake_root):
        raise ValueError(
            "monitoring.drift_metrics_file must be set when the lake is not local: the exporter serves a local textfile"
        )
    return lake.local_path(lake.join(lake_root, "reports", "drift", "metrics", "llmops_drift.prom"))


def window_end(ds: str, hour: str) -> dt.datetime:
    if not hour.isdigit() or not 0 <= int(hour) <= 23:
        raise ValueError(f"hour must be 00-23, got {hour!r}")
    return dt.datetime.fromisoformat(lake.check_ds(ds)).replace(hour=int(hour), tzinfo=dt.UTC)


def run(lake_root: str, end: dt.datetime, version: str = "champion") -> dict | None:
    from llmops.monitoring import drift
    from llmops.monitoring.inference_log import read_window
    from llmops.monitoring.prompts import gold_prompts
    from llmops.training.registry import version_by_alias

    cfg = settings().monitoring
    row = version_by_alias(version)
    if row is None:
        log.info("no version has the alias %r yet: nothing is served, no drift to check", version)
        return None
    tags = row["tags"]
    partitions = [p for p in tags.get("llmops.gold.partitions", "").split(",") if p]
    if not partitions or "llmops.gold.table" not in tags:
        raise ValueError(f"version {row['version']} has no llmops.gold.* lineage tags: no reference to compare with")
    reference = gold_prompts(tags["llmops.gold.table"], partitions, "train")
    start = end - dt.timedelta(hours=cfg.drift_window_h)
    window = read_window(lake_root, start, end, max_rows=cfg.drift_max_window_rows)
    model = f"{settings().tracking.registered_model}:v{row['version']}"
    report = drift_report(lake_root, f"{end:%Y-%m-%d}", f"{end:%H}")
    with lakefs.build_folder(report) as out_dir:  # uploaded below when the lake is not local
        result = drift.check(reference, window, model=model, start=start, end=end, embedder=drift.load_embedder(),
                             out_dir=out_dir, metrics_file=metrics_file(lake_root), sample_size=cfg.drift_sample,
                             min_rows=cfg.drift_min_rows, alpha=cfg.drift_alpha)  # fmt: skip
        if not lake.is_local(report):
            publish_partition(str(out_dir), report)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmops.monitoring.drift_check", description=__doc__.split("\n")[0])
    parser.add_argument("--lake-root", required=True)
    parser.add_argument("--ds", required=True, help="date of the window's end (UTC)")
    parser.add_argument("--hour", required=True, help="hour of the window's end (UTC, 00-23)")
    parser.add_argument("--version", default="champion", help="registry alias whose training prompts are the reference")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(args.lake_root, window_end(args.ds, args.hour), args.version)
    except Exception:
        log.exception("drift check could not run")
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
