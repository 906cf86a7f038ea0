"""Lineage of a trained artifact (DESIGN.md principle 6): data, code, configuration, base model, Airflow run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Mapping

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


BASE_PATH_TAG, BASE_HASH_TAG = "llmops.base_model", "llmops.base_model_hash"


def same_base(candidate, champion) -> tuple[bool, str]:
    """Whether two versions (their lineage tags, or objects with ``.tags`` such as a registry Candidate) sit on
    the same base model, with the reason. Decides the rollout's path: adapters on one base share a vLLM pool
    (an adapter canary); otherwise the candidate needs its own Deployment (the weighted HTTPRoute). A version
    without a recorded base hash cannot prove its base, so it is treated as different (fail closed)."""
    tags: list[Mapping[str, str]] = [getattr(v, "tags", v) for v in (candidate, champion)]
    (cand_path, cand_hash), (champ_path, champ_hash) = ((t.get(BASE_PATH_TAG), t.get(BASE_HASH_TAG)) for t in tags)
    missing = [who for who, h in (("candidate", cand_hash), ("champion", champ_hash)) if not h]
    if missing:
        return False, f"no base model hash recorded for the {' and '.join(missing)}: cannot show a shared base"
    if cand_hash != champ_hash:
        return False, (f"candidate base {cand_path} (sha256 {cand_hash[:12]}) differs from the champion's "
                       f"{champ_path} (sha256 {champ_hash[:12]})")
    return True, f"same base {cand_path} (sha256 {cand_hash[:12]})"
