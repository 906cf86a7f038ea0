"""One typed alert, whichever system sent it: Alertmanager (webhook version 4), Grafana (version 1) or the
project's own drift check (``llmops-drift``, version 1). Anything else is a clear 422, never a guess."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SOURCES = ("alertmanager", "grafana", "llmops-drift")


class PayloadError(ValueError):
    """The body is not a payload this receiver knows (422)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=False)


class _AlertIn(_Strict):
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: datetime | None = None  # noqa: N815 - the senders' field names
    endsAt: datetime | None = None  # noqa: N815
    generatorURL: str = ""  # noqa: N815
    fingerprint: str = Field(min_length=1)


class _NotificationIn(_Strict):
    """Alertmanager's webhook body; Grafana's unified alerting and the drift check send the same shape."""

    version: str
    groupKey: str = Field(min_length=1)  # noqa: N815
    status: Literal["firing", "resolved"]
    receiver: str = ""
    alerts: list[_AlertIn] = Field(min_length=1)
    truncatedAlerts: int = 0  # noqa: N815


class Alert(BaseModel):
    """An alert as the receiver acts on it."""

    source: str
    name: str
    status: Literal["firing", "resolved"]
    fingerprint: str
    group_key: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None

    def event_extra(self) -> dict[str, Any]:
        """What the Asset event carries, so the run it starts can say which alert started it."""
        return {"alert": self.name, "fingerprint": self.fingerprint, "group_key": self.group_key,
                "source": self.source, "labels": self.labels, "summary": self.annotations.get("summary", ""),
                "starts_at": self.starts_at.isoformat() if self.starts_at else None,
                "refresh_data": self.labels.get("refresh_data") == "true"}


_VERSIONS = {"alertmanager": "4", "grafana": "1", "llmops-drift": "1"}


def parse(source: str, body: Any) -> list[Alert]:
    """The alerts in ``body`` as sent by ``source``; :class:`PayloadError` names what is wrong."""
    if source not in SOURCES:
        raise PayloadError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    if not isinstance(body, dict):
        raise PayloadError(f"expected a JSON object, got {type(body).__name__}")
    try:
        notification = _NotificationIn.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise PayloadError(f"{source} payload: {where}: {first['msg']}") from None
    if notification.version != _VERSIONS[source]:
        raise PayloadError(f"{source} payload version {notification.version!r}; this receiver reads "
                           f"version {_VERSIONS[source]!r}")
    return [
        Alert(source=source, name=a.labels.get("alertname", ""), status=a.status, fingerprint=a.fingerprint,
              group_key=notification.groupKey, labels=a.labels, annotations=a.annotations, starts_at=a.startsAt)
        for a in notification.alerts
    ]
