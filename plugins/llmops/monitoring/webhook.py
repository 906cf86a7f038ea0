"""The alert webhook receiver, mounted in Airflow's API server by the llmops plugin (``/llmops/alerts/<source>``).

Plugin apps get no authentication from Airflow, so every request proves itself before anything else happens:
Alertmanager with its bearer token, Grafana and the drift check with an HMAC signature over a fresh timestamp.
Then, in order: 415 for a body that is not JSON, 413 for one over the limit (refused from its Content-Length,
and counted while reading, never buffered whole), 401 for a bad credential, 422 for anything that is not a known
payload, 409 for a signed delivery already seen, 503 when the receiver's memory or Airflow cannot record it (the
sender retries), and 202 when accepted. The secrets are read from their connection at most every
``monitoring.secrets_cache_s``; the store (one transaction) and Airflow are written in one worker-thread hop
per delivery.

A resolved alert is recorded and starts nothing. A firing alert is deduplicated by fingerprint within
``monitoring.dedup_window_s`` (one run per alert storm, whatever the retries, repeats and concurrent
deliveries), then becomes an event on the ``drift_alerts`` Asset with the alert in ``extra``; ``llmops_train``
schedules on that Asset. The event is written in-process with Airflow's own asset manager (what
``POST /api/v2/assets/events`` does), so no Airflow credential has to live in the receiver. Every decision is
one log line: ``alert-webhook source=… alert=… fingerprint=… status=… decision=… event=…``.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from llmops.assets import DRIFT_ALERTS
from llmops.config import MonitoringSettings, settings
from llmops.monitoring.alert_store import AlertStore, state_url
from llmops.monitoring.alerts import SOURCES, Alert, PayloadError, parse
from llmops.monitoring.webhook_auth import AuthError, SecretsCache, check_bearer, check_signature
from llmops.serving.gateway_requests import Refused, parse_body

log = logging.getLogger(__name__)
router = APIRouter()
SECRETS = SecretsCache()


class Rejected(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@functools.cache
def _store(url: str) -> AlertStore:
    return AlertStore(url)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Rejected(413, f"body over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"body over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def emit_event(alert: Alert) -> str:
    """An event on the drift_alerts Asset, through Airflow's asset manager (which looks the Asset up by its name
    and URI, and queues the DAGs scheduled on it); its id."""
    from airflow.assets.manager import asset_manager  # noqa: PLC0415 - the API server's own machinery
    from airflow.utils import timezone  # noqa: PLC0415
    from airflow.utils.session import create_session  # noqa: PLC0415

    with create_session() as session:
        event = asset_manager.register_asset_change(asset=DRIFT_ALERTS, timestamp=timezone.utcnow(),
                                                    extra=alert.event_extra(), source_is_api=True,
                                                    session=session)  # fmt: skip
        if event is None:
            raise RuntimeError(f"Airflow has no Asset {DRIFT_ALERTS.name} to record the alert on "
                               "(is llmops_train parsed?)")  # fmt: skip
        session.flush()
        return str(event.id)


def _key(alert: Alert) -> str:
    return f"{alert.source}:{alert.fingerprint}"


def _release(store: AlertStore, signature: str | None, keys: list[str]) -> None:
    try:
        store.release(signature, keys)
    except Exception as exc:  # noqa: BLE001 - the delivery is a 503 either way
        log.error("alert-webhook decision=unreleased keys=%s reason=%s: a retry within the window is a duplicate",
                  ",".join(keys), exc)  # fmt: skip


def _record(source: str, alerts: list[Alert], signature: str | None, cfg: MonitoringSettings) -> list[dict]:
    """The blocking part of a delivery, run in a worker thread: claim the delivery (409 for a replay) and its
    firing alerts in one transaction of the store (its tables are created on the first delivery), then turn
    each claimed alert into an event. A store or Airflow failure is a 503 so that the sender retries, and the
    claims whose events were not created are released for that retry."""
    firing = [alert for alert in alerts if alert.status != "resolved"]
    try:
        store = _store(state_url(settings()))
        claims = store.claim(signature, [_key(a) for a in firing], 2 * cfg.replay_window_s, cfg.dedup_window_s)
    except Exception as exc:  # noqa: BLE001 - without its memory the receiver cannot deduplicate: 503
        log.error("alert-webhook source=%s decision=unavailable reason=%s", source, exc)
        raise Rejected(503, f"the receiver's state store is unavailable: {exc}") from None
    if claims is None:
        raise Rejected(409, "this signed delivery was already received")
    pending = iter(claims)
    claimed = [alert.status != "resolved" and next(pending) for alert in alerts]  # in the order of the alerts
    decisions = []
    for i, alert in enumerate(alerts):
        if alert.status == "resolved":
            decision, event = "recorded-resolved", "-"
        elif not claimed[i]:
            decision, event = "duplicate", "-"
        else:
            try:
                decision, event = "started", emit_event(alert)
            except Exception as exc:  # noqa: BLE001 - 503 so that Alertmanager retries
                log.error("alert-webhook source=%s alert=%s fingerprint=%s status=%s decision=error reason=%s",
                          source, alert.name, alert.fingerprint, alert.status, exc)
                _release(store, signature, [_key(a) for a, c in zip(alerts[i:], claimed[i:], strict=True) if c])
                raise Rejected(503, f"could not record alert {alert.name}: {exc}") from None
        log.info("alert-webhook source=%s alert=%s fingerprint=%s status=%s decision=%s event=%s",
                 source, alert.name, alert.fingerprint, alert.status, decision, event)
        decisions.append({"alert": alert.name, "fingerprint": alert.fingerprint, "decision": decision,
                          "event": event})
    return decisions


@router.post("/alerts/{source}")
async def receive(source: str, request: Request) -> JSONResponse:
    cfg = settings().monitoring
    try:
        if source not in SOURCES:
            raise Rejected(404, f"unknown alert source {source!r}; known: {', '.join(SOURCES)}")
        bearer = source == "alertmanager"
        authorization = request.headers.get("authorization")
        signature = request.headers.get(cfg.signature_header)
        timestamp = request.headers.get(cfg.timestamp_header)
        if (bearer and not authorization) or (not bearer and not (signature and timestamp)):
            raise Rejected(401, "missing credential")
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise Rejected(415, "Content-Type must be application/json")
        body = await _read_limited(request, cfg.max_body_bytes)
        try:
            secrets = SECRETS.get(cfg.webhook_connection_id, cfg.secrets_cache_s)
        except Exception as exc:  # noqa: BLE001 - no secrets: nobody gets in, and the sender retries
            log.error("alert-webhook source=%s decision=unavailable reason=%s", source, exc)
            raise Rejected(503, "the receiver has no credentials configured") from None
        try:
            if bearer:
                check_bearer(authorization, secrets.bearer_tokens)
            else:
                check_signature(signature, timestamp, body, secrets.hmac_secrets, cfg.replay_window_s)
        except AuthError as exc:
            raise Rejected(exc.status, exc.message) from None
        try:
            alerts = parse(source, parse_body(body))
        except Refused as exc:
            raise Rejected(422, exc.message) from None
        except PayloadError as exc:
            raise Rejected(422, str(exc)) from None
        decisions = await asyncio.to_thread(_record, source, alerts, None if bearer else signature, cfg)
    except Rejected as exc:
        if exc.status in (401, 409, 413, 415, 422):
            log.warning("alert-webhook source=%s decision=refused status=%d reason=%s", source, exc.status,
                        exc.message)
        return JSONResponse({"detail": exc.message}, status_code=exc.status)
    return JSONResponse({"accepted": decisions}, status_code=202)
