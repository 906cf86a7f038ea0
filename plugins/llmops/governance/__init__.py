"""Governance gate: training-data leakage scans, OWASP Top 10 for LLM Applications (2025) probes against the
served candidate, and the compliance report that decides whether the candidate may be deployed.

Modules, one job each: ``leakage`` (Presidio scan of data and of model outputs), ``suite`` (the versioned
probe suite), ``probe`` (one probe as chat messages), ``detectors`` (pure attack-success checks), ``target``
(the chat endpoint), ``runner`` (probes against a target), ``results`` (outcomes per OWASP category),
``garak`` (garak report ingestion), ``report`` (JSON/HTML/log table and verdict) and ``gate`` (the command
line).
"""
