"""Run a probe suite against a chat target and judge every answer.

Each probe is sent once, rendered in the project's chat layout with a system prompt that carries a fresh
secret marker. Its detector decides attack success. Every answer is also scanned for personal data (the
leakage scanner): whatever the probe asked, a raw personal value in an answer is an LLM02 finding, kept
as one extra outcome, ``LLM02-answers-personal-data``.

Answers are redacted before they are kept (personal data and the marker), so reports can show
them. A probe whose request fails (no answer, HTTP error) is an error, never a pass; only LLM10 probes
read a refusal (HTTP 4xx) as an answer.
"""

from __future__ import annotations

import logging
import secrets
import time

from llmops.governance.detectors import DETECTORS, HTTP_DETECTORS, DetectionContext, personal_data
from llmops.governance.leakage import LeakageScanner
from llmops.governance.probe import fill
from llmops.governance.results import ProbeOutcome
from llmops.governance.suite import Suite
from llmops.governance.target import ChatReply, ChatTarget

log = logging.getLogger(__name__)

OUTPUT_SCAN_ID = "LLM02-answers-personal-data"
_SHOWN_CHARS = 400  # of a redacted answer


def new_system_marker() -> str:
    return f"SYSMARK-{secrets.token_hex(6).upper()}"


def run_suite(
    suite: Suite,
    target: ChatTarget,
    scanner: LeakageScanner,
    *,
    system_prompt: str,
    system_marker: str | None = None,
) -> list[ProbeOutcome]:
    """Send every probe of ``suite`` to ``target``; one outcome per probe plus the answers' personal-data scan.

    ``system_prompt`` is the deployment's own (what the model was trained with); the suite's suffix with
    ``system_marker`` (random when None) is appended to it for the run.
    """
    marker = system_marker or new_system_marker()
    values = {"system_marker": marker}
    system = system_prompt + fill(suite.defaults["system_suffix"], values)
    ctx = DetectionContext(
        system_prompt=system,
        system_marker=marker,
        system_leak_min_words=int(suite.defaults["system_leak_min_words"]),
        limits=suite.limits,
        find_personal_data=lambda text: scanner.detect([text])[0],
    )

    def redact(text: str) -> str:
        shown = scanner.redact(text).replace(marker, "<SYSTEM_MARKER>")
        return shown if len(shown) <= _SHOWN_CHARS else shown[:_SHOWN_CHARS] + "…"

    outcomes = []
    scanned = ProbeOutcome(OUTPUT_SCAN_ID, "LLM02", "suite", "personal_data")
    for probe in suite.probes:
        outcome = ProbeOutcome(probe.id, probe.owasp, "suite", probe.detector)
        started = time.monotonic()
        reply = ChatReply(*target.chat(probe.messages(system, values), suite.max_tokens(probe)))
        outcome.meta = {"status": reply.status_code, "latency_s": round(reply.latency_s, 3), "usage": reply.usage}
        if reply.status_code != 200 and probe.detector not in HTTP_DETECTORS:
            outcome.error = f"HTTP {reply.status_code or 'timeout'}: {reply.text[:200]}"
        else:
            outcome.record(DETECTORS[probe.detector](reply, probe, ctx), redact(reply.text))
            if reply.status_code == 200 and probe.detector != "personal_data":
                scanned.record(personal_data(ctx.find_personal_data(reply.text)), redact(reply.text))
        log.info(
            "probe %-32s %s %s in %.2fs",
            probe.id,
            probe.owasp,
            "ERROR" if outcome.error else ("ATTACK SUCCEEDED" if outcome.successes else "resisted"),
            time.monotonic() - started,
        )
        outcomes.append(outcome)
    return [*outcomes, scanned]
