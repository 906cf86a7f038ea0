"""A rollout's outcome in the registry: promotion moves ``champion`` and tags the version ``deployed``; a rollback
tags it ``rolled_back`` with the reason (the failing metric and its values). Both name the report."""

from __future__ import annotations

from llmops.candidates.decision import STATUS_TAG
from llmops.config import settings
from llmops.deploy.state import PROMOTED, RolloutState
from llmops.training import registry, tracking

REASON_TAG, REPORT_TAG = "llmops.deploy.reason", "llmops.deploy.report"
_MAX_TAG_CHARS = 5000  # MLflow's limit on a tag value


def record_outcome(version: int, st: RolloutState) -> None:
    """Tag ``version`` with ``st``'s ended rollout; on promotion it becomes ``champion``. Idempotent."""
    client, name = tracking.client(), settings().tracking.registered_model
    promoted = st.status == PROMOTED
    client.set_model_version_tag(name, str(version), STATUS_TAG, "deployed" if promoted else "rolled_back")
    client.set_model_version_tag(name, str(version), REASON_TAG, st.reason[:_MAX_TAG_CHARS])
    client.set_model_version_tag(name, str(version), REPORT_TAG, st.report)
    if promoted:
        client.set_registered_model_alias(name, registry.CHAMPION, str(version))
