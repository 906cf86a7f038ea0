"""What a step's ``main()`` uses: the common lake arguments and one error line instead of a traceback."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from llmops.steps.model import EXIT_ERROR

log = logging.getLogger(__name__)


def ds_arg(value: str) -> str:
    """argparse type for a logical date: a clear usage error (exit 2) instead of a traceback."""
    from llmops.lake import check_ds  # noqa: PLC0415 - steps stays importable without the lake module's deps

    try:
        return check_ds(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def uri_arg(value: str) -> str:
    """argparse type for a lake or landing URI: an unknown scheme is a usage error here, not a Java stack
    trace from Spark later."""
    from llmops.config import check_uri  # noqa: PLC0415 - pydantic; keep this module light

    try:
        return check_uri(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def lake_step_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The arguments every lake step takes: where the lake is and which date to process."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--lake-root", required=True, type=uri_arg, help="lake URI (file:///..., s3a://...)")
    parser.add_argument("--ds", required=True, type=ds_arg, help="logical date, YYYY-MM-DD")
    return parser


def guarded(name: str, body: Callable[[], int | None]) -> int:
    """Run a step's body; an exception becomes EXIT_ERROR with one line naming the step and the cause
    (the traceback is logged just above it, for whoever needs more; a bad setting or an unreachable tracking
    server needs none: its message says it all)."""
    from llmops.config import ConfigError  # noqa: PLC0415 - pydantic; keep this module light
    from llmops.training.tracking import TrackingUnavailable  # noqa: PLC0415

    try:
        return body() or 0
    except ConfigError as exc:
        print(f"{name}: configuration error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except TrackingUnavailable as exc:
        log.error("%s: %s", name, exc)
        print(f"{name}: tracking error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        log.exception("%s failed", name)
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
