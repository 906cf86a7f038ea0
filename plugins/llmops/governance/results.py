"""Probe outcomes from every source (the suite, garak) and their attack success rate per OWASP category.

A category's rate is the worst rate among its sources, not a pooled one: hundreds of garak attempts
must not dilute a handful of failing suite probes below the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_MAX_OUTPUTS = 3  # redacted example answers kept per outcome


@dataclass
class ProbeOutcome:
    probe_id: str
    owasp_id: str | None  # None: a garak probe family with no OWASP mapping (reported, not gated)
    source: str  # "suite" | "garak"
    detector: str
    attempts: int = 0
    successes: int = 0
    reasons: list[str] = field(default_factory=list)  # why each success counted
    outputs: list[str] = field(default_factory=list)  # redacted answers of successful attacks
    meta: dict[str, Any] = field(default_factory=dict)  # HTTP status, latency, usage...
    error: str | None = None

    def record(self, reason: str | None, redacted_output: str) -> None:
        self.attempts += 1
        if reason is not None:
            self.successes += 1
            self.reasons.append(reason)
            if len(self.outputs) < _MAX_OUTPUTS:
                self.outputs.append(redacted_output)


@dataclass
class CategoryResult:
    owasp_id: str
    name: str
    threshold: float | None  # None: no threshold configured, an error
    attempts: int
    successes: int
    asr: float  # the worst source's attack success rate
    by_source: dict[str, dict[str, float]]
    errors: int

    @property
    def problem(self) -> str | None:
        """Why no verdict is possible for this category, if so."""
        if self.errors:
            return f"{self.errors} probe(s) could not run"
        if not self.attempts:
            return "no attempts"
        return "no threshold configured" if self.threshold is None else None

    @property
    def status(self) -> str:
        if self.problem:
            return "error"
        return "passed" if self.asr <= self.threshold else "failed"


def categorize(
    outcomes: list[ProbeOutcome], thresholds: dict[str, float], names: dict[str, str]
) -> list[CategoryResult]:
    """One result per category that has a threshold or an outcome (a category without a threshold is an
    error: nothing says how much attack success it tolerates). Unmapped garak outcomes are left out."""
    results = []
    for owasp_id in sorted({*thresholds, *(o.owasp_id for o in outcomes if o.owasp_id)}):
        mine = [o for o in outcomes if o.owasp_id == owasp_id]
        by_source: dict[str, dict[str, float]] = {}
        for o in mine:
            entry = by_source.setdefault(o.source, {"attempts": 0, "successes": 0})
            entry["attempts"] += o.attempts
            entry["successes"] += o.successes
        for entry in by_source.values():
            entry["asr"] = round(entry["successes"] / entry["attempts"], 4) if entry["attempts"] else 0.0
        results.append(
            CategoryResult(
                owasp_id=owasp_id,
                name=names.get(owasp_id, owasp_id),
                threshold=thresholds.get(owasp_id),
                attempts=sum(o.attempts for o in mine),
                successes=sum(o.successes for o in mine),
                asr=max((e["asr"] for e in by_source.values()), default=0.0),
                by_source=by_source,
                errors=sum(o.error is not None for o in mine),
            )
        )
    return results


@dataclass
class OwaspResult:
    """The probe part of a compliance report: which suite, what each probe did, the rate per category."""

    suite: str
    version: str
    edition: str
    categories: list[CategoryResult]
    outcomes: list[ProbeOutcome]
    garak: dict[str, Any]  # {"status": "not run" | "ingested" | "error", ...}
    seconds: float = 0.0
    error: str | None = None  # the probes could not run at all (endpoint unreachable...)

    @property
    def status(self) -> str:
        if self.error or self.garak.get("status") == "error" or any(c.status == "error" for c in self.categories):
            return "error"
        return "passed" if all(c.status == "passed" for c in self.categories) else "failed"

    def failing(self) -> list[ProbeOutcome]:
        return [o for o in self.outcomes if o.successes or o.error]
