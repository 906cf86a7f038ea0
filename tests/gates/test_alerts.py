"""Failure alerts: always an ERROR log line; a JSON POST to a real local webhook when one is configured."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from llmops.alerts import WEBHOOK_ENV, alert_on_failure, send_alert


@pytest.fixture
def webhook():
    """A webhook on 127.0.0.1 that keeps every JSON body it receives and answers with the status asked for."""
    received, status = [], {"code": 204}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(status["code"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received, status
    server.shutdown()
    server.server_close()


def test_a_failed_task_posts_its_dag_task_and_report(webhook, monkeypatch, caplog):
    url, received, _ = webhook
    monkeypatch.setenv(WEBHOOK_ENV, url)
    ti = SimpleNamespace(dag_id="llmops_governance", task_id="scan_champion", run_id="scheduled__2026-11-20",
                         try_number=3)
    report = "file:///lake/reports/governance_scan/ds=2026-11-20/champion/governance_report.html"
    with caplog.at_level(logging.ERROR, logger="llmops.alerts"):
        alert_on_failure({"ti": ti, "task": SimpleNamespace(report=report), "exception": RuntimeError("exit 1")})
    assert received == [{"event": "task_failed", "dag_id": "llmops_governance", "task_id": "scan_champion",
                         "run_id": "scheduled__2026-11-20", "try_number": 3, "report": report, "error": "exit 1"}]
    assert "ALERT llmops_governance.scan_champion failed" in caplog.text and report in caplog.text


def test_without_a_webhook_or_when_it_fails_the_alert_is_the_log_line(webhook, caplog):
    url, received, status = webhook
    payload = {"dag_id": "d", "task_id": "t", "run_id": "r"}
    with caplog.at_level(logging.ERROR, logger="llmops.alerts"):
        assert send_alert(payload, environ={}) is False
        status["code"] = 500
        assert send_alert(payload, environ={WEBHOOK_ENV: url}) is False
    assert len(received) == 1  # posted once, refused
    assert caplog.text.count("ALERT d.t failed") == 2
    assert "alert webhook ($LLMOPS_ALERT_WEBHOOK_URL) failed: HTTPStatusError" in caplog.text
    assert url not in caplog.text  # the URL may carry a token
    assert send_alert(payload, environ={WEBHOOK_ENV: "http://127.0.0.1:9/unreachable"}) is False
