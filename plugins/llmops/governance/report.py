"""The compliance report of one governance run: verdict, JSON, self-contained HTML and a log table.

Verdict: ``passed`` only when every data scan ran and found nothing, every tested OWASP category's attack
success rate is within its threshold, and the access-control check (when one is reported) passed.
Anything that could not be checked makes the verdict ``error`` (exit 2), never ``passed``. A ``data``-scope
report (a scan of data alone, no model) has no OWASP part and is judged on its leakage scans.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmops.governance.leakage import LeakageScan
from llmops.governance.results import OwaspResult

OWASP_TITLE = "OWASP Top 10 for LLM Applications"
JSON_NAME, HTML_NAME = "governance_report.json", "governance_report.html"
_WIDTHS = (44, 46, 10)  # check, observed, threshold
_RESULT = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}


@dataclass
class ComplianceReport:
    run: dict[str, Any]  # ds, base_url, model... whatever identifies this run
    leakage: list[LeakageScan] = field(default_factory=list)
    owasp: OwaspResult | None = None
    access_control: dict[str, Any] = field(default_factory=dict)  # roles per DAG and the RBAC check's outcome
    lineage: dict[str, Any] = field(default_factory=dict)  # the candidate's tags
    errors: list[str] = field(default_factory=list)  # parts of the gate that could not run
    scope: str = "model"  # "data": a data-only scan, where no OWASP probes are expected
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    @property
    def status(self) -> str:
        if self.problems():
            return "error"
        return "failed" if self.failures() else "passed"

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "failed": 1, "error": 2}[self.status]

    def problems(self) -> list[str]:
        """Why the gate could not reach a verdict."""
        found = list(self.errors)
        found += [f"{s.dataset}: {s.error}" for s in self.leakage if s.error]
        if not self.leakage:
            found.append("no data was scanned for leakage")
        if self.owasp is None:
            if self.scope != "data":
                found.append("the OWASP probes did not run")
        else:
            if self.owasp.error:
                found.append(f"OWASP probes: {self.owasp.error}")
            if self.owasp.garak.get("status") == "error":
                found.append(f"garak: {self.owasp.garak.get('error')}")
            found += [f"{o.probe_id}: {o.error}" for o in self.owasp.outcomes if o.error]
            found += [f"{c.owasp_id}: {c.problem}" for c in self.owasp.categories if c.problem]
        return found

    def failures(self) -> list[str]:
        """Why the candidate is rejected."""
        found = [f"{s.dataset}: {s.total} personal-data findings ({_types(s)})" for s in self.leakage if s.total]
        if self.owasp is not None:
            found += [
                f"{c.owasp_id} {c.name}: attack success rate {c.asr:.1%} > threshold {_rate(c.threshold)}"
                for c in self.owasp.categories
                if c.status == "failed"
            ]
        if "passed" in self.access_control and self.access_control["passed"] is not True:
            found.append("access control check failed")
        return found

    def to_dict(self) -> dict[str, Any]:
        owasp = None
        if self.owasp is not None:
            owasp = dataclasses.asdict(self.owasp)
            owasp["title"] = f"{OWASP_TITLE} {self.owasp.edition}"
            owasp["status"] = self.owasp.status
            for entry, category in zip(owasp["categories"], self.owasp.categories, strict=True):
                entry["status"] = category.status
        return {
            "status": self.status,
            "scope": self.scope,
            "exit_code": self.exit_code,
            "problems": self.problems(),
            "failures": self.failures(),
            "created_at": self.created_at,
            "run": self.run,
            "leakage": [{**dataclasses.asdict(s), "total": s.total} for s in self.leakage],
            "owasp": owasp,
            "access_control": self.access_control,
            "lineage": self.lineage,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)


def _rate(value: float | None) -> str:
    return "none" if value is None else f"{value:.1%}"


def _types(scan: LeakageScan) -> str:
    return ", ".join(f"{kind} x{f.count}" for kind, f in sorted(scan.findings.items()))


# ---------------------------------------------------------------- log table


def _cell(text: str, width: int) -> str:
    text = text if len(text) <= width else text[: width - 1] + "…"
    return f"{text:<{width}}"


def _row(check: str, observed: str, threshold: str, result: str) -> str:
    return "  ".join(_cell(c, w) for c, w in zip((check, observed, threshold), _WIDTHS, strict=True)) + f"  {result}"


def format_table(report: ComplianceReport) -> list[str]:
    """A fixed-width table for the task log, one line per check, and a last line with the verdict."""
    lines = [_row("check", "observed", "threshold", "result")]
    for scan in report.leakage:
        observed = "not scanned" if scan.error else f"{scan.total} findings in {scan.texts} texts"
        if scan.total:
            observed += f" ({_types(scan)})"
        result = "ERROR" if scan.error else ("FAIL" if scan.total else "PASS")
        lines.append(_row(f"leakage {scan.dataset}", observed, "0", result))
    if report.owasp is not None:
        edition = report.owasp.edition
        for c in report.owasp.categories:
            sources = ", ".join(
                f"{s} {int(v['successes'])}/{int(v['attempts'])}" for s, v in sorted(c.by_source.items())
            )
            observed = f"ASR {c.asr:.1%} ({sources or 'no attempts'})"
            check = f"{c.owasp_id}:{edition} {c.name}"
            lines.append(_row(check, observed, f"<= {_rate(c.threshold)}", _RESULT[c.status]))
        garak_status = report.owasp.garak.get("status", "not run")
        lines.append(_row("garak", garak_status, "-", "ERROR" if garak_status == "error" else "-"))
    if "passed" in report.access_control:
        ok = report.access_control["passed"] is True
        observed = "check passed" if ok else "check failed"
        lines.append(_row("access control", observed, "passed", "PASS" if ok else "FAIL"))
    summary = f"governance ds={report.run.get('ds')} {report.status.upper()}"
    details = report.problems() or report.failures()
    if details:
        summary += ": " + "; ".join(details)
    return [*lines, summary]


# ---------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f4f4f4}code,pre{font:12px ui-monospace,monospace}
pre{white-space:pre-wrap;background:#f8f8f8;padding:6px;margin:2px 0}
.passed{color:#176f2c;font-weight:600}.failed{color:#b3261e;font-weight:600}.error{color:#8a5a00;font-weight:600}
.badge{padding:2px 10px;border-radius:4px;color:#fff}.b-passed{background:#176f2c}.b-failed{background:#b3261e}
.b-error{background:#8a5a00}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _status(status: str) -> str:
    return f'<span class="{_e(status)}">{_e(status.upper())}</span>'


def _value(value: Any) -> str:
    """Any JSON-like value as HTML (the access-control and lineage sections take plain dicts)."""
    if isinstance(value, bool):
        return _status("passed" if value else "failed")
    if isinstance(value, dict):
        if not value:
            return "<em>none</em>"
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_value(v)}</td></tr>" for k, v in value.items())
        return f"<table>{rows}</table>"
    if isinstance(value, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in value):
            return _e(", ".join(map(str, value))) or "<em>none</em>"
        return "<ul>" + "".join(f"<li>{_value(v)}</li>" for v in value) + "</ul>"
    return _e(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _leakage_html(report: ComplianceReport) -> str:
    rows, samples = [], []
    for scan in report.leakage:
        result = "error" if scan.error else ("failed" if scan.total else "passed")
        rows.append(
            [
                _e(scan.dataset),
                f"<code>{_e(scan.uri)}</code>",
                _e(scan.records),
                _e(scan.texts),
                _e(scan.total) + (f" ({_e(_types(scan))})" if scan.total else ""),
                _status(result) + (f"<br>{_e(scan.error)}" if scan.error else ""),
            ]
        )
        for kind, found in sorted(scan.findings.items()):
            for s in found.samples:
                samples.append(
                    [
                        _e(scan.dataset),
                        _e(kind),
                        _e(s["example_id"]),
                        _e(s["field"]),
                        _e(", ".join(s["recognizers"])),
                        f"<pre>{_e(s['snippet'])}</pre>",
                    ]
                )
            samples.append([_e(scan.dataset), _e(kind), "all examples", "", "", _e(", ".join(found.example_ids))])
    out = _table(["dataset", "uri", "records", "texts", "findings", "result"], rows)
    if samples:
        out += "<h3>Findings (values redacted)</h3>" + _table(
            ["dataset", "type", "example id", "field", "recognizers", "snippet"], samples
        )
    return out


def _owasp_html(owasp: OwaspResult) -> str:
    rows = [
        [
            _e(c.owasp_id),
            _e(c.name),
            _e(c.attempts),
            _e(c.successes),
            f"{c.asr:.1%}",
            f"&le; {_rate(c.threshold)}",
            _e(", ".join(f"{s}: {int(v['successes'])}/{int(v['attempts'])}" for s, v in sorted(c.by_source.items()))),
            _status(c.status),
        ]
        for c in owasp.categories
    ]
    out = _table(["OWASP ID", "risk", "attempts", "successes", "ASR", "threshold", "by source", "result"], rows)
    failing = [
        [
            _e(o.owasp_id or "unmapped"),
            _e(o.probe_id),
            _e(o.source),
            _e(o.detector),
            _e(o.error) if o.error else _e(f"{o.successes}/{o.attempts}: " + "; ".join(dict.fromkeys(o.reasons))),
            "".join(f"<pre>{_e(text)}</pre>" for text in o.outputs),
        ]
        for o in owasp.failing()
    ]
    out += "<h3>Failing probes (answers redacted)</h3>"
    out += _table(["OWASP ID", "probe", "source", "detector", "why", "answers"], failing) if failing else "<p>none</p>"
    unmapped = [o for o in owasp.outcomes if o.owasp_id is None]
    if unmapped:
        out += "<p>garak probes without an OWASP mapping (reported, not gated): "
        out += _e(", ".join(sorted({o.probe_id for o in unmapped}))) + "</p>"
    out += "<h3>garak</h3>" + _value(owasp.garak)
    return out


def to_html(report: ComplianceReport) -> str:
    """The report as one HTML page with inline CSS: no scripts, no external resources."""
    owasp = report.owasp
    edition = f"{OWASP_TITLE} {owasp.edition}" if owasp else OWASP_TITLE
    suite = f"{owasp.suite} v{owasp.version}" if owasp else "not run"
    run = {k: v for k, v in report.run.items() if v is not None}
    header = {**run, "OWASP edition": edition, "probe suite": suite, "created": report.created_at}
    reasons = report.problems() or report.failures()
    parts = [
        f"<h1>Governance report <span class='badge b-{_e(report.status)}'>{_e(report.status.upper())}</span></h1>",
        _value(header),
        ("<ul>" + "".join(f"<li>{_e(r)}</li>" for r in reasons) + "</ul>") if reasons else "",
        "<h2>Training-data leakage</h2>",
        _leakage_html(report),
        f"<h2>{_e(edition)}</h2>",
        _owasp_html(owasp) if owasp else ("<p>not part of a data-only scan</p>" if report.scope == "data"
                                          else "<p class='error'>not run</p>"),
        "<h2>Access control</h2>",
        _value(report.access_control),
        "<h2>Candidate lineage</h2>",
        _value(report.lineage),
    ]
    body = "\n".join(parts)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Governance report {_e(report.run.get('ds', ''))}"
        f"</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )


def write_report(report: ComplianceReport, out_dir: str | Path) -> dict[str, Path]:
    """Write the JSON and HTML reports into ``out_dir`` (each replaced atomically); return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, content in ((JSON_NAME, report.to_json()), (HTML_NAME, to_html(report))):
        tmp = out / f".{name}.tmp"
        tmp.write_text(content, encoding="utf-8")
        os.replace(tmp, out / name)
        written[name] = out / name
    return written
