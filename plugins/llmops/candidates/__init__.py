"""Registered model versions as the gates see them: what to load, where outcomes go, what was decided.

A gate names its candidate by version number or alias (``challenger``, ``champion``). ``lookup`` finds the
version (``resolve``, ``champion``) with its adapter downloaded once by ``adapter_cache``; ``merged`` folds the
adapter into its base for servers without LoRA; ``outcomes`` puts a gate's outcome on the version (tags) and
on its final run (metrics, verdict and report files); ``decision`` reads both gates' verdicts for a date and
marks the version ``passed`` or ``rejected``, with the reason; ``cli`` is its command line. Tags are what the
registry UI and later stages read; the verdict files stay the evidence.
"""
