"""The alert webhook receiver against hostile and broken input, with its real authentication, limits and
deduplication store (SQLite); the Airflow side (creating the Asset event) is counted here and proven for real
against a live API server in tests/e2e/test_alerts_live.py."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from llmops.monitoring import webhook
from llmops.monitoring.webhook_auth import sign

TOKEN, OLD_TOKEN, SECRET, OLD_SECRET = "am-token-1", "am-token-0", "hmac-secret-1", "hmac-secret-0"


def alertmanager_payload(fingerprint: str = "fp1", status: str = "firing", n: int = 1) -> dict:
    alerts = [{"status": status, "labels": {"alertname": "LLMOpsInputDrift", "model": "support-assistant",
                                            "severity": "page"},
               "annotations": {"summary": "drift"}, "startsAt": "2026-12-05T01:00:00Z",
               "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph",
               "fingerprint": f"{fingerprint}-{i}" if n > 1 else fingerprint} for i in range(n)]
    return {"version": "4", "groupKey": '{}:{alertname="LLMOpsInputDrift"}', "truncatedAlerts": 0,
            "status": status, "receiver": "llmops-webhook", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://am", "alerts": alerts}


@pytest.fixture
def receiver(tmp_path, monkeypatch):
    """The receiver app with its real store; emitted events counted (thread-safe)."""
    monkeypatch.setenv("AIRFLOW_CONN_LLMOPS_ALERT_WEBHOOK", json.dumps({
        "conn_type": "generic", "extra": {"bearer_tokens": [TOKEN, OLD_TOKEN], "hmac_secrets": [SECRET, OLD_SECRET]}}))
    monkeypatch.setattr(webhook, "state_url", lambda cfg: f"sqlite:///{tmp_path}/alerts.db")
    events, lock = [], threading.Lock()

    def emit(alert):
        with lock:
            events.append(alert)
            return str(len(events))

    monkeypatch.setattr(webhook, "emit_event", emit)
    webhook.SECRETS.clear()  # each test reads its own connection
    app = FastAPI()
    app.include_router(webhook.router)
    with TestClient(app) as client:
        yield client, events


def post_am(client, body, token: str | None = TOKEN, content_type: str = "application/json"):
    headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {token}"} if token else {})}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/alerts/alertmanager", content=data, headers=headers)


def post_signed(client, body: dict, secret: str = SECRET, ts: float | None = None, source: str = "grafana"):
    raw = json.dumps(body).encode()
    stamp = str(int(ts if ts is not None else time.time()))
    return client.post(f"/alerts/{source}", content=raw, headers={
        "Content-Type": "application/json", "X-Grafana-Alerting-Timestamp": stamp,
        "X-Grafana-Alerting-Signature": sign(secret, stamp, raw)})


def grafana(fingerprint: str = "g1") -> dict:
    return {**alertmanager_payload(fingerprint), "version": "1"}


def test_a_firing_alert_becomes_one_event_and_a_resolved_one_none(receiver):
    client, events = receiver
    resp = post_am(client, alertmanager_payload())
    assert resp.status_code == 202 and resp.json()["accepted"][0]["decision"] == "started"
    assert post_am(client, alertmanager_payload(status="resolved")).json()["accepted"][0]["decision"] == \
        "recorded-resolved"
    assert [e.fingerprint for e in events] == ["fp1"]
    assert events[0].event_extra()["alert"] == "LLMOpsInputDrift"


def test_credentials(receiver):
    client, events = receiver
    assert post_am(client, alertmanager_payload(), token=None).status_code == 401
    assert post_am(client, alertmanager_payload(), token="wrong").status_code == 401
    assert post_am(client, alertmanager_payload("rotated"), token=OLD_TOKEN).status_code == 202  # rotation
    assert client.post("/alerts/grafana", json=grafana()).status_code == 401  # unsigned
    assert post_signed(client, grafana(), secret="not-it").status_code == 401
    assert post_signed(client, grafana("g2"), secret=OLD_SECRET).status_code == 202
    assert post_signed(client, grafana("g3"), ts=time.time() - 3600).status_code == 401  # stale
    assert post_signed(client, grafana("g4"), ts=time.time() + 3600).status_code == 401  # from the future
    assert client.post("/alerts/nagios", json={}).status_code == 404
    assert len(events) == 2


def test_a_replayed_signed_delivery_is_refused(receiver):
    client, _ = receiver
    raw, stamp = json.dumps(grafana()).encode(), str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Grafana-Alerting-Timestamp": stamp,
               "X-Grafana-Alerting-Signature": sign(SECRET, stamp, raw)}
    assert client.post("/alerts/grafana", content=raw, headers=headers).status_code == 202
    assert client.post("/alerts/grafana", content=raw, headers=headers).status_code == 409


def test_bodies_it_must_refuse(receiver):
    client, events = receiver
    assert post_am(client, alertmanager_payload(), content_type="text/plain").status_code == 415
    huge = json.dumps({**alertmanager_payload(), "pad": "x" * 300_000}).encode()
    assert post_am(client, huge).status_code == 413
    resp = client.post("/alerts/alertmanager", content=b"{}",
                       headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json",
                                "Content-Length": str(10**9)})
    assert resp.status_code == 413  # refused from the declared length
    assert post_am(client, json.dumps(alertmanager_payload()).encode()[:-20]).status_code == 422  # truncated
    assert post_am(client, b"[" * 5000 + b"]" * 5000).status_code == 422  # nested deep
    wrong_types = alertmanager_payload()
    wrong_types["alerts"][0]["labels"] = ["not", "a", "map"]
    resp = post_am(client, wrong_types)
    assert resp.status_code == 422 and "labels" in resp.json()["detail"]
    assert post_am(client, {**alertmanager_payload(), "version": "3"}).status_code == 422
    assert post_am(client, {"hello": "world"}).status_code == 422
    assert events == []


def test_a_duplicate_storm_starts_exactly_one_run(receiver):
    client, events = receiver
    for _ in range(10):
        assert post_am(client, alertmanager_payload("storm")).status_code == 202
    assert len(events) == 1


def test_concurrent_deliveries_of_one_alert_start_exactly_one_run(receiver):
    client, events = receiver
    codes = []
    threads = [threading.Thread(target=lambda: codes.append(post_am(client, alertmanager_payload("race")).status_code))
               for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [202] * 12 and len(events) == 1


def test_no_secrets_configured_means_nobody_gets_in(receiver, monkeypatch):
    client, events = receiver
    monkeypatch.delenv("AIRFLOW_CONN_LLMOPS_ALERT_WEBHOOK")
    assert post_am(client, alertmanager_payload("x")).status_code == 503
    assert events == []


def test_the_connection_is_read_once_per_cache_period_and_a_revoked_secret_stops_working_after_it(
        receiver, monkeypatch):
    client, _ = receiver
    from llmops.monitoring import webhook_auth

    reads, real = [], webhook_auth.load_secrets
    monkeypatch.setattr(webhook_auth, "load_secrets", lambda conn_id: reads.append(conn_id) or real(conn_id))
    now = [1000.0]
    monkeypatch.setattr(webhook_auth.time, "monotonic", lambda: now[0])
    for i in range(5):
        assert post_am(client, alertmanager_payload(f"c{i}"), token=OLD_TOKEN).status_code == 202
    assert reads == ["llmops_alert_webhook"]
    monkeypatch.setenv("AIRFLOW_CONN_LLMOPS_ALERT_WEBHOOK", json.dumps({  # OLD_TOKEN revoked
        "conn_type": "generic", "extra": {"bearer_tokens": [TOKEN], "hmac_secrets": [SECRET]}}))
    now[0] += webhook.settings().monitoring.secrets_cache_s + 1
    assert post_am(client, alertmanager_payload("c5"), token=OLD_TOKEN).status_code == 401
    assert post_am(client, alertmanager_payload("c6"), token=TOKEN).status_code == 202
    assert len(reads) == 2


def test_a_failed_secrets_lookup_is_not_remembered(receiver, monkeypatch):
    client, events = receiver
    configured = json.dumps({"conn_type": "generic", "extra": {"bearer_tokens": [TOKEN]}})
    monkeypatch.delenv("AIRFLOW_CONN_LLMOPS_ALERT_WEBHOOK")
    assert post_am(client, alertmanager_payload("late")).status_code == 503
    monkeypatch.setenv("AIRFLOW_CONN_LLMOPS_ALERT_WEBHOOK", configured)
    assert post_am(client, alertmanager_payload("late")).status_code == 202 and len(events) == 1


def test_a_state_store_that_fails_is_a_503_not_a_500(receiver, monkeypatch):
    client, events = receiver
    from llmops.monitoring.alert_store import AlertStore

    def down(self, *args):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(AlertStore, "claim", down)
    resp = post_signed(client, grafana("g-store"))
    assert resp.status_code == 503 and "state store" in resp.json()["detail"] and events == []


def test_an_event_that_cannot_be_created_is_a_503_and_a_retry_creates_it(receiver, monkeypatch):
    client, events = receiver
    working = webhook.emit_event

    def down(alert):
        raise RuntimeError("metadata database unavailable")

    monkeypatch.setattr(webhook, "emit_event", down)
    assert post_am(client, alertmanager_payload("retry")).status_code == 503
    monkeypatch.setattr(webhook, "emit_event", working)
    assert post_am(client, alertmanager_payload("retry")).json()["accepted"][0]["decision"] == "started"
    assert len(events) == 1


def test_a_signed_delivery_answered_503_is_accepted_when_retried_byte_for_byte(receiver, monkeypatch):
    """The 503 releases the delivery's claims: the retry is neither a replay (409) nor a duplicate. An alert
    whose event was made before the failure stays claimed (its retry is a duplicate, not a second run)."""
    client, events = receiver
    working, calls = webhook.emit_event, []

    def second_fails(alert):
        calls.append(alert.fingerprint)
        if len(calls) == 2:
            raise RuntimeError("metadata database unavailable")
        return working(alert)

    monkeypatch.setattr(webhook, "emit_event", second_fails)
    body = {**alertmanager_payload("signed-retry", n=2), "version": "1"}
    raw, stamp = json.dumps(body).encode(), str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Grafana-Alerting-Timestamp": stamp,
               "X-Grafana-Alerting-Signature": sign(SECRET, stamp, raw)}
    assert client.post("/alerts/grafana", content=raw, headers=headers).status_code == 503
    retried = client.post("/alerts/grafana", content=raw, headers=headers)
    assert retried.status_code == 202, retried.text
    assert [d["decision"] for d in retried.json()["accepted"]] == ["duplicate", "started"]
    assert [e.fingerprint for e in events] == ["signed-retry-0", "signed-retry-1"]


def test_the_same_alert_after_its_window_starts_a_new_run(tmp_path, monkeypatch):
    """The store's window, with a clock moved past it (no purge has run in between)."""
    from llmops.monitoring import alert_store

    store = alert_store.AlertStore(f"sqlite:///{tmp_path}/store.db")
    assert store.claim(None, ["fp"], 600, window_s=3600) == [True]
    assert store.claim(None, ["fp"], 600, window_s=3600) == [False]
    later = time.time() + 3601
    monkeypatch.setattr(alert_store.time, "time", lambda: later)
    assert store.claim(None, ["fp"], 600, window_s=3600) == [True]
    assert store.claim(None, ["fp"], 600, window_s=3600) == [False]


def test_a_replay_claims_nothing_and_a_key_twice_in_one_delivery_is_claimed_once(tmp_path):
    from llmops.monitoring.alert_store import AlertStore

    store = AlertStore(f"sqlite:///{tmp_path}/store.db")
    assert store.claim("sig-1", ["a", "a", "b"], 600, 3600) == [True, False, True]
    assert store.claim("sig-1", ["c"], 600, 3600) is None  # a replay: c stays unclaimed
    assert store.claim("sig-2", ["c", "b"], 600, 3600) == [True, False]
    store.release("sig-2", ["c"])
    assert store.claim("sig-2", ["c", "b"], 600, 3600) == [True, False]


def test_a_store_on_another_database_is_refused_by_name():
    from llmops.monitoring.alert_store import AlertStore

    with pytest.raises(ValueError, match="SQLite or PostgreSQL, not mysql"):
        AlertStore("mysql+pymysql://nobody@127.0.0.1:1/nothing")


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def test_concurrent_claims_of_one_alert_have_one_winner(tmp_path, database):
    """What the API server's workers do at once with one alert storm, on each database the store runs on."""
    from llmops.monitoring.alert_store import AlertStore
    from tests.services import postgres_database

    with (postgres_database("llmops_claims") if database == "postgresql" else
          contextlib.nullcontext(f"sqlite:///{tmp_path}/store.db")) as url:  # fmt: skip
        AlertStore(url).engine.dispose()  # the tables, before the race
        barrier, won = threading.Barrier(8), []

        def deliver(i: int) -> None:
            store = AlertStore(url)
            barrier.wait()
            won.append(store.claim(f"sig-{i}", ["storm"], 600, 3600))
            store.engine.dispose()

        workers = [threading.Thread(target=deliver, args=(i,)) for i in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert sorted(won) == [[False]] * 7 + [[True]]


@pytest.mark.integration
def test_api_server_workers_creating_the_store_at_once_all_get_it():
    """Each API-server worker creates the store's tables on its first delivery; on PostgreSQL, concurrent
    CREATE TABLEs race on the catalog (before the fix 9 rounds of 10 lost one, and that delivery got a 503)."""
    from llmops.monitoring.alert_store import AlertStore
    from tests.services import postgres_database

    for _ in range(5):
        with postgres_database("llmops_store") as url:
            errors, barrier = [], threading.Barrier(4)

            def first_delivery(url: str = url, errors: list = errors, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                try:
                    store = AlertStore(url)
                    store.engine.dispose()
                except Exception as exc:  # noqa: BLE001 - collected and asserted below
                    errors.append(repr(exc)[:200])

            workers = [threading.Thread(target=first_delivery) for _ in range(4)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        assert errors == []


def test_a_store_that_cannot_be_reached_still_fails():
    from sqlalchemy.exc import OperationalError

    from llmops.monitoring.alert_store import AlertStore

    with pytest.raises(OperationalError):
        AlertStore("postgresql+psycopg2://postgres@127.0.0.1:1/nothing")
