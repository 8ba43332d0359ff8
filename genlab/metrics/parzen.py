"""The Parzen-window log-likelihood of held-out images under a model's samples.

This is the estimator of Goodfellow et al. 2014 (goodfeli/adversarial, parzen_ll.py),
the number that GAN papers of that time report on MNIST. Each model sample (10,000 of
them) gets an isotropic Gaussian window of width sigma:

    log p(x) = logsumexp_j(-|x - c_j|^2 / (2 sigma^2)) - log N - d log(sigma sqrt(2 pi))

Sigma is picked from logspace(-1, 0, 10) by the mean log-likelihood of the validation
split, and the mean test log-likelihood is reported with its standard error, in nats,
with pixels in [0, 1]. In 784 dimensions this is a poor density estimate (Theis et al.
2016), but it is the number those papers report, so it is reproduced exactly. The
reference numbers come from the same protocol: the ceiling uses real training images
as centres and the floor uses uniform noise.
"""

from __future__ import annotations

import math

import torch

from genlab.errors import ConfigError, check_finite_tensor, check_positive
from genlab.metrics.registry import IMAGES, Metric, add
from genlab.metrics.standard_error import standard_error

SIGMAS = tuple(torch.logspace(-1, 0, 10, dtype=torch.float64).tolist())  # parzen_ll.py's default grid
N_CENTRES = 10_000  # parzen_ll.py draws 10,000 samples
BLOCK_ELEMENTS = 2**23  # one block of squared distances: 64 MB of float64
MAX_CENTRES = 2**14  # centres per block; more are merged by a running logsumexp
CACHE_ELEMENTS = 2**20  # rows of a block whose per-sigma passes stay in the cache (4 MB of float32)
EXP_FLOOR = -80.0  # a term below e^-80 (2e-35) of the largest one is negligible; clamping keeps exp off its slow path
REFERENCE_SEED_OFFSET = 54321


def parzen_log_likelihood(centres: torch.Tensor, x: torch.Tensor, sigmas=SIGMAS) -> torch.Tensor:
    """log p(x_i) under the Parzen window on `centres` for every sigma, as a float64
    tensor of shape (len(sigmas), len(x)).

    Each block of squared distances is computed once, with a single matrix product, and
    reused for every sigma, so the whole grid costs little more than a single sigma. The
    product is in float64: in float32 its rounding (about 5e-5 on MNIST distances near
    30) times 1 / (2 sigma^2) = 50 gives errors of 2e-3 nats. The exponentials, which are
    paid once per sigma, are computed in float32 unless both inputs are float64.
    """
    sigmas = _sigmas(sigmas)
    centres, x = _images(centres, "centres"), _images(x, "x")
    if x.shape[1] != centres.shape[1]:
        raise ConfigError(f"x must have the centres' {centres.shape[1]} pixels per image (got {x.shape[1]})")
    x = x.to(centres.device)
    exp_dtype = torch.float64 if centres.dtype == x.dtype == torch.float64 else torch.float32
    # Subtract the centres' mean first: the norms get smaller, and so does the cancellation in |a|^2 + |b|^2 - 2 a.b.
    mean = centres.double().mean(0)
    centres, x = centres.double() - mean, x.double() - mean
    scales = [-0.5 / s**2 for s in sigmas]
    out = torch.full((len(sigmas), len(x)), -math.inf, dtype=torch.float64, device=x.device)
    per_block = min(len(centres), MAX_CENTRES)
    rows = max(1, BLOCK_ELEMENTS // per_block)
    x_sq = (x * x).sum(1)
    for c in centres.split(per_block):
        c_sq = (c * c).sum(1)
        for start in range(0, len(x), rows):
            block = torch.addmm(c_sq, x[start : start + rows], c.T, alpha=-2)
            block.add_(x_sq[start : start + rows, None]).clamp_(min=0)
            part = out[:, start : start + rows]
            part.copy_(torch.logaddexp(part, _logsumexp_scaled(block, scales, exp_dtype)))
    dim = centres.shape[1]
    norms = [math.log(len(centres)) + dim * math.log(s * math.sqrt(2 * math.pi)) for s in sigmas]
    return out - torch.tensor(norms, dtype=torch.float64, device=out.device)[:, None]


def select_sigma(centres: torch.Tensor, validation: torch.Tensor, sigmas=None) -> tuple[float, list[float]]:
    """The grid's sigma with the highest mean validation log-likelihood, and every sigma's mean.

    Ties go to the first sigma of the grid, as numpy.argmax does in parzen_ll.py. Only the
    validation split is passed in, so the test split cannot influence the choice.
    """
    sigmas = _sigmas(SIGMAS if sigmas is None else sigmas)
    means = parzen_log_likelihood(centres, validation, sigmas).mean(1)
    return sigmas[int(means.argmax())], means.tolist()


def parzen_report(centres: torch.Tensor, validation: torch.Tensor, test: torch.Tensor, sigmas=None) -> dict:
    """The whole protocol: pick sigma on `validation`, then report the mean test log-likelihood (nats)."""
    sigmas = _sigmas(SIGMAS if sigmas is None else sigmas)
    sigma, validation_means = select_sigma(centres, validation, sigmas)
    values = parzen_log_likelihood(centres, test, [sigma])[0]
    return {
        "sigma": sigma,
        "mean": values.mean().item(),
        "standard_error": standard_error(values),
        "n_centres": len(centres),
        "n_validation": len(validation),
        "n_test": len(test),
        "sigmas": sigmas,
        "validation_means": validation_means,
    }


def parzen_reference(train: torch.Tensor, validation: torch.Tensor, test: torch.Tensor, n: int = N_CENTRES, seed: int = 0) -> dict:
    """The numbers that a model's report should be read against, from the same protocol.

    The ceiling uses `n` real training images as centres: a seeded random subset, because
    the first rows of a file are not a random sample. The floor uses `n` images of uniform
    noise in [0, 1]^d.
    """
    n = check_positive("n", n, integer=True)
    train = _images(train, "train")
    if n > len(train):
        raise ConfigError(f"n must be at most the {len(train)} training images (got {n})")
    generator = torch.Generator().manual_seed(seed + REFERENCE_SEED_OFFSET)
    real = train[torch.randperm(len(train), generator=generator)[:n].to(train.device)]
    noise = torch.rand(n, train.shape[1], generator=generator).to(train.device, train.dtype)
    return {"ceiling": parzen_report(real, validation, test), "floor": parzen_report(noise, validation, test)}




# -- helpers -------------------------------------------------------------------------------


# Measured by genlab.evaluation.images (metrics.json's `parzen`, and each reference's); printed here.
add(Metric("parzen", kind=IMAGES, summary=("mean",), objective="mean", rows=lambda report: {
    "Parzen test log-likelihood (nats)": f"{report['mean']:.1f} ± {report['standard_error']:.1f} (σ {report['sigma']:.3f})"}))


def _logsumexp_scaled(squared: torch.Tensor, scales: list[float], dtype: torch.dtype) -> torch.Tensor:
    """logsumexp_j(s * squared[i, j]) for each scale s, as a (len(scales), rows) float64 tensor.

    The rows are processed a few at a time, so that every scale's passes stay in the
    cache. Each row's smallest distance is subtracted first, since it gives the largest
    term for every s < 0. The terms are computed in `dtype`, and `squared` is overwritten.
    """
    out = torch.empty(len(scales), len(squared), dtype=torch.float64, device=squared.device)
    scale_column = torch.tensor(scales, dtype=torch.float64, device=squared.device)[:, None]
    rows = max(1, CACHE_ELEMENTS // squared.shape[1])
    terms = torch.empty(rows, squared.shape[1], dtype=dtype, device=squared.device)
    sums = torch.empty(len(scales), rows, dtype=dtype, device=squared.device)
    for start in range(0, len(squared), rows):
        chunk = squared[start : start + rows]
        nearest = chunk.min(1).values
        chunk = chunk.sub_(nearest[:, None]).to(dtype)
        n = len(chunk)
        for k, scale in enumerate(scales):
            torch.mul(chunk, scale, out=terms[:n]).clamp_(min=EXP_FLOOR).exp_()
            torch.sum(terms[:n], 1, out=sums[k, :n])
        out[:, start : start + n] = sums[:, :n].double().log_().add_(scale_column * nearest)
    return out


def _sigmas(sigmas) -> list[float]:
    sigmas = [check_positive("sigma", float(s)) for s in sigmas]
    if not sigmas:
        raise ConfigError("sigmas must hold at least one window width")
    return sigmas


def _images(x, name: str) -> torch.Tensor:
    """A finite, non-empty (n, d) float tensor. Integer pixels (0-255) are refused, not rescaled."""
    x = torch.as_tensor(x).detach()
    if x.dim() != 2 or len(x) == 0 or x.shape[1] == 0:
        raise ConfigError(f"{name} must be a non-empty (n, d) tensor of flattened images (got shape {tuple(x.shape)})")
    if not x.is_floating_point():
        raise ConfigError(f"{name} must hold floating-point pixels in [0, 1] (got {x.dtype})")
    if x.device.type == "mps":  # no float64 there
        x = x.cpu()
    return check_finite_tensor(name, x)
