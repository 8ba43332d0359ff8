"""The Fréchet distance between two sets of features, the metric behind FID.

The distance is computed between Gaussians fitted to each set (mean and covariance):

    |mu_a - mu_b|^2 + tr(Sa + Sb - 2 (Sa^1/2 Sb Sa^1/2)^1/2)

For images, the features are the domain classifier's penultimate activations
(genlab.metrics.classifier). A model's samples are compared with the test images. The
floor is a random subset of real training images compared with the same test images,
which is as close as a perfect model drawing that many samples could get. Everything is
in float64, and the square roots come from symmetric eigendecompositions (no scipy).
"""

from __future__ import annotations

import torch

from genlab.errors import ConfigError, check_finite_tensor, check_positive

N_IMAGES = 10_000
REFERENCE_SEED_OFFSET = 65432


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """The Fréchet distance between Gaussians with the two sets' means and covariances (ddof 1)."""
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ConfigError(f"both feature sets must have the same dimension (got {a.shape[1]} and {b.shape[1]})")
    b = b.to(a.device)
    return gaussian_frechet_distance(a.mean(0), torch.cov(a.T).reshape(a.shape[1], -1), b.mean(0), torch.cov(b.T).reshape(b.shape[1], -1))


def gaussian_frechet_distance(mean_a, cov_a, mean_b, cov_b) -> float:
    """The closed form for two Gaussians, from their moments.

    Sa^1/2 Sb Sa^1/2 is symmetric positive semi-definite, so the trace of its square root
    is the sum of the square roots of its eigenvalues: no general matrix square root
    (scipy's sqrtm) is needed. Eigenvalues that rounding pushes slightly below 0 are
    clamped to 0, and so is the result.
    """
    mean_a, mean_b = (torch.as_tensor(m, dtype=torch.float64) for m in (mean_a, mean_b))
    cov_a, cov_b = (torch.as_tensor(c, dtype=torch.float64).to(mean_a.device) for c in (cov_a, cov_b))
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_root = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    difference = mean_a - mean_b.to(mean_a.device)
    value = difference @ difference + cov_a.trace() + cov_b.trace() - 2 * trace_root
    return max(value.item(), 0.0)


def classifier_frechet_distance(classifier, images: torch.Tensor, reference: torch.Tensor) -> float:
    """The image metric: the Fréchet distance between the classifier's features of two image sets."""
    return frechet_distance(classifier.features(images), classifier.features(reference))


def frechet_reference(classifier, train: torch.Tensor, test: torch.Tensor, n: int = N_IMAGES, seed: int = 0) -> float:
    """The floor: `n` real training images (a seeded random subset, not the first rows) against the test images."""
    n = check_positive("n", n, integer=True)
    if n > len(train):
        raise ConfigError(f"n must be at most the {len(train)} training images (got {n})")
    subset = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed + REFERENCE_SEED_OFFSET))[:n]
    return classifier_frechet_distance(classifier, train[subset.to(train.device)], test)


def _psd_sqrt(matrix: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a covariance matrix, with negative eigenvalues from rounding clamped to 0."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def _features(x, name: str) -> torch.Tensor:
    x = torch.as_tensor(x).detach()
    if x.dim() != 2 or len(x) < 2 or x.shape[1] == 0:
        raise ConfigError(f"{name} must be an (n, d) tensor with at least 2 rows (got shape {tuple(x.shape)})")
    if x.device.type == "mps":  # no float64 there
        x = x.cpu()
    return check_finite_tensor(name, x.to(torch.float64))
