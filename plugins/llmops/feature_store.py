"""Feast I/O: build the FeatureStore from settings, apply, materialize, historical and online reads.

``feature_repo/`` holds the definitions and a ``feature_store.yaml`` whose every location is a
``${VAR}``; :func:`feast_env` computes those variables from the settings, so the same files serve this
module and the ``feast`` CLI. Registry and SQLite online store live in the lake (``features/_feast/``).

CLI: ``python -m llmops.feature_store --lake-root URI --ds DATE`` applies the definitions, materializes
up to the end of ``ds`` and checks that the partition's examples can be read online; exit 0 when they
can, 1 when some cannot, 2 when the step cannot run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
import logging
import os
import string
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from feast import Entity, FeatureService, FeatureStore, FeatureView, RepoConfig
from feast.data_source import DataSource

from llmops import lake, lakefs
from llmops.config import PROJECT_ROOT, Settings, settings
from llmops.logs import setup_step_logging
from llmops.step_summary import write_summary
from llmops.steps import EXIT_FAILED, guarded, lake_step_parser

log = logging.getLogger(__name__)

REPO_PATH = PROJECT_ROOT / "feature_repo"
SERVICE = "sft_training"
TRAINING_VIEW = "llm_training_features"  # view and features table of the same name
ONLINE_CHECK_SAMPLE = 200


def with_lake_root(cfg: Settings, lake_root: str) -> Settings:
    """``cfg`` with another lake root (a job's ``--lake-root`` wins over the profile)."""
    return cfg.model_copy(update={"paths": cfg.paths.model_copy(update={"lake_root": lake_root.rstrip("/")})})


def _reader_path(uri: str) -> str:
    """A lake URI as DuckDB, pyarrow and Feast's file registry read it: a plain path, or s3:// for s3a://."""
    if lake.is_local(uri):
        return str(lake.local_path(uri))
    return "s3://" + uri.split("://", 1)[1] if uri.startswith("s3a://") else uri


def feast_env(cfg: Settings | None = None) -> dict[str, str]:
    """The variables feature_repo/ reads (feature_store.yaml's ``${VAR}`` and features.py)."""
    cfg = cfg or settings()
    features = lake.join(cfg.paths.lake_root, "features")
    feast_dir = lake.join(features, "_feast")
    if cfg.feast.online_store == "redis":
        online = {"type": "redis", "connection_string": cfg.feast.redis_connection}
    else:  # SQLite needs a local file: next to the registry on a local lake, else in scratch space
        local_dir = (
            lake.local_path(feast_dir) if lake.is_local(feast_dir) else Path(cfg.paths.scratch_dir) / "feast"
        )
        online = {"type": "sqlite", "path": str(local_dir / "online.db")}
    return {
        "LLMOPS_FEAST_PROJECT": cfg.feast.project,
        "LLMOPS_FEAST_REGISTRY": _reader_path(lake.join(feast_dir, "registry.db")),
        "LLMOPS_FEAST_ONLINE_STORE": json.dumps(online),
        "LLMOPS_FEAST_FEATURES_PATH": _reader_path(features),
    }


def store(cfg: Settings | None = None) -> FeatureStore:
    """A FeatureStore configured from ``feature_repo/feature_store.yaml`` and the settings."""
    env = feast_env(cfg)
    local_files = [env["LLMOPS_FEAST_REGISTRY"], json.loads(env["LLMOPS_FEAST_ONLINE_STORE"]).get("path")]
    for path in filter(None, local_files):
        if "://" not in path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = string.Template((REPO_PATH / "feature_store.yaml").read_text()).substitute(env)
    config = RepoConfig(**yaml.safe_load(text))
    config.repo_path = REPO_PATH
    return FeatureStore(repo_path=str(REPO_PATH), config=config)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def definitions(cfg: Settings | None = None) -> list:
    """The Feast objects of feature_repo/features.py, loaded fresh for these settings' paths."""
    spec = importlib.util.spec_from_file_location(
        f"_feature_repo_{uuid.uuid4().hex}", REPO_PATH / "features.py"
    )
    module = importlib.util.module_from_spec(spec)
    with _environ(feast_env(cfg)):
        spec.loader.exec_module(module)
    kinds = (Entity, DataSource, FeatureView, FeatureService)
    return [obj for name, obj in vars(module).items() if not name.startswith("_") and isinstance(obj, kinds)]


def apply(cfg: Settings | None = None) -> FeatureStore:
    """Register the repo's definitions (idempotent: an unchanged repo changes nothing)."""
    fs = store(cfg)
    fs.apply(definitions(cfg))
    return fs


def materialize(cfg: Settings | None, end: dt.datetime) -> None:
    """Load rows newer than the last materialization, up to ``end``, into the online store."""
    store(cfg).materialize_incremental(end_date=end)


def training_frame(
    entity_df: pd.DataFrame, cfg: Settings | None = None, features: Sequence[str] | None = None
) -> pd.DataFrame:
    """Point-in-time correct features for ``entity_df`` (columns example_id, event_timestamp); the trainer's
    example selection (``llmops.training.sft_data.select_examples``) reads through it.

    Each entity row gets the newest feature row at or before its timestamp, or nulls when none is.
    ``features`` are ``view:feature`` references; the default is the sft_training service.
    """
    fs = store(cfg)
    refs = list(features) if features else fs.get_feature_service(SERVICE)
    return fs.get_historical_features(entity_df=entity_df, features=refs).to_df()


def read_online(
    example_ids: Sequence[str], features: Sequence[str] | None = None, cfg: Settings | None = None
) -> dict[str, list]:
    """Online feature values by column (``example_id`` first), one list entry per requested id."""
    fs = store(cfg)
    refs = list(features) if features else fs.get_feature_service(SERVICE)
    rows = [{"example_id": example_id} for example_id in example_ids]
    return fs.get_online_features(features=refs, entity_rows=rows).to_dict()


def _partition(lake_root: str, ds: str) -> pa.Table:
    uri = lake.partition_uri(lake_root, "features", TRAINING_VIEW, ds)
    return lakefs.read_parquet(uri, ["example_id", "event_timestamp"])


def run_apply_and_materialize(lake_root: str, ds: str) -> dict:
    """Apply, materialize up to the end of ``ds``, then read a sample of its examples back online.

    Incremental materialization only looks at event times after the previous run's end. Rows of this
    partition older than that (late arrivals, a backfilled day) are materialized first over their own
    window; newer rows then overwrite them, so the online store still ends with each example's latest.
    """
    cfg = with_lake_root(settings(), lake_root)
    end = dt.datetime.combine(dt.date.fromisoformat(lake.check_ds(ds)), dt.time(), dt.UTC)
    end += dt.timedelta(days=1)
    part = _partition(lake_root, ds)
    started = time.perf_counter()
    fs = apply(cfg)
    applied = time.perf_counter()
    previous_end = fs.get_feature_view(TRAINING_VIEW).most_recent_end_time
    oldest = pc.min(part.column("event_timestamp")).as_py()
    late = previous_end is not None and oldest is not None and oldest < previous_end
    if late:
        fs.materialize(start_date=oldest, end_date=previous_end)
    materialize(cfg, end)
    materialized = time.perf_counter()
    sample = part.column("example_id").to_pylist()[:ONLINE_CHECK_SAMPLE]
    online = read_online(sample, [f"{TRAINING_VIEW}:n_chars"], cfg) if sample else {"n_chars": []}
    summary = {
        "ds": ds,
        "end": end.isoformat(),
        "online_store": cfg.feast.online_store,
        "partition_rows": part.num_rows,
        "late_rows_window": [oldest.isoformat(), previous_end.isoformat()] if late else None,
        "online_checked": len(sample),
        "online_found": sum(v is not None for v in online["n_chars"]),
        "apply_s": round(applied - started, 3),
        "materialize_s": round(materialized - applied, 3),
        "online_read_s": round(time.perf_counter() - materialized, 3),
    }
    log.info("feast: %s", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    args = lake_step_parser("llmops.feature_store", __doc__.splitlines()[0]).parse_args(argv)
    setup_step_logging()

    def body() -> int:
        summary = run_apply_and_materialize(args.lake_root, args.ds)
        write_summary(args.lake_root, "features", args.ds, summary)
        if summary["online_found"] < summary["online_checked"]:
            log.error("%d of %d examples of ds=%s are missing online",
                      summary["online_checked"] - summary["online_found"], summary["online_checked"], args.ds)
            return EXIT_FAILED
        return 0

    return guarded("feast_materialize", body)


if __name__ == "__main__":
    sys.exit(main())
