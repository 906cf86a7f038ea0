"""The kubernetes monitoring manifests: the alert rules as a prometheus-operator ``PrometheusRule`` and the drift
exporter's ``ServiceMonitor``, rendered from monitoring/rules/*.yml and the settings.

The rule files are the one declaration (promtool checks and unit-tests them; the local Prometheus loads them):
each file becomes one PrometheusRule whose ``spec.groups`` is the file's ``groups``, unchanged. The gateway's
ServiceMonitor is the serving manifests' (:func:`llmops.serving.manifests.service_monitor`), rendered here too so
one command gives the whole monitoring set. Every object carries ``deploy.kubernetes.service_monitor_labels``
(kube-prometheus-stack's Prometheus selects rules and monitors by the same ``release`` label). The drift
exporter's monitor selects Services labelled ``app.kubernetes.io/component: drift-exporter`` with a port named
``metrics`` (the exporter's Deployment and Service are the cluster's, beside the lake the drift DAG writes).

``python -m llmops.monitoring.manifests render > monitoring.yaml``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from llmops.config import PROJECT_ROOT, Settings, load_settings
from llmops.serving.manifests import service_monitor, to_yaml

RULES_DIR = PROJECT_ROOT / "monitoring" / "rules"
DRIFT_EXPORTER = {"app.kubernetes.io/component": "drift-exporter", "app.kubernetes.io/part-of": "llmops"}


def _metadata(settings: Settings, name: str, labels: dict[str, str]) -> dict:
    k8s = settings.deploy.kubernetes
    return {"name": name, "namespace": settings.runtime.namespace, "labels": {**labels, **k8s.service_monitor_labels}}


def prometheus_rule(settings: Settings, rule_file: Path) -> dict:
    """One rule file as a PrometheusRule named ``llmops-<file stem>``."""
    groups = yaml.safe_load(rule_file.read_text())
    if not isinstance(groups, dict) or not groups.get("groups"):
        raise ValueError(f"{rule_file}: no rule groups (a Prometheus rule file has a top-level 'groups' list)")
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": _metadata(
            settings, f"llmops-{rule_file.stem}".replace("_", "-"), {"app.kubernetes.io/part-of": "llmops"}
        ),
        "spec": {"groups": groups["groups"]},
    }


def drift_service_monitor(settings: Settings) -> dict:
    """Prometheus scrapes the drift exporter: the rule ``LLMOpsInputDrift`` reads its ``llmops_drift_detected``."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": _metadata(settings, "llmops-drift", DRIFT_EXPORTER),
        "spec": {
            "selector": {"matchLabels": DRIFT_EXPORTER},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "60s"}],
        },
    }


def render(settings: Settings, rules_dir: Path = RULES_DIR) -> list[dict]:
    rule_files = sorted(rules_dir.glob("*.yml"))
    if not rule_files:
        raise ValueError(f"no rule files (*.yml) in {rules_dir}")
    return [
        *(prometheus_rule(settings, path) for path in rule_files),
        service_monitor(settings),
        drift_service_monitor(settings),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="llmops.monitoring.manifests", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmd = sub.add_parser("render", help="print the manifests as YAML")
    cmd.add_argument("--profile", help="settings profile (default: LLMOPS_PROFILE)")
    cmd.add_argument("--rules-dir", type=Path, default=RULES_DIR, help=f"Prometheus rule files (default: {RULES_DIR})")
    args = parser.parse_args(argv)
    try:
        objects = render(load_settings(args.profile), args.rules_dir)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(to_yaml(objects))


if __name__ == "__main__":
    main()
