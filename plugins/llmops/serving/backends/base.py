"""The backend interface, the traffic-table writers, and the gateway's per-variant metrics as numbers.

The weights and the metrics live in the gateway for every backend: vLLM's own series carry no adapter
label, so the gateway's are the only per-variant ones (:mod:`llmops.serving.gateway_metrics`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
from prometheus_client.parser import text_string_to_metric_families

from llmops.serving.traffic import Route, Target, TrafficTable, read_table, write_table

log = logging.getLogger(__name__)


class BackendError(RuntimeError):
    """A backend refused or failed an operation; the message says which and why."""


@dataclass
class VariantMetrics:
    """One variant's cumulative series from the gateway (counters since the gateway started: an analysis window
    is the difference of two reads). Buckets are (upper bound in seconds, cumulative count)."""

    variant: str
    version: str
    requests: dict[str, float] = field(default_factory=dict)  # status class ("2xx", "4xx", "5xx") -> count
    timeouts: float = 0.0
    output_tokens: float = 0.0
    latency_buckets: list[tuple[float, float]] = field(default_factory=list)
    latency_sum: float = 0.0
    ttft_buckets: list[tuple[float, float]] = field(default_factory=list)
    ttft_sum: float = 0.0


def parse_gateway_metrics(text: str, model: str) -> dict[tuple[str, str], VariantMetrics]:
    """The per-variant series for stable name ``model`` in a /metrics text, keyed by (variant, version)."""
    found: dict[tuple[str, str], VariantMetrics] = {}

    def entry(labels: dict) -> VariantMetrics | None:
        if labels.get("model") != model or labels.get("variant") not in ("stable", "canary"):
            return None
        key = (labels["variant"], labels["version"])
        return found.setdefault(key, VariantMetrics(*key))

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            metrics = entry(sample.labels)
            if metrics is None:
                continue
            name, value = sample.name, sample.value
            if name == "llmops_gateway_requests_total":
                metrics.requests[sample.labels["status_class"]] = value
            elif name == "llmops_gateway_timeouts_total":
                metrics.timeouts = value
            elif name == "llmops_gateway_output_tokens_total":
                metrics.output_tokens = value
            elif name == "llmops_gateway_request_duration_seconds_bucket":
                metrics.latency_buckets.append((float(sample.labels["le"]), value))
            elif name == "llmops_gateway_request_duration_seconds_sum":
                metrics.latency_sum = value
            elif name == "llmops_gateway_time_to_first_token_seconds_bucket":
                metrics.ttft_buckets.append((float(sample.labels["le"]), value))
            elif name == "llmops_gateway_time_to_first_token_seconds_sum":
                metrics.ttft_sum = value
    for metrics in found.values():
        metrics.latency_buckets.sort()
        metrics.ttft_buckets.sort()
    return found


def _add_buckets(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> list[tuple[float, float]]:
    summed: dict[float, float] = dict(a)
    for bound, count in b:
        summed[bound] = summed.get(bound, 0.0) + count
    return sorted(summed.items())


def sum_metrics(reads: list[dict[tuple[str, str], VariantMetrics]]) -> dict[tuple[str, str], VariantMetrics]:
    """Several gateways' series as one (the pods of a pool): every counter, bucket and sum added per variant. The
    gateways share one bucket ladder, so cumulative buckets add up bound by bound."""
    total: dict[tuple[str, str], VariantMetrics] = {}
    for read in reads:
        for key, m in read.items():
            t = total.setdefault(key, VariantMetrics(*key))
            for status_class, count in m.requests.items():
                t.requests[status_class] = t.requests.get(status_class, 0.0) + count
            t.timeouts += m.timeouts
            t.output_tokens += m.output_tokens
            t.latency_sum += m.latency_sum
            t.ttft_sum += m.ttft_sum
            t.latency_buckets = _add_buckets(t.latency_buckets, m.latency_buckets)
            t.ttft_buckets = _add_buckets(t.ttft_buckets, m.ttft_buckets)
    return total


def read_gateway_metrics(
    gateway_url: str, model: str, timeout_s: float = 10.0
) -> dict[tuple[str, str], VariantMetrics]:
    """Scrape the gateway at ``gateway_url`` (its root) once; raises :class:`BackendError` if it does not answer."""
    try:
        answer = httpx.get(f"{gateway_url.rstrip('/')}/metrics", timeout=timeout_s)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise BackendError(f"cannot read the gateway's metrics at {gateway_url}: {exc!r}") from exc
    return parse_gateway_metrics(answer.text, model)


class TrafficStore(Protocol):
    """Where the gateway's traffic table lives: the one place the weights are kept."""

    def read(self) -> TrafficTable | None: ...

    def write(self, table: TrafficTable) -> None: ...


@dataclass(frozen=True)
class FileTrafficStore:
    """The file the gateway follows (``--traffic-file``): in kubernetes, the ConfigMap's mounted file."""

    path: Path

    def read(self) -> TrafficTable | None:
        if not self.path.exists():
            return None
        try:
            return read_table(self.path)[0]
        except ValueError as exc:
            raise BackendError(str(exc)) from exc

    def write(self, table: TrafficTable) -> None:
        write_table(self.path, table)


@dataclass(frozen=True)
class AdminTrafficStore:
    """The gateway's admin endpoint (``PUT /admin/traffic``, bearer token): the local runtime's weights."""

    gateway_url: str
    token: str
    timeout_s: float = 10.0

    def _call(self, method: str, table: TrafficTable | None = None) -> httpx.Response:
        url = f"{self.gateway_url.rstrip('/')}/admin/traffic"
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        content = table.model_dump_json(exclude_none=True) if table else None
        try:
            answer = httpx.request(method, url, content=content, headers=headers, timeout=self.timeout_s)
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach the gateway's admin endpoint {url}: {exc!r}") from exc
        if answer.status_code != 200:
            raise BackendError(f"{method} {url} answered {answer.status_code}: {answer.text[:500]}")
        return answer

    def read(self) -> TrafficTable | None:
        return TrafficTable.model_validate(self._call("GET").json())

    def write(self, table: TrafficTable) -> None:
        self._call("PUT", table)


class ServingBackend(ABC):
    """Serves registered versions under their own names behind the gateway, which splits ``stable_name``'s
    traffic between a stable and a canary version. A version is never reloaded under an existing name,
    and a version the traffic table still routes to is never unloaded."""

    def __init__(self, stable_name: str, gateway_url: str, traffic: TrafficStore):
        self.stable_name, self.gateway_url, self.traffic = stable_name, gateway_url, traffic
        self.routed: frozenset[str] = frozenset()  # versions in the last table written

    @abstractmethod
    def load_version(self, version: str, adapter_path: str) -> None:
        """Serve the adapter at ``adapter_path`` as ``version``; :class:`BackendError` if the name is taken."""

    @abstractmethod
    def unload_version(self, version: str) -> None:
        """Stop serving ``version`` (after its traffic has moved away and drained)."""

    @abstractmethod
    def target(self, version: str) -> Target:
        """Where the gateway reaches a loaded ``version``; :class:`BackendError` if it is not loaded."""

    def set_weights(self, stable: str, canary: str | None = None, canary_weight: float = 0.0) -> None:
        """Route ``canary_weight`` of ``stable_name``'s callers (sticky) to ``canary``, the rest to ``stable``.
        The table's other routes (other names the same gateway serves) and its adapters are kept as they are."""
        route = Route(stable=self.target(stable), canary=self.target(canary) if canary else None,
                      canary_weight=canary_weight)  # fmt: skip
        current = self.traffic.read() or TrafficTable(routes={self.stable_name: route})
        self.traffic.write(current.with_routes({**current.routes, self.stable_name: route}))
        self.routed = frozenset(v for v in (stable, canary) if v)
        log.info("traffic for %s: %s %.0f%%, %s %.0f%%", self.stable_name, stable, 100 * (1 - canary_weight),
                 canary, 100 * canary_weight)  # fmt: skip

    def read_metrics(self) -> dict[tuple[str, str], VariantMetrics]:
        return read_gateway_metrics(self.gateway_url, self.stable_name)

    def _refuse_if_routed(self, version: str) -> None:
        if version in self.routed:
            raise BackendError(f"{version} still receives {self.stable_name} traffic; move its weight away first")
