"""Radially symmetric kernels on R^d with unit bandwidth: exact normalizers and exact samplers.

Each kernel K(u) = c_d * profile(|u|) integrates to one over R^d. Samplers draw
u ~ K exactly for every kernel (scikit-learn cannot sample the Epanechnikov one):
  gaussian      N(0, I)
  tophat        uniform in the unit ball
  epanechnikov  first d coordinates of a uniform point in the (d+2)-ball, whose
                marginal density is proportional to 1 - |u|^2
  exponential   uniform direction, radius ~ Gamma(d, 1) (a sum of d exponentials)
  linear        uniform direction, radius ~ Beta(d, 2) (2nd largest of d+1 uniforms)
"""

from __future__ import annotations

import math

import torch

KERNELS = ("gaussian", "epanechnikov", "tophat", "exponential", "linear")
COMPACT = ("epanechnikov", "tophat", "linear")  # zero outside the unit ball


def log_ball_volume(d: int) -> float:
    return (d / 2) * math.log(math.pi) - math.lgamma(d / 2 + 1)


def log_sphere_area(d: int) -> float:
    """Surface area of the unit sphere in R^d."""
    return math.log(2) + (d / 2) * math.log(math.pi) - math.lgamma(d / 2)


def log_normalizer(kernel: str, d: int) -> float:
    """log c_d, so that c_d * profile(|u|) integrates to one over R^d."""
    if kernel == "gaussian":
        return -(d / 2) * math.log(2 * math.pi)
    if kernel == "tophat":
        return -log_ball_volume(d)
    if kernel == "epanechnikov":  # integral of 1 - |u|^2 over the ball = V_d * 2 / (d + 2)
        return math.log((d + 2) / 2) - log_ball_volume(d)
    if kernel == "exponential":  # integral of exp(-|u|) = S_{d-1} * Gamma(d)
        return -(log_sphere_area(d) + math.lgamma(d))
    if kernel == "linear":  # integral of 1 - |u| over the ball = S_{d-1} / (d (d + 1))
        return math.log(d * (d + 1)) - log_sphere_area(d)
    raise ValueError(kernel)


def coordinate_variance(kernel: str, d: int) -> float:
    """Variance of one coordinate of u ~ K (used by tests of the samplers)."""
    return {
        "gaussian": 1.0,
        "tophat": 1 / (d + 2),
        "epanechnikov": 1 / (d + 4),
        "exponential": d + 1.0,
        "linear": (d + 1) / ((d + 2) * (d + 3)),
    }[kernel]


def sample(kernel: str, n: int, d: int, generator=None, device=None, dtype=torch.float32) -> torch.Tensor:
    """Draw n points u ~ K in R^d."""
    opts = dict(generator=generator, device=device, dtype=dtype)
    if kernel == "gaussian":
        return torch.randn(n, d, **opts)
    if kernel == "epanechnikov":
        return _uniform_in_ball(n, d + 2, opts)[:, :d]
    if kernel == "tophat":
        return _uniform_in_ball(n, d, opts)
    if kernel == "exponential":
        radius = -torch.rand(n, d, **opts).clamp_min(torch.finfo(dtype).tiny).log().sum(1, keepdim=True)
    elif kernel == "linear":
        radius = torch.rand(n, d + 1, **opts).sort(1).values[:, d - 1 : d]
    else:
        raise ValueError(kernel)
    return _direction(n, d, opts) * radius


def _direction(n, d, opts):
    z = torch.randn(n, d, **opts)
    return z / z.norm(dim=1, keepdim=True).clamp_min(1e-30)


def _uniform_in_ball(n, d, opts):
    return _direction(n, d, opts) * torch.rand(n, 1, **opts) ** (1 / d)
