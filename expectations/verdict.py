"""A gate's verdict: each expectation's observed value against its threshold, as JSON and as a log table.

Pure: built from Great Expectations validation results; no Spark, no I/O.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# kwargs that say where an expectation runs, not what it demands
_NOT_THRESHOLDS = {"batch_id", "column", "column_A", "column_B", "result_format"}
_WIDTHS = {"table": 16, "expectation": 46, "column": 16, "observed": 30, "threshold": 40}


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str  # GX expectation type, e.g. expect_column_values_to_not_be_null
    column: str | None
    observed: Any
    threshold: dict[str, Any]  # the expectation's kwargs and meta (pii_types, previous_partition_rows, ...)
    success: bool
    description: str | None = None
    error: str | None = None  # the expectation itself raised (missing column, bad regex...)

    @property
    def name(self) -> str:
        """Short human name: the description where one was given (custom SQL checks), else the type."""
        return self.description or self.expectation


@dataclass(frozen=True)
class TableOutcome:
    table: str
    rows: int
    success: bool
    expectations: list[ExpectationOutcome]


@dataclass
class GateVerdict:
    layer: str
    ds: str
    passed: bool
    tables: list[TableOutcome] = field(default_factory=list)
    data_docs_url: str | None = None
    error: str | None = None  # the gate could not reach a verdict on the data

    @property
    def status(self) -> str:
        return "error" if self.error else ("passed" if self.passed else "failed")

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "failed": 1, "error": 2}[self.status]

    def failures(self) -> list[tuple[str, ExpectationOutcome]]:
        return [(t.table, e) for t in self.tables for e in t.expectations if not e.success]

    def to_json(self) -> str:
        return json.dumps({"status": self.status, **asdict(self)}, indent=2, default=str)


def observed_value(result: dict[str, Any]) -> Any:
    """What GX saw: an aggregate's observed value, or a map expectation's unexpected count and examples."""
    if "observed_value" in result:
        mismatched = (result.get("details") or {}).get("mismatched")  # column-set checks: what differs
        return {"columns": result["observed_value"], **mismatched} if mismatched else result["observed_value"]
    if "unexpected_count" not in result:
        return None
    observed: dict[str, Any] = {
        "unexpected": result["unexpected_count"],
        "of": result.get("element_count"),
        "percent": round(result.get("unexpected_percent") or 0.0, 3),
    }
    if result.get("partial_unexpected_list"):
        observed["sample"] = result["partial_unexpected_list"]
    ids = unexpected_ids(
        result.get("partial_unexpected_index_list"), result.get("unexpected_index_column_names")
    )
    if ids:
        observed["ids"] = ids
    return observed


def unexpected_ids(index_list: list[dict] | None, columns: list[str] | None) -> list[Any]:
    """Identifiers of the failing rows, one per row (a dict when the identifier spans columns).

    GX returns rows as ``[{col: value, ...}, ...]``, or, when unexpected values are excluded,
    column-wise as ``[{col: [values...]}]``.
    """
    if not index_list or not columns:
        return []
    if all(isinstance(v, list) for v in index_list[0].values()):
        by_column = [index_list[0][c] for c in columns]
        rows = [dict(zip(columns, values, strict=True)) for values in zip(*by_column, strict=True)]
    else:
        rows = [{c: row.get(c) for c in columns} for row in index_list]
    return [row[columns[0]] if len(columns) == 1 else row for row in rows]


def outcomes(validation_result: Any) -> list[ExpectationOutcome]:
    """ExpectationOutcomes from one GX ``ExpectationSuiteValidationResult``."""
    found = []
    for r in validation_result.results:
        config = r.expectation_config
        kwargs = dict(config.kwargs)
        column = kwargs.get("column")
        if "column_A" in kwargs:
            column = f"{kwargs['column_A']},{kwargs['column_B']}"
        column = column or ",".join((config.meta or {}).get("columns", [])) or None
        threshold = {k: v for k, v in kwargs.items() if k not in _NOT_THRESHOLDS}
        threshold.update({k: v for k, v in (config.meta or {}).items() if k != "columns"})
        info = r.exception_info or {}
        error = info.get("exception_message") if info.get("raised_exception") else None
        found.append(
            ExpectationOutcome(
                expectation=config.type,
                column=column,
                observed=observed_value(r.result or {}),
                threshold=threshold,
                success=bool(r.success),
                description=config.description,
                error=error,
            )
        )
    return found


def _short_observed(observed: Any) -> str:
    if isinstance(observed, dict) and "of" in observed:
        types = ",".join(observed.get("types", {}))
        return f"{observed['unexpected']}/{observed['of']} unexpected" + (f" ({types})" if types else "")
    if isinstance(observed, dict) and "columns" in observed:
        return "; ".join(f"{k}: {','.join(v)}" for k, v in observed.items() if k != "columns")
    return json.dumps(observed, default=str)


def _short_threshold(threshold: dict[str, Any]) -> str:
    if "pii_types" in threshold:
        return "no raw " + ",".join(threshold["pii_types"])
    shown = {k: v for k, v in threshold.items() if k not in {"unexpected_rows_query", "why"}}
    return ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in shown.items() if v is not None)


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(verdict: GateVerdict) -> list[str]:
    """An aligned table (one line per expectation) and a last line naming every failure."""
    header = ("table", "expectation", "column", "observed", "threshold")
    lines = ["  ".join(f"{h:<{_WIDTHS[h]}}" for h in header) + "  result"]
    for table in verdict.tables:
        for e in table.expectations:
            cells = (
                table.table,
                e.name.removeprefix("expect_"),
                e.column or "-",
                _short_observed(e.observed),
                _short_threshold(e.threshold),
            )
            result = "PASS" if e.success else ("ERROR" if e.error else "FAIL")
            lines.append(
                "  ".join(f"{_cell(c, _WIDTHS[h]):<{_WIDTHS[h]}}" for h, c in zip(header, cells, strict=True))
                + f"  {result}"
            )
    failed = [
        f"{t}: {e.name}({e.column or ''}) observed {_short_observed(e.observed)}"
        for t, e in verdict.failures()
    ]
    summary = f"gate {verdict.layer} ds={verdict.ds} {verdict.status.upper()}"
    if verdict.error:
        summary += f": {verdict.error}"
    if failed:
        summary += f"; {len(failed)} failed: " + "; ".join(failed)
    lines.append(summary)
    return lines
