"""Serves the drift check's Prometheus textfile on ``/metrics`` (job ``llmops-drift`` in monitoring/prometheus.yml).

The hourly check writes the file (prometheus_client's ``write_to_textfile``: temp file + rename), this server
reads it on every scrape, so a scrape never sees half a file. No file yet: an empty answer (Prometheus records
``up`` 1 and no drift series; the rule ``LLMOpsDriftCheckStale`` notices a check that never reports).
``--targets-dir`` writes the file-based service-discovery entry Prometheus reads (``llmops-drift-<port>.json``).

    python -m llmops.monitoring.drift_exporter --textfile <lake>/reports/drift/metrics/llmops_drift.prom --port 9109
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as CONTENT_TYPE


def make_server(textfile: Path, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics here")
                return
            body = textfile.read_bytes() if textfile.is_file() else b""
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # scrapes every 15 s would flood the log
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m llmops.monitoring.drift_exporter", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--textfile", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9109)
    parser.add_argument("--targets-dir", type=Path, help="write Prometheus' file_sd entry for this exporter here")
    args = parser.parse_args(argv)
    server = make_server(args.textfile, args.host, args.port)
    if args.targets_dir:
        args.targets_dir.mkdir(parents=True, exist_ok=True)
        entry = [{"targets": [f"{args.host}:{server.server_port}"], "labels": {}}]
        (args.targets_dir / f"llmops-drift-{server.server_port}.json").write_text(json.dumps(entry))
    server.serve_forever()


if __name__ == "__main__":
    main()
