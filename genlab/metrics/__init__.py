"""Metrics computed on a fitted model through its protocol (log_prob, sample)."""

from genlab.metrics.likelihood import likelihood_metrics
from genlab.metrics.samples import (
    kde_of_samples,
    kde_test_log_likelihood,
    mmd_bandwidths,
    mmd_rbf,
    mode_coverage,
    sample_quality,
    real_data_quality,
    sliced_wasserstein,
    true_log_density,
    wasserstein_1d,
)

__all__ = [
    "likelihood_metrics",
    "kde_of_samples",
    "kde_test_log_likelihood",
    "mmd_bandwidths",
    "mmd_rbf",
    "mode_coverage",
    "sample_quality",
    "real_data_quality",
    "sliced_wasserstein",
    "true_log_density",
    "wasserstein_1d",
]
