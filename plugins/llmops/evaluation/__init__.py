"""The evaluation gate: lm-eval scores a candidate against the champion on the gold test split, and a
paired bootstrap decides whether the candidate may move on (see gate.py)."""
