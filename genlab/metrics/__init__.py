"""Metrics computed on a fitted model through its protocol (log_prob, sample).

Each metric is registered once (genlab.metrics.registry); the imports here fix the order of
genlab's own: the sample metrics, the image metrics (Parzen, the domain classifier), then the
sample metrics of a run's final evaluation only (precision/recall, density/coverage, KID, the
classifier two-sample test, memorization).
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
from genlab.metrics.fidelity import density_coverage, precision_recall
from genlab.metrics.kid import kernel_inception_distance
from genlab.metrics.two_sample import classifier_two_sample_test
from genlab.metrics.memorization import data_copying
from genlab.metrics.reference_rows import reference_rows

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
    "precision_recall",
    "density_coverage",
    "kernel_inception_distance",
    "classifier_two_sample_test",
    "data_copying",
    "reference_rows",
]
