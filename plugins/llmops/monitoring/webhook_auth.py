"""Who may post alerts: Alertmanager with a bearer token (it cannot sign), Grafana and the drift check with an
HMAC-SHA256 signature over ``"<timestamp>:<body>"``. Secrets come from an Airflow connection (any secrets
backend, e.g. ``AIRFLOW_CONN_LLMOPS_ALERT_WEBHOOK``), never from code or settings files; each kind may list
several values, so a secret can be rotated without a window where deliveries fail. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass


class AuthError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class WebhookSecrets:
    bearer_tokens: tuple[str, ...]
    hmac_secrets: tuple[str, ...]


def load_secrets(conn_id: str) -> WebhookSecrets:
    """Secrets from the Airflow connection ``conn_id``: extra ``{"bearer_tokens": [...], "hmac_secrets": [...]}``."""
    from airflow.models.connection import Connection  # noqa: PLC0415 - resolved through the secrets backends

    extra = Connection.get_connection_from_secrets(conn_id).extra_dejson
    secrets = WebhookSecrets(tuple(extra.get("bearer_tokens") or ()), tuple(extra.get("hmac_secrets") or ()))
    if not any(secrets.bearer_tokens + secrets.hmac_secrets) or "" in secrets.bearer_tokens + secrets.hmac_secrets:
        raise RuntimeError(f"connection {conn_id!r} holds no usable webhook secret")
    return secrets


class SecretsCache:
    """``load_secrets`` remembered for ``ttl_s`` seconds: the connection lookup (secrets backends, Fernet, JSON)
    was the receiver's largest cost per request under load. A secret added or revoked in the connection takes
    effect within ``ttl_s``; a failed lookup is never remembered (every request retries it and gets 503)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, WebhookSecrets]] = {}

    def get(self, conn_id: str, ttl_s: float) -> WebhookSecrets:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(conn_id)
        if entry is not None and now - entry[0] < ttl_s:
            return entry[1]
        secrets = load_secrets(conn_id)
        with self._lock:
            self._entries[conn_id] = (now, secrets)
        return secrets

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def check_bearer(authorization: str | None, tokens: tuple[str, ...]) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError(401, "missing bearer credential")
    if not any(hmac.compare_digest(token.encode(), t.encode()) for t in tokens):
        raise AuthError(401, "bad bearer credential")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def check_signature(signature: str | None, timestamp: str | None, body: bytes, secrets: tuple[str, ...],
                    window_s: float, now: float | None = None) -> None:
    """A valid signature by any current secret, over a timestamp within ``window_s`` of now."""
    if not signature or not timestamp:
        raise AuthError(401, "missing signature or timestamp header")
    try:
        sent = float(timestamp)
    except ValueError:
        raise AuthError(401, "timestamp is not a number of seconds") from None
    if abs((now if now is not None else time.time()) - sent) > window_s:
        raise AuthError(401, f"timestamp outside the {window_s:.0f} s replay window")
    given = signature.removeprefix("sha256=").lower()
    if not any(hmac.compare_digest(given, sign(s, timestamp, body)) for s in secrets):
        raise AuthError(401, "bad signature")
