"""Differentiable log-densities of the fitted kde and gmm, for Langevin's autograd score.

The models' own `log_prob` is built for speed (preallocated buffers, in-place base-2
exponentials, `out=` arguments) and autograd cannot pass through it. These are the same
densities written in plain differentiable torch, read from the fitted state; the tests
hold them equal to `log_prob`. Only kernels whose log-density is finite and has a
useful gradient everywhere qualify: a compact kernel's density is 0 beyond its reach,
where a chain has no gradient to follow, and the tophat's is flat inside it.
"""

from __future__ import annotations

import math

import torch

from genlab.errors import ConfigError
from genlab.models import kernels
from genlab.models.gmm import GMM, _from_sklearn_shape
from genlab.models.kde import KDE

LANGEVIN_KERNELS = ("gaussian", "exponential")


def check_differentiable(model, sampler: str) -> None:
    """Refuse, before any fit, a model whose log-density gives Langevin no score."""
    if not isinstance(model, (KDE, GMM)):
        raise ConfigError(
            f"sampler must be direct for {type(model).__name__.lower()} (got {sampler!r}): "
            "langevin and mala follow the gradient of an exact log-density, which only kde and gmm have"
        )
    if isinstance(model, KDE) and model.kernel not in LANGEVIN_KERNELS:
        raise ConfigError(
            f"model.kernel must be one of {', '.join(LANGEVIN_KERNELS)} for sampler={sampler} (got {model.kernel!r}): "
            "a compact kernel's density is 0 beyond its reach, where a Langevin chain has no gradient to follow"
        )


def log_density(model):
    """A function (n, d) -> (n,) equal to model.log_prob, through which autograd passes."""
    check_differentiable(model, "langevin")
    model._check_fitted()
    return _kde_log_density(model) if isinstance(model, KDE) else _gmm_log_density(model)


def smallest_variance(model) -> float:
    """The model's narrowest spread, which bounds a stable step (ULA diverges on a Gaussian
    of variance s^2 once eps > 2 s^2): a GMM's smallest component eigenvalue, a KDE's
    smallest kernel variance along any direction."""
    if isinstance(model, GMM):
        return torch.linalg.eigvalsh(_full_covariances(model)).min().item()
    bandwidth = model.bandwidth_matrix_.double()
    d = bandwidth.shape[0]
    return torch.linalg.eigvalsh(bandwidth @ bandwidth.T).min().item() * kernels.coordinate_variance(model.kernel, d)


def _kde_log_density(model: KDE):
    reference = model.reference_
    n, d = reference.shape
    bandwidth = model.bandwidth_matrix_.to(reference.dtype)
    centre = reference.mean(0)
    reference_u = torch.linalg.solve_triangular(bandwidth, (reference - centre).T, upper=False).T
    constant = kernels.log_normalizer(model.kernel, d) - math.log(n) - torch.diagonal(bandwidth).log().sum().item()

    half_square = 0.5 * reference_u.square().sum(1)

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        u = torch.linalg.solve_triangular(bandwidth.to(x.dtype), (x - centre.to(x.dtype)).T, upper=False).T
        if model.kernel == "gaussian":
            # -|u - r|^2 / 2 = u.r - |r|^2 / 2 - |u|^2 / 2: one matrix product, twice as fast
            # through autograd as the distances themselves.
            cross = torch.addmm(-half_square.to(x.dtype), u, reference_u.to(x.dtype).T)
            return torch.logsumexp(cross, 1) - 0.5 * u.square().sum(1) + constant
        # Exact differences: the product form loses the digits of distances near 0.
        distance = torch.cdist(u, reference_u.to(x.dtype), compute_mode="donot_use_mm_for_euclid_dist")
        return torch.logsumexp(-distance, 1) + constant

    return log_prob


def _gmm_log_density(model: GMM):
    # No argument checks: a runaway chain's NaN must reach the sampler, which names the step.
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(probs=model.weights_, validate_args=False),
        torch.distributions.MultivariateNormal(model.means_, covariance_matrix=_full_covariances(model), validate_args=False),
        validate_args=False,
    )

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        return mixture.log_prob(x.to(model.means_.dtype)).to(x.dtype)

    return log_prob


def _full_covariances(model: GMM) -> torch.Tensor:
    k, d = model.means_.shape
    # Built on the CPU (the spherical case multiplies by a CPU identity), then moved.
    return _from_sklearn_shape(model.covariances_.cpu(), model.covariance_type, k, d).to(model.means_.device)
