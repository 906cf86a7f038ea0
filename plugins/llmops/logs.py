"""Logging for step processes: one format in every task log, chatty libraries kept to warnings."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_QUIET = ("great_expectations", "py4j", "feast", "urllib3", "filelock", "httpx", "presidio-analyzer")


def setup_step_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
