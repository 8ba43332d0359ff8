"""Gaussian mixtures and the uniform: the toy sets whose density is known exactly."""

from __future__ import annotations

import math

import torch
from torch.distributions import Categorical, MixtureSameFamily, MultivariateNormal

from genlab.data.base import Dataset, normal, uniform
from genlab.errors import ConfigError, check_positive


class GaussianMixture(Dataset):
    """Mixture of Gaussians with given means, covariances and weights (any dimension).

    Args:
        means: list of K points (each a list of `dim` numbers).
        covariances: list of K (dim x dim) positive definite matrices.
        weights: list of K positive numbers (normalized here); None for equal weights.
    """

    name = "mixture"

    def __init__(self, means, covariances, weights=None, n_train=2000, n_test=2000, seed=0):
        self.means = _as_tensor("means", means, ndim=2)
        k, self.dim = self.means.shape
        covariances = _as_tensor("covariances", covariances, ndim=3)
        if covariances.shape != (k, self.dim, self.dim):
            raise ConfigError(
                f"covariances must be {k} matrices of shape {self.dim}x{self.dim}, one per mean "
                f"(got shape {tuple(covariances.shape)})"
            )
        scale_tril, info = torch.linalg.cholesky_ex(covariances)
        for i in range(k):
            if info[i] != 0 or not torch.allclose(covariances[i], covariances[i].T):
                raise ConfigError(f"covariances[{i}] must be symmetric positive definite")
        self.covariances, self.scale_tril = covariances, scale_tril
        weights = torch.ones(k, dtype=torch.float64) if weights is None else _as_tensor("weights", weights, ndim=1)
        if weights.shape != (k,) or (weights <= 0).any():
            raise ConfigError(f"weights must be {k} positive numbers, one per mean (got {weights.tolist()})")
        self.weights = weights / weights.sum()
        self.distribution = MixtureSameFamily(Categorical(probs=self.weights), MultivariateNormal(self.means, scale_tril=self.scale_tril))
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        noise = normal(n, self.dim, 1, generator=generator)
        return self.means[component] + (self.scale_tril[component] @ noise).squeeze(-1)

    def log_prob(self, x):
        return self.distribution.log_prob(x.to(torch.float64).reshape(-1, self.dim)).to(x.dtype)


class Mixture1D(GaussianMixture):
    """Univariate Gaussian mixture, like the lecture's univariate figures.

    Args: means, stds, weights (lists of equal length; weights None for equal).
    """

    name = "mixture1d"

    def __init__(self, means=(-1.5, 2.0), stds=(0.5, 1.0), weights=(0.4, 0.6), n_train=2000, n_test=2000, seed=0):
        means, stds = _as_tensor("means", means, ndim=1), _as_tensor("stds", stds, ndim=1)
        if stds.shape != means.shape or (stds <= 0).any():
            raise ConfigError(f"stds must be {len(means)} positive numbers, one per mean (got {stds.tolist()})")
        super().__init__(means[:, None], (stds**2)[:, None, None], weights, n_train, n_test, seed)


class Mixture2D(GaussianMixture):
    """Bivariate Gaussian mixture with full covariances (defaults: three tilted components)."""

    name = "mixture2d"

    def __init__(
        self,
        means=((-1.5, -0.5), (1.5, -0.5), (0.0, 1.5)),
        covariances=(((0.4, 0.25), (0.25, 0.4)), ((0.4, -0.25), (-0.25, 0.4)), ((0.5, 0.0), (0.0, 0.1))),
        weights=(0.3, 0.3, 0.4),
        n_train=2000,
        n_test=2000,
        seed=0,
    ):
        super().__init__(means, covariances, weights, n_train, n_test, seed)


class RingOfGaussians(GaussianMixture):
    """The WGAN-GP toy set "8gaussians" (Gulrajani et al. 2017, gan_toy.py).

    As in that code: 8 centres at `radius` (2) on the axes and diagonals, isotropic
    noise with std `std` (0.02), then everything divided by 1.414. `modes` and
    `mode_std` are in those final coordinates (used by mode-coverage metrics).
    """

    name = "8gaussians"

    def __init__(self, radius=2.0, std=0.02, n_train=2000, n_test=2000, seed=0):
        radius, std = check_positive("radius", radius), check_positive("std", std)
        angles = torch.arange(8, dtype=torch.float64) * (math.pi / 4)
        self.modes = radius * torch.stack([angles.cos(), angles.sin()], 1) / 1.414
        self.mode_std = std / 1.414
        covariances = torch.eye(2, dtype=torch.float64).expand(8, 2, 2) * self.mode_std**2
        super().__init__(self.modes, covariances, None, n_train, n_test, seed)


class GridOfGaussians(GaussianMixture):
    """The WGAN-GP toy set "25gaussians" (Gulrajani et al. 2017, gan_toy.py).

    As in that code: centres on the grid {-2,...,2}^2 times `spacing` (2), isotropic
    noise with std `std` (0.05), then everything divided by 2.828.
    """

    name = "25gaussians"

    def __init__(self, spacing=2.0, std=0.05, n_train=2000, n_test=2000, seed=0):
        spacing, std = check_positive("spacing", spacing), check_positive("std", std)
        ticks = torch.arange(-2, 3, dtype=torch.float64) * spacing
        self.modes = torch.cartesian_prod(ticks, ticks) / 2.828
        self.mode_std = std / 2.828
        covariances = torch.eye(2, dtype=torch.float64).expand(25, 2, 2) * self.mode_std**2
        super().__init__(self.modes, covariances, None, n_train, n_test, seed)


class Uniform1D(Dataset):
    """Uniform([low, high]) in one dimension; its density is -inf outside the interval."""

    name = "uniform1d"
    dim = 1

    def __init__(self, low=0.0, high=1.0, n_train=2000, n_test=2000, seed=0):
        if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and low < high):
            raise ConfigError(f"low must be a number below high (got low={low!r}, high={high!r})")
        self.low, self.high = float(low), float(high)
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        return uniform(n, generator, self.low, self.high)

    def log_prob(self, x):
        x = x.reshape(-1)
        inside = (x >= self.low) & (x <= self.high)
        value = torch.full_like(x, -math.log(self.high - self.low))
        return torch.where(inside, value, torch.full_like(x, -math.inf))


def _as_tensor(name, value, ndim):
    try:
        tensor = torch.as_tensor(_plain(value), dtype=torch.float64)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{name} must be a list of numbers with {ndim} nesting level(s) ({error})") from None
    if tensor.dim() != ndim or tensor.numel() == 0:
        raise ConfigError(f"{name} must be a non-empty list with {ndim} nesting level(s) (got {_plain(value)!r})")
    if not torch.isfinite(tensor).all():
        raise ConfigError(f"{name} must hold finite numbers only (got {_plain(value)!r})")
    return tensor


def _plain(value):
    """Turn OmegaConf lists and tuples into nested Python lists for torch."""
    if isinstance(value, torch.Tensor):
        return value
    if hasattr(value, "__iter__") and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value
