"""The command line of a Spark step when ``spark.submit`` is on: ``spark-submit`` against ``spark.master``.

In-process drivers (``python -m spark_jobs.clean …`` with ``spark.master: local[*]``) are the embedded default.
Users who outgrow one machine set ``spark.master: spark://host:7077`` (a standalone cluster) and
``spark.submit: true``: the same step then goes through ``spark-submit``, with the project's packages shipped to
the executors as one zip (``--py-files``) rather than assumed installed there, and event logs written where the
Spark history server reads them (``spark.event_log_dir``). The arguments after the driver script are the step's
own, unchanged.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from llmops.config import Settings
from llmops.steps.model import Step

# steps whose module starts a SparkSession (the Feast step and the model steps do not)
SPARK_MODULES = ("spark_jobs.", "expectations.gate")
_PACKAGES = ("llmops", "spark_jobs", "expectations")


def is_spark_step(step: Step) -> bool:
    return step.module.startswith(SPARK_MODULES)


def _package_dir(name: str) -> Path:
    import importlib  # noqa: PLC0415

    return Path(importlib.import_module(name).__file__).parent


def project_zip(scratch: Path) -> Path:
    """The project's packages as one zip for ``--py-files``, rebuilt only when a source file changes."""
    files = sorted((name, path) for name in _PACKAGES for path in _package_dir(name).rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts)
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(str(path.relative_to(_package_dir(name).parent)).encode())
        digest.update(path.read_bytes())
    target = scratch / "py-files" / f"llmops-{digest.hexdigest()[:16]}.zip"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, path in files:
                archive.write(path, path.relative_to(_package_dir(name).parent))
        partial.replace(target)
    return target


def spark_home() -> Path:
    from pyspark.find_spark_home import _find_spark_home  # noqa: PLC0415

    return Path(_find_spark_home())


def submit_argv(step: Step, cfg: Settings, python: str) -> list[str]:
    """``spark-submit`` for ``step``: driver script ``spark_jobs/submit_main.py`` runs the step's module."""
    scratch = Path(cfg.paths.scratch_dir)
    conf = {
        "spark.pyspark.python": python,
        "spark.pyspark.driver.python": python,
        "spark.submit.deployMode": "client",
        **cfg.spark.conf,
    }
    if cfg.spark.event_log_dir:
        Path(cfg.spark.event_log_dir.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        conf.update({"spark.eventLog.enabled": "true", "spark.eventLog.dir": cfg.spark.event_log_dir})
    argv = [str(spark_home() / "bin" / "spark-submit"), "--master", cfg.spark.master, "--name", step.name,
            "--driver-memory", cfg.spark.driver_memory, "--py-files", str(project_zip(scratch))]
    for key, value in conf.items():
        argv += ["--conf", f"{key}={value}"]
    entry = _package_dir("spark_jobs") / "submit_main.py"
    return [*argv, str(entry), step.module, *step.args]
