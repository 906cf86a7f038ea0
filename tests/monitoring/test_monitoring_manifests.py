"""The kubernetes monitoring manifests: generated from monitoring/rules (no second copy of a rule), valid against
the vendored prometheus-operator CRDs, accepted by promtool, and scraping both jobs of monitoring/prometheus.yml."""

from __future__ import annotations

import subprocess

import jsonschema
import pytest
import yaml

from llmops.config import load_settings
from llmops.monitoring import manifests
from llmops.serving import manifests as serving_manifests
from tests.monitoring.test_monitoring_config import HOW, MONITORING
from tests.services import require_binary
from tests.serving.test_manifests import validate


@pytest.fixture(scope="module")
def settings():
    return load_settings("kubernetes", environ={})


@pytest.fixture(scope="module")
def objects(settings):
    return manifests.render(settings)


def test_every_object_validates_against_the_operator_crds(objects):
    assert sorted(o["kind"] for o in objects) == ["PrometheusRule", "ServiceMonitor", "ServiceMonitor"]
    for obj in objects:
        validate(obj)


def test_the_crd_check_can_fail(objects):
    rule = next(o for o in objects if o["kind"] == "PrometheusRule")
    broken = {**rule, "spec": {"groups": [{"name": "x", "rules": [{"alert": "X", "expr": "1", "for": "soon"}]}]}}
    with pytest.raises(jsonschema.ValidationError, match="soon"):
        validate(broken)


def test_the_rules_are_the_rule_files_unchanged(objects):
    rules = [o for o in objects if o["kind"] == "PrometheusRule"]
    files = sorted((MONITORING / "rules").glob("*.yml"))
    assert [r["metadata"]["name"] for r in rules] == [f"llmops-{f.stem}" for f in files]
    for rule, path in zip(rules, files, strict=True):
        assert rule["spec"] == yaml.safe_load(path.read_text())
    alerts = {r["alert"] for o in rules for g in o["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert {"LLMOpsInputDrift", "LLMOpsErrorBudgetFastBurn", "LLMOpsLatencyHigh"} <= alerts


def test_promtool_accepts_the_rendered_rules(objects, tmp_path):
    promtool = require_binary("promtool", HOW)
    for obj in (o for o in objects if o["kind"] == "PrometheusRule"):
        path = tmp_path / f"{obj['metadata']['name']}.yml"
        path.write_text(yaml.safe_dump(obj["spec"]))
        proc = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_service_monitors_scrape_the_gateway_and_the_drift_exporter(settings, objects):
    monitors = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceMonitor"}
    gateway = serving_manifests.service_monitor(settings)
    assert monitors[gateway["metadata"]["name"]] == gateway  # the serving manifests' monitor, not a twin
    drift = monitors["llmops-drift"]
    assert drift["spec"]["selector"]["matchLabels"] == manifests.DRIFT_EXPORTER
    assert drift["spec"]["endpoints"][0]["path"] == "/metrics"
    release = settings.deploy.kubernetes.service_monitor_labels
    assert all(release.items() <= o["metadata"]["labels"].items() for o in objects)  # what the Prometheus selects
    jobs = {j["job_name"] for j in yaml.safe_load((MONITORING / "prometheus.yml").read_text())["scrape_configs"]}
    assert jobs == {"llmops-gateway", "llmops-drift"}  # the two jobs the monitors stand for


def test_no_rule_files_is_an_error(settings, tmp_path):
    with pytest.raises(ValueError, match="no rule files"):
        manifests.render(settings, tmp_path)
    (tmp_path / "empty.yml").write_text("# nothing\n")
    with pytest.raises(ValueError, match="no rule groups"):
        manifests.render(settings, tmp_path)


def test_cli_renders_yaml(capsys):
    manifests.main(["render", "--profile", "kubernetes"])
    kinds = [d["kind"] for d in yaml.safe_load_all(capsys.readouterr().out)]
    assert kinds.count("PrometheusRule") >= 1 and kinds.count("ServiceMonitor") == 2
