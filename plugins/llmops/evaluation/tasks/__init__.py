"""lm-eval task templates (YAML) and their per-item scoring functions (utils.py)."""
