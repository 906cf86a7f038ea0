"""A rollout in its own process, for the kill test: ``python -m tests.deploy.rollout_child BASE WORK STATE``.
Writes the servers' process groups to WORK/pgids once they are up (the test kills them after SIGKILLing this)."""

from __future__ import annotations

import sys
from pathlib import Path

from llmops.deploy.rollout import run_rollout
from llmops.serving.backends.local import LocalBackend
from tests.deploy.test_rollout import CFG, PROMPTS
from tests.serving.test_backends import SERVING, V6, V7


def main(base: str, work: str, state_dir: str) -> None:
    with LocalBackend(base, work, SERVING, stable_name="support-assistant") as backend:
        for version in (V6, V7):
            backend.load_version(version, str(Path(work) / "adapters" / version))
        (Path(work) / "pgids").write_text(" ".join(str(e.pgid) for e, _ in backend._versions.values()))
        backend.set_weights(V6)
        run_rollout(backend, V6, V7, CFG.model_copy(update={"window_s": 30.0}), Path(state_dir), PROMPTS)


if __name__ == "__main__":
    main(*sys.argv[1:4])
