"""Command line of the decision on a registered version.

``python -m llmops.candidates.cli decide --lake-root URI --ds YYYY-MM-DD --version V``; exit 0: passed,
1: rejected, 2: error (no such version, registry unreachable).
"""

from __future__ import annotations

import logging
import sys

from llmops.candidates.decision import decide
from llmops.logs import setup_step_logging
from llmops.step_summary import write_summary
from llmops.steps import EXIT_FAILED, guarded, lake_step_parser

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = lake_step_parser("python -m llmops.candidates.cli", __doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["decide"])
    parser.add_argument("--version", required=True, help="version number or alias (challenger, champion)")
    args = parser.parse_args(argv)
    setup_step_logging()

    def body() -> int:
        passed, reason = decide(args.version, args.ds, args.lake_root)
        summary = {"version": args.version, "status": "passed" if passed else "rejected", "reason": reason}
        uri = write_summary(args.lake_root, "decide", args.ds, summary)
        (log.info if passed else log.error)("%s %s: %s", args.version, summary["status"].upper(), reason)
        print(f"decision: {uri}")
        return 0 if passed else EXIT_FAILED

    return guarded("decide", body)


if __name__ == "__main__":
    sys.exit(main())
