"""Monitoring: what production traffic says about the model, and alerts coming back in as retraining runs."""
