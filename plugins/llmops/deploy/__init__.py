"""Canary rollout of a gated version: analysis, rollout state machine, report, on-call CLI."""
