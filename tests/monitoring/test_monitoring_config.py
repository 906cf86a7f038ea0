"""The shipped Prometheus and Alertmanager configuration, checked by the tools that run it: promtool (config,
rules, and the rules' own unit tests on input series) and amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.services import require_binary

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
HOW = "install Debian's prometheus and prometheus-alertmanager packages"


def _run(*argv: str, cwd: Path = MONITORING) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_promtool_accepts_the_config_and_its_rules():
    promtool = require_binary("promtool", HOW)
    assert "SUCCESS" in _run(promtool, "check", "config", "prometheus.yml")
    assert "SUCCESS" in _run(promtool, "check", "rules", *map(str, MONITORING.glob("rules/*.yml")))


def test_alert_rules_pass_their_unit_tests():
    """Fast burn pages on a 5xx burst and not on healthy traffic; drift pages once the exporter says so."""
    promtool = require_binary("promtool", HOW)
    assert "SUCCESS" in _run(promtool, "test", "rules", "tests/llmops_test.yml")


def test_promtool_rejects_a_broken_rule(tmp_path):
    promtool = require_binary("promtool", HOW)
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(foo[5m] > 1\n")
    proc = subprocess.run([promtool, "check", "rules", str(broken)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0


def test_amtool_accepts_the_alertmanager_config():
    amtool = require_binary("amtool", HOW)
    assert "SUCCESS" in _run(amtool, "check-config", "alertmanager.yml")


def test_alertmanager_sends_every_alert_to_the_webhook_with_a_bearer_token_from_a_file():
    config = yaml.safe_load((MONITORING / "alertmanager.yml").read_text())
    route = config["route"]
    assert route["receiver"] == "llmops-webhook" and "alertname" in route["group_by"]
    assert {"group_wait", "group_interval", "repeat_interval"} <= set(route)
    (hook,) = config["receivers"][0]["webhook_configs"]
    auth = hook["http_config"]["authorization"]
    assert auth["type"] == "Bearer" and "credentials_file" in auth and "credentials" not in auth
    assert hook["url"].endswith("/llmops/alerts/alertmanager") and hook["send_resolved"] is True


@pytest.mark.parametrize("job", ["llmops-gateway", "llmops-drift"])
def test_prometheus_scrapes_the_gateway_and_the_drift_exporter(job):
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert job in {s["job_name"] for s in config["scrape_configs"]}
