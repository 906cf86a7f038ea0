"""Heavy steps as command lines: the step model, the local runner, and what a step's ``main()`` uses.

The package's public names, from the module that holds each: :mod:`llmops.steps.model` (what a step is),
:mod:`llmops.steps.runner` (running it as a local process that dies with its task) and
:mod:`llmops.steps.entrypoint` (arguments and error handling for a step's ``main()``).
"""

from llmops.steps.entrypoint import ds_arg, guarded, lake_step_parser, uri_arg
from llmops.steps.model import EXIT_ERROR, EXIT_FAILED, NOT_RETRIED, Step, StepFailed
from llmops.steps.runner import finished, kill_group, run_all, run_local

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "NOT_RETRIED",
    "Step",
    "StepFailed",
    "ds_arg",
    "finished",
    "guarded",
    "kill_group",
    "lake_step_parser",
    "run_all",
    "run_local",
    "uri_arg",
]
