"""Metrics computed on a fitted model through its protocol (log_prob, sample).

Each metric is registered once (genlab.metrics.registry); the imports here fix the order of
genlab's own: the sample metrics, then the image metrics (Parzen, the domain classifier).
"""

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
from genlab.metrics import parzen  # noqa: F401  (registers the image metrics, in this order, after the sample metrics)
from genlab.metrics import classifier  # noqa: F401

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
