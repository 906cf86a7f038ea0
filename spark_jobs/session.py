"""SparkSession construction and partition I/O shared by every job."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from llmops import lake
from llmops.config import Settings, settings
from llmops.publish import publish_partition

log = logging.getLogger(__name__)


def get_spark(app_name: str, cfg: Settings | None = None) -> SparkSession:
    """A SparkSession configured from settings (``local[*]`` in the embedded default)."""
    cfg = cfg or settings()
    scratch = Path(cfg.paths.scratch_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    # Spark's Python workers must use this environment's interpreter (pyarrow lives here).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if cfg.spark.master.startswith("local"):
        # an embedded driver has no business listening beyond loopback
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName(app_name)
        .master(cfg.spark.master)
        .config("spark.driver.memory", cfg.spark.driver_memory)
        .config("spark.local.dir", str(scratch))
        .config("spark.sql.shuffle.partitions", str(cfg.spark.shuffle_partitions))
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(cfg.spark.arrow_batch_size))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={scratch}")
    )
    if cfg.spark.event_log_dir:  # for the Spark history server (spark-submit sets the same on its command line)
        Path(cfg.spark.event_log_dir.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        builder = builder.config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", cfg.spark.event_log_dir)
    for key, value in {**s3a_conf(cfg), **cfg.spark.conf}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def s3a_conf(cfg: Settings) -> dict[str, str]:
    """Hadoop's s3a client pointed at the endpoint the other steps use (object_store); spark.conf still wins.

    Credentials stay Hadoop's default chain (the AWS variables, the pod's role), as for pyarrow.
    """
    store = cfg.object_store
    if not store.endpoint_url:
        return {}
    return {"spark.hadoop.fs.s3a.endpoint": store.endpoint_url, "spark.hadoop.fs.s3a.endpoint.region": store.region,
            "spark.hadoop.fs.s3a.path.style.access": "true"}  # fmt: skip


def write_partition(df: DataFrame, lake_root: str, layer: str, table: str, ds: str) -> str:
    """Write ``df`` as partition ``ds`` of ``layer/table`` and publish it atomically."""
    staging = lake.staging_uri(lake_root, layer, table, ds)
    target = lake.partition_uri(lake_root, layer, table, ds)
    df.write.mode("error").parquet(staging)
    publish(staging, target)
    log.info("published %s", target)
    return target


def read_partition(spark: SparkSession, lake_root: str, layer: str, table: str, ds: str) -> DataFrame:
    return spark.read.parquet(lake.partition_uri(lake_root, layer, table, ds))


def publish(staging: str, target: str) -> None:
    """Publish a staged partition: atomically on a local lake (llmops.publish), through Hadoop elsewhere."""
    if lake.is_local(target):
        publish_partition(staging, target)
    else:
        hadoop_replace(staging, target)


def hadoop_replace(staging: str, target: str) -> None:
    """Replace ``target`` by ``staging`` through Hadoop's FileSystem API (object stores have no atomic rename;
    production tables there should move to a table format such as Delta or Iceberg)."""
    spark = SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError("publishing to a remote lake needs an active SparkSession")
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    src, dst = jvm.org.apache.hadoop.fs.Path(staging), jvm.org.apache.hadoop.fs.Path(target)
    fs = dst.getFileSystem(conf)
    if fs.exists(dst):
        fs.delete(dst, True)
    if not fs.rename(src, dst):
        raise OSError(f"could not rename {staging} to {target}")
