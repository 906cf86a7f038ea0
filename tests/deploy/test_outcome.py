"""The registry records a rollout's outcome: champion alias and tags on promotion, reason on rollback."""

from __future__ import annotations

from llmops.config import settings
from llmops.deploy.outcome import REASON_TAG, REPORT_TAG, record_outcome
from llmops.deploy.state import PROMOTED, ROLLED_BACK, RolloutState
from llmops.training import tracking


def test_promotion_moves_champion_and_rollback_records_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMOPS__TRACKING__URI", f"sqlite:///{tmp_path}/mlflow.db")
    settings.cache_clear()
    try:
        client, name = tracking.client(), settings().tracking.registered_model
        client.create_registered_model(name)
        for _ in range(3):
            client.create_model_version(name, source=str(tmp_path))
        client.set_registered_model_alias(name, "champion", "1")
        state = {"stable": "v1", "canary": "v2", "steps": [5, 100]}
        record_outcome(2, RolloutState(**state, status=PROMOTED, reason="every step passed", report="/r/2.html"))
        bad = "step 0 (5%): error_rate: canary 1.0000 vs stable 0.0000"
        record_outcome(3, RolloutState(**state, status=ROLLED_BACK, reason=bad, report="/r/3.html"))
        assert int(client.get_model_version_by_alias(name, "champion").version) == 2
        two, three = client.get_model_version(name, "2").tags, client.get_model_version(name, "3").tags
        assert two["llmops.status"] == "deployed" and two[REPORT_TAG] == "/r/2.html"
        assert three["llmops.status"] == "rolled_back" and three[REASON_TAG] == bad
    finally:
        settings.cache_clear()
