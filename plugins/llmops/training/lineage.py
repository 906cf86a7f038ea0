"""Lineage of a trained artifact (DESIGN.md principle 6): data, code, configuration, base model, Airflow run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

from llmops.config import PROJECT_ROOT, Settings, settings


def git_commit() -> str:
    """The code's commit: $LLMOPS_GIT_COMMIT (set in images at build time) or the checkout's HEAD."""
    if os.environ.get("LLMOPS_GIT_COMMIT"):
        return os.environ["LLMOPS_GIT_COMMIT"]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def config_hash(cfg: Settings | None = None) -> str:
    """sha256 of the validated settings (the profile plus every override in effect)."""
    cfg = cfg or settings()
    return hashlib.sha256(json.dumps(cfg.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
