"""Metrics computed on a fitted model through its protocol (log_prob, sample)."""

from genlab.metrics.likelihood import likelihood_metrics

__all__ = ["likelihood_metrics"]
