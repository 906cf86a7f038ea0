"""Driver script for ``spark-submit``: runs the step module named by the first argument as ``__main__``, with the
remaining arguments, so a submitted step runs exactly the code ``python -m <module> …`` runs.

The ``--py-files`` zip is for the executors, which have nothing of the project installed. The driver runs in
client mode where the project is installed (the Airflow worker or the step's pod), so it imports the installed
packages: their data files (settings profiles, task YAMLs) are real files there, not zip members.
"""

from __future__ import annotations

import runpy
import sys

if __name__ == "__main__":
    sys.path[:] = [entry for entry in sys.path if not entry.endswith(".zip") or "py-files" not in entry]
    module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
