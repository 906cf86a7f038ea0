"""Adapters onto the model-cache volume, where the vLLM pool's pods can read them.

The deploy step downloads a version's adapter from the registry to its own disk (``paths.scratch_dir``), which no
vLLM pod sees; the pods mount only the model-cache volume (``runtime.model_cache_pvc``, read-only). The deploy
step's pod mounts it read-write (pod profile ``deploy``, ``model_cache: true``) and copies the adapter to
``<runtime.model_cache_mount>/<deploy.kubernetes.adapter_dir>/<served name>``. The copy goes to a temporary
directory first and is renamed into place, so a pod never reads half an adapter. A version's directory is never
replaced: a pod may have loaded it, and vLLM never reloads a name, so another adapter there is an error.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path

from llmops.config import Settings
from llmops.serving.backends.base import BackendError

log = logging.getLogger(__name__)


def tree_digest(root: Path) -> str:
    """SHA-256 over every file's relative path and content under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def stage_adapter(source: Path, version: str, settings: Settings) -> str:
    """The path of ``version``'s adapter on the model-cache volume: ``source`` itself when it lies there already,
    else a copy of it under the version's own directory (made once; an identical one is reused)."""
    mount = Path(settings.runtime.model_cache_mount)
    if Path(os.path.abspath(source)).is_relative_to(mount):
        return str(source)
    target = mount / settings.deploy.kubernetes.adapter_dir / version
    if not target.exists():
        if not mount.is_dir():
            raise BackendError(f"the model-cache volume is not mounted at {mount} (runtime.model_cache_mount): the "
                               "deploy step's pod profile needs model_cache: true (runtime.pods.deploy)")  # fmt: skip
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{version}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(source, partial)
        try:
            partial.rename(target)
            log.info("adapter of %s copied to %s", version, target)
            return str(target)
        except OSError:  # another task put it there meanwhile: the check below decides
            shutil.rmtree(partial, ignore_errors=True)
    if tree_digest(target) != tree_digest(source):
        raise BackendError(f"{target} holds another adapter than {source}: a version's directory is never replaced "
                           "(a pod may have loaded it); remove it by hand if no pod serves that version")  # fmt: skip
    log.info("adapter of %s already on the volume at %s", version, target)
    return str(target)
