"""The gateway's Prometheus series, per traffic variant (vLLM's own carry no adapter label).

Served on the gateway's ``/metrics`` in the Prometheus text format. Labels on the per-request series:
``model`` (the stable name clients ask for), ``variant`` (``stable``, ``canary``, or ``none`` for a
request refused before a variant was chosen) and ``version`` (the served version's name, empty for
``none``).

==========================================================  =====================================================
``llmops_gateway_requests_total{model,variant,version,status_class}``  requests answered, by status class
                                                            (``2xx``, ``4xx``, ``5xx``)
``llmops_gateway_request_duration_seconds{model,variant,version}``  end-to-end latency histogram, queueing
                                                            included
``llmops_gateway_time_to_first_token_seconds{model,variant,version}``  streaming requests: time until the first
                                                            generated text reaches the gateway
``llmops_gateway_output_tokens_total{model,variant,version}``  generated tokens (the backend's ``usage``)
``llmops_gateway_timeouts_total{model,variant,version}``    requests the gateway gave up on (504)
``llmops_gateway_traffic_weight{model,variant,version}``    the weight each variant has now
``llmops_gateway_in_flight_requests``                       requests being answered by a backend now
``llmops_gateway_queued_requests``                          requests waiting for a backend slot now
``llmops_gateway_rejected_total{reason}``                   requests turned away with 429 (``queue_full``)
``llmops_gateway_traffic_reload_errors_total``              traffic-table files that failed validation
``llmops_gateway_adapter_state{adapter,state}``             with ``--sync-adapters``: 1 for each listed adapter's
                                                            state (``pending``, ``loaded``, ``failed``)
``llmops_gateway_adapter_errors_total{adapter,operation}``  failed vLLM calls of the adapter sync (``load``,
                                                            ``unload``; ``list`` with an empty ``adapter``)
==========================================================  =====================================================
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

VARIANT_LABELS = ("model", "variant", "version")
# Seconds: CPU models answer in 0.1-30 s, GPU ones in 0.05-5 s; the top bucket sits near the request timeout.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30)


class GatewayMetrics:
    """The series above in a registry of their own, so several gateways can live in one process (tests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("llmops_gateway_requests", "Requests answered, by variant and HTTP status class",
                                (*VARIANT_LABELS, "status_class"), registry=r)  # fmt: skip
        self.duration = Histogram("llmops_gateway_request_duration_seconds", "End-to-end request latency",
                                  VARIANT_LABELS, buckets=LATENCY_BUCKETS, registry=r)  # fmt: skip
        self.ttft = Histogram("llmops_gateway_time_to_first_token_seconds", "Time to first token (streaming)",
                              VARIANT_LABELS, buckets=TTFT_BUCKETS, registry=r)  # fmt: skip
        self.output_tokens = Counter("llmops_gateway_output_tokens", "Generated tokens", VARIANT_LABELS, registry=r)
        self.timeouts = Counter("llmops_gateway_timeouts", "Requests given up after the timeout", VARIANT_LABELS,
                                registry=r)  # fmt: skip
        self.weight = Gauge("llmops_gateway_traffic_weight", "Traffic weight per variant", VARIANT_LABELS, registry=r)
        self.in_flight = Gauge("llmops_gateway_in_flight_requests", "Requests at a backend now", registry=r)
        self.queued = Gauge("llmops_gateway_queued_requests", "Requests waiting for a backend slot", registry=r)
        self.rejected = Counter("llmops_gateway_rejected", "Requests turned away with 429", ("reason",), registry=r)
        self.reload_errors = Counter("llmops_gateway_traffic_reload_errors", "Invalid traffic-table files",
                                     registry=r)  # fmt: skip
        self.adapter_state = Gauge("llmops_gateway_adapter_state", "1 for each listed adapter's current state",
                                   ("adapter", "state"), registry=r)  # fmt: skip
        self.adapter_errors = Counter("llmops_gateway_adapter_errors", "Failed vLLM calls of the adapter sync",
                                      ("adapter", "operation"), registry=r)  # fmt: skip

    def set_weights(self, routes: dict) -> None:
        """Publish the weights of a traffic table's ``routes`` (stable name -> Route), replacing old series."""
        self.weight.clear()
        for name, route in routes.items():
            canary = route.canary_weight if route.canary else 0.0
            self.weight.labels(name, "stable", route.stable.model).set(1.0 - canary)
            if route.canary:
                self.weight.labels(name, "canary", route.canary.model).set(canary)
