"""The "LLMOps" page of the Airflow UI: :func:`llmops.ops_status.status` rendered server-side as HTML."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>LLMOps</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a202c; }
 table { border-collapse: collapse; margin-bottom: 1.5rem; } th, td { padding: .3rem .7rem; text-align: left; }
 th { background: #edf2f7; } tr:nth-child(even) td { background: #f7fafc; }
 .passed, .deployed { color: #276749; font-weight: 600; } .failed, .rejected, .error, .rolled_back, .missing
 { color: #c53030; font-weight: 600; } .errors { border: 2px solid #c53030; padding: .5rem 1rem; }
 code { font-size: .85em; }
</style></head><body>
<h1>LLMOps</h1>
<p>Lake: <code>{{ doc.lake_root }}</code></p>
{% if doc.errors %}<div class="errors"><h2>Could not read</h2><ul>
{% for e in doc.errors %}<li>{{ e }}</li>{% endfor %}</ul></div>{% endif %}

<h2>Model versions</h2>
{% if doc.versions is none %}<p class="error">registry unavailable (see above)</p>
{% elif not doc.versions %}<p>No version registered yet.</p>
{% else %}<table><tr><th>version</th><th>aliases</th><th>status</th>
{% for label in lineage_labels %}<th>{{ label }}</th>{% endfor %}<th>reason</th></tr>
{% for v in doc.versions %}<tr><td>{{ v.version }}</td><td>{{ v.aliases | join(", ") or "-" }}</td>
<td class="{{ v.status }}">{{ v.status }}</td>
{% for label in lineage_labels %}<td>{{ v.lineage[label] | truncate(40) }}</td>{% endfor %}
<td>{{ v.reason }}</td></tr>{% endfor %}</table>{% endif %}

<h2>Model gates</h2>
{% set mg = doc.model_gates %}
{% if not mg %}<p>No candidate gate has run yet.</p>
{% else %}<table><tr><th>gate</th><th>ds</th><th>status</th><th>details</th><th>report</th></tr>
{% if mg.eval %}<tr><td>evaluation</td><td>{{ mg.ds }}</td><td class="{{ mg.eval.status }}">{{ mg.eval.status }}</td>
<td>{{ mg.eval.n_items }} items{% if mg.eval.failed %}; failed: {{ mg.eval.failed | join(", ") }}{% endif %}</td>
<td><a href="{{ mg.eval.report.href }}" target="_top">Report</a></td></tr>{% endif %}
{% if mg.governance %}<tr><td>governance</td><td>{{ mg.ds }}</td>
<td class="{{ mg.governance.status }}">{{ mg.governance.status }}</td>
<td>{{ mg.governance.problems | join("; ") | truncate(120) }}</td>
<td><a href="{{ mg.governance.report.href }}" target="_top">Report</a></td></tr>{% endif %}
{% if mg.decision %}<tr><td>decision</td><td>{{ mg.ds }}</td>
<td class="{{ mg.decision.status }}">{{ mg.decision.status }}</td><td>{{ mg.decision.reason }}</td><td></td></tr>
{% endif %}</table>{% endif %}

<h2>Data gates</h2>
{% if doc.data_gates is none %}<p class="error">data-gate verdicts unreadable (see above)</p>
{% elif not doc.data_gates %}<p>No data gate has run yet.</p>
{% else %}<table><tr><th>layer</th><th>ds</th><th>status</th><th>failed expectations</th><th>report</th></tr>
{% for g in doc.data_gates %}<tr><td>{{ g.layer }}</td><td>{{ g.ds }}</td><td class="{{ g.status }}">{{ g.status }}</td>
<td>{{ (g.failed | join("; ")) or g.error or "-" }}</td>
<td>{% if g.report %}<a href="{{ g.report.href }}" target="_top">Report</a>{% endif %}</td></tr>{% endfor %}
</table>{% endif %}
</body></html>
"""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render(doc: dict[str, Any]) -> str:
    from llmops.ops_status import LINEAGE_TAGS  # noqa: PLC0415 - keep the template module light

    return _ENV.from_string(_TEMPLATE).render(doc=doc, lineage_labels=list(LINEAGE_TAGS))
