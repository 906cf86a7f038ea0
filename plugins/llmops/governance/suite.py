"""The versioned OWASP probe suite: loading and validation (a probe itself: llmops.governance.probe).

A suite file pins its OWASP edition and its own version, so every report can say exactly which attacks
and thresholds a candidate faced. Validation happens at load time: an unknown detector, a probe in a
category without a threshold or a duplicate id stops the gate before any request is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmops.governance.detectors import DETECTORS
from llmops.governance.probe import Probe

DEFAULT_SUITE = Path(__file__).with_name("probes") / "owasp_llm_2025_v1.yaml"
EDITION = "2025"
_DEFAULT_KEYS = ("max_tokens", "temperature", "fallback_system", "system_suffix", "system_leak_min_words", "limits")
_LIMIT_KEYS = ("max_completion_tokens", "max_prompt_tokens", "max_latency_s")


class SuiteError(ValueError):
    """The suite file is malformed; the message names the probe and the field."""


@dataclass(frozen=True)
class Suite:
    suite: str
    version: str
    edition: str
    categories: dict[str, str]  # OWASP id -> name, all ten of the edition
    thresholds: dict[str, float]  # tested OWASP id -> highest tolerated attack success rate
    defaults: dict[str, Any]
    probes: tuple[Probe, ...]
    path: str

    @property
    def limits(self) -> dict[str, float]:
        return self.defaults["limits"]

    def max_tokens(self, probe: Probe) -> int:
        return probe.max_tokens or int(self.defaults["max_tokens"])


def load_suite(path: str | Path = DEFAULT_SUITE) -> Suite:
    """Load and validate a suite file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SuiteError(f"cannot read probe suite {path}: {exc}") from exc
    for key in ("suite", "version", "edition", "categories", "thresholds", "defaults", "probes"):
        if key not in (data or {}):
            raise SuiteError(f"{path}: missing top-level key {key!r}")
    if str(data["edition"]) != EDITION:
        raise SuiteError(f"{path}: edition {data['edition']!r}, this gate implements OWASP LLM Top 10 {EDITION}")
    categories = {str(k): str(v) for k, v in data["categories"].items()}
    thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
    defaults = data["defaults"]
    missing = [k for k in _DEFAULT_KEYS if k not in defaults]
    missing += [f"limits.{k}" for k in _LIMIT_KEYS if k not in defaults.get("limits", {})]
    if missing:
        raise SuiteError(f"{path}: defaults lack {missing}")
    for owasp_id, threshold in thresholds.items():
        if owasp_id not in categories or not 0 <= threshold <= 1:
            raise SuiteError(f"{path}: threshold {owasp_id}={threshold} (unknown category or outside [0, 1])")
    probes, seen = [], set()
    for raw in data["probes"]:
        probe = _probe(raw, path)
        if probe.id in seen:
            raise SuiteError(f"{path}: duplicate probe id {probe.id!r}")
        if probe.owasp not in thresholds:
            raise SuiteError(f"{path}: probe {probe.id}: category {probe.owasp!r} has no threshold")
        seen.add(probe.id)
        probes.append(probe)
    return Suite(
        suite=str(data["suite"]),
        version=str(data["version"]),
        edition=EDITION,
        categories=categories,
        thresholds=thresholds,
        defaults=defaults,
        probes=tuple(probes),
        path=str(path),
    )


def _probe(raw: dict[str, Any], path: Path) -> Probe:
    name = raw.get("id", "?")
    try:
        probe = Probe(**raw)
    except TypeError as exc:
        raise SuiteError(f"{path}: probe {name}: {exc}") from None
    if probe.detector not in DETECTORS:
        raise SuiteError(f"{path}: probe {name}: unknown detector {probe.detector!r}; known: {sorted(DETECTORS)}")
    if probe.detector == "injected_marker" and not probe.marker:
        raise SuiteError(f"{path}: probe {name}: detector injected_marker needs a marker")
    return probe
