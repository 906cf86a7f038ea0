"""A registered version's adapter, downloaded once per training run into the scratch cache."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

from llmops.config import settings

log = logging.getLogger(__name__)


def download_adapter(source: str, run_id: str) -> Path:
    """The adapter behind ``source`` (``runs:/<run_id>/<path>``), downloaded once per run into the scratch cache.

    The download lands in a private folder and is renamed into place, so a concurrent gate or a killed
    download never leaves a half-copied adapter where the next one looks.
    """
    prefix = f"runs:/{run_id}/"
    if not source.startswith(prefix):
        raise ValueError(f"version source {source!r} is not an artifact of run {run_id}")
    artifact = source[len(prefix):]
    target = Path(settings().paths.scratch_dir) / "candidates" / run_id / artifact
    if (target / "adapter_config.json").is_file():
        return target
    import mlflow.artifacts  # noqa: PLC0415 - heavy

    staging = target.parent.with_name(f"_{run_id}.{uuid.uuid4().hex[:12]}")
    try:
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact, dst_path=str(staging),
                                            tracking_uri=settings().tracking.uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(staging / artifact, target)
        except OSError:
            if not (target / "adapter_config.json").is_file():  # not a concurrent download that won
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("downloaded the adapter of run %s to %s", run_id, target)
    return target
