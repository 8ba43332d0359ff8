"""Metrics of a model's samples against held-out data, for every model that can sample.

GANs have no density, so they are judged by what they draw: distances between the
sample and the test set (MMD, exact 1D and sliced Wasserstein), the held-out
likelihood under a KDE of the samples (the lecture's "GAN kde"), the true density at
the samples where it is known, and VEEGAN's mode coverage on the Gaussian rings and
grids. Everything is computed in float64 and returned as plain Python numbers, so
the results go straight to JSON. Each metric is registered once below (genlab.metrics.registry):
how it is computed, which data it applies to, how it prints; `sample_quality` runs them all.
"""

from __future__ import annotations

import math

import torch

from genlab.arrays import as_dataset, to_tensor
from genlab.errors import ConfigError, check_positive
from genlab.metrics.registry import SAMPLES, metrics, register
from genlab.metrics.standard_error import standard_error
from genlab.models.base import GenerativeModel
from genlab.models.kde import KDE, has_singular_covariance

MMD_BANDWIDTH_FACTORS = (0.1, 0.3, 1.0, 3.0)
MEDIAN_POINTS = 2000  # pairs among this many reference points fix the MMD bandwidths
BLOCK_ELEMENTS = 2**22  # one block of squared distances: 32 MB of float64
# The MMD's kernel terms a block at a time: 4 MB of float64, near the cache through its four exp
# passes (2,500 x 2,000 2D points: 0.29 s against 0.73 s with 32 MB blocks; 10,000 x 10,000 in
# 64 dimensions 6.5 s against 8.5 s; one thread, measured 2026-12-02).
KERNEL_BLOCK_ELEMENTS = 2**19
REAL_DATA_SEED_OFFSET = 12345
VEEGAN_SAMPLES = 2500  # VEEGAN's mode-coverage protocol draws 2,500 samples


# -- distances between samples -------------------------------------------------------------


def mmd_rbf(x: torch.Tensor, y: torch.Tensor, bandwidths) -> dict[str, float]:
    """Unbiased squared MMD with the kernel exp(-|a-b|^2 / (2 s^2)), one value per s.

    Unbiased (the k(x_i, x_i) terms are left out), so it is centred on 0 when x and y
    come from the same distribution and can dip slightly below 0.
    """
    x, y = _points(x, "x"), _points(y, "y")
    y = _same_space(x, y)
    if len(x) < 2 or len(y) < 2:
        raise ConfigError(f"mmd needs at least 2 points on each side (got {len(x)} and {len(y)})")
    bandwidths = [check_positive("bandwidth", float(s)) for s in bandwidths]
    if not bandwidths:
        raise ConfigError("mmd needs at least one bandwidth")
    n, m = len(x), len(y)
    xx = _kernel_sums(x, x, bandwidths, skip_diagonal=True)
    yy = _kernel_sums(y, y, bandwidths, skip_diagonal=True)
    xy = _kernel_sums(x, y, bandwidths, skip_diagonal=False)
    mmd = xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m)
    return {f"{s:.3g}": float(value) for s, value in zip(bandwidths, mmd.tolist())}


def mmd_bandwidths(reference: torch.Tensor) -> list[float]:
    """The median heuristic: the median pairwise distance times 0.1, 0.3, 1 and 3.

    The median comes from a fixed-seed subset of at most 2,000 points, so the same
    reference always gives the same bandwidths.
    """
    reference = _points(reference, "reference")
    if len(reference) > MEDIAN_POINTS:
        subset = torch.randperm(len(reference), generator=torch.Generator().manual_seed(0))[:MEDIAN_POINTS]
        reference = reference[subset.to(reference.device)]
    if len(reference) < 2:
        raise ConfigError(f"the median distance needs at least 2 reference points (got {len(reference)})")
    pairs = torch.triu_indices(len(reference), len(reference), offset=1, device=reference.device)
    distances = _squared_distances(reference, reference)[pairs[0], pairs[1]].sqrt()
    median = distances.median().item()
    if not median > 0:
        raise ConfigError("the reference points are (mostly) identical, so their median distance is 0")
    return [factor * median for factor in MMD_BANDWIDTH_FACTORS]


def wasserstein_1d(x: torch.Tensor, y: torch.Tensor) -> float:
    """Exact W1 between two empirical 1D distributions (sizes may differ)."""
    x, y = _points(x, "x"), _points(y, "y")
    if x.shape[1] != 1 or y.shape[1] != 1:
        raise ConfigError(f"wasserstein_1d needs 1D points (got {x.shape[1]} and {y.shape[1]} columns)")
    y = _same_space(x, y)
    return float(_w1_rows(x.T, y.T)[0])


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, n_projections: int = 256, seed: int = 0) -> float:
    """Mean exact 1D W1 of the projections on `n_projections` random unit directions.

    The directions come from a generator seeded with `seed`, so every call (every
    model, every epoch) is measured along the same directions.
    """
    n_projections = check_positive("n_projections", n_projections, integer=True)
    x, y = _points(x, "x"), _points(y, "y")
    y = _same_space(x, y)
    directions = torch.randn(n_projections, x.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    directions = (directions / directions.norm(dim=1, keepdim=True)).to(x.device)
    per_block = max(1, BLOCK_ELEMENTS // (len(x) + len(y)))  # bounds the (projections, n + m) merge
    total = 0.0
    for block in directions.split(per_block):
        total += _w1_rows(block @ x.T, block @ y.T).sum().item()
    return total / n_projections


# -- likelihood-based views of the samples -------------------------------------------------


def kde_of_samples(samples: torch.Tensor, label: str = "GAN kde") -> KDE:
    """A Gaussian KDE (Scott's bandwidth) of the samples: a density for a model without one.
    Samples with a singular covariance (a generator collapsed onto a point or a line) have
    no Scott bandwidth: they get an isotropic one, Scott's factor times their largest
    coordinate's spread (or 1), so that a figure still shows where they lie."""
    samples = _points(samples, "samples")
    bandwidth = "scott"
    if len(samples) > 1 and has_singular_covariance(samples):
        spread = samples.double().std(0).max().item()
        bandwidth = len(samples) ** (-1 / (samples.shape[1] + 4)) * (spread if spread > 0 else 1.0)
    kde = KDE(kernel="gaussian", bandwidth=bandwidth).fit(samples)
    kde.label = label
    return kde


def kde_test_log_likelihood(samples: torch.Tensor, test: torch.Tensor) -> dict:
    """Mean log-likelihood (nats per point) of the test set under the KDE of the samples;
    -inf for samples with a singular covariance, the value Scott's rule tends to there
    (its kernels flatten onto the samples' point or line, where test points are not)."""
    samples = _points(samples, "samples")
    test = _same_space(samples, _points(test, "test"))
    if len(samples) > 1 and has_singular_covariance(samples):
        return {"mean": -math.inf, "standard_error": 0.0}
    values = kde_of_samples(samples).log_prob(test).double().cpu()
    return {"mean": values.mean().item(), "standard_error": standard_error(values)}


def true_log_density(data, samples: torch.Tensor) -> dict:
    """Mean true log-density at the samples: how plausible each sample is under the data.

    Samples where the density is 0 (log -inf, e.g. outside a uniform's interval) are
    counted in "outside_support"; "mean" then averages the others, and "mean_all"
    keeps the honest -inf.
    """
    if not data.has_density:
        raise ConfigError(f"{data.name} has no closed-form density, so the samples' true log-density is unknown")
    samples = _points(samples, "samples", dim=data.dim).cpu()
    values = data.log_prob(samples).double().cpu().reshape(-1)
    outside = torch.isneginf(values)
    finite = values[~outside]
    out = {
        "mean": finite.mean().item() if len(finite) else -math.inf,
        "outside_support": outside.double().mean().item(),
    }
    if outside.any():
        out["mean_all"] = -math.inf
    return out


# -- mode coverage -------------------------------------------------------------------------


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, std: float, n_std: float = 3.0) -> dict:
    """VEEGAN's mode coverage (Srivastava et al. 2017).

    A sample is high quality when it lies within n_std * std of its nearest mode; a
    mode is captured when it is the nearest mode of at least one high-quality sample.
    "min_mode_fraction" (fewest high-quality samples of any mode, over all samples)
    shows modes that are captured but starved.
    """
    std, n_std = check_positive("std", std), check_positive("n_std", n_std)
    samples = _points(samples, "samples")
    modes = _same_space(samples, _points(modes, "modes"))
    distances = _squared_distances(samples, modes).sqrt()
    nearest_distance, nearest = distances.min(1)
    high_quality = nearest_distance <= n_std * std
    counts = torch.bincount(nearest[high_quality], minlength=len(modes)).cpu()
    n = len(samples)
    return {
        "modes_captured": int((counts > 0).sum()),
        "n_modes": len(modes),
        "high_quality_fraction": high_quality.double().mean().item(),
        "mode_counts": counts.tolist(),
        "min_mode_fraction": counts.min().item() / n,
        "n_samples": n,
    }


# -- the registered metrics: what sample_quality computes and how each prints -------------


def _percent(fraction: float, digits: int = 1) -> str:
    return f"{100 * fraction:.{digits}f}%"


@register("mmd", higher_is_better=False, summary=(),
          rows=lambda mmd: {f"MMD^2 (RBF, bandwidth {bandwidth})": f"{value:.2e}" for bandwidth, value in mmd.items()})
def _mmd(samples, test, data):
    return mmd_rbf(samples, test, mmd_bandwidths(data.test))  # the data's bandwidths, also for a real row scored against half of it


@register("sliced_wasserstein", applies=lambda data: data.dim != 1, higher_is_better=False,
          rows=lambda w1: {"sliced Wasserstein-1": f"{w1:.4f}"}, headline=lambda w1: f"sliced W1 {w1:.4f}")
def _sliced_wasserstein(samples, test, data):
    return sliced_wasserstein(samples, test)


@register("wasserstein_1d", applies=lambda data: data.dim == 1, higher_is_better=False,
          rows=lambda w1: {"Wasserstein-1 (exact, 1D)": f"{w1:.4f}"}, headline=lambda w1: f"W1 {w1:.4f}")
def _wasserstein_1d(samples, test, data):
    return wasserstein_1d(samples, test)


@register("kde_test_log_likelihood", summary=("mean",), objective="mean",
          rows=lambda ll: {"test LL under a kde of the samples": f"{ll['mean']:.3f} ± {ll['standard_error']:.3f}"})
def _kde_test_log_likelihood(samples, test, data):
    return kde_test_log_likelihood(samples, test)


@register("true_log_density", applies=lambda data: data.has_density, summary=(),
          rows=lambda true: {"mean true log-density of the samples": f"{true['mean']:.3f}",
                             "samples outside the support": _percent(true["outside_support"])})
def _true_log_density(samples, test, data):
    return true_log_density(data, samples)


def _mode_rows(coverage: dict) -> dict[str, str]:
    return {"modes captured": f"{coverage['modes_captured']}/{coverage['n_modes']}",
            "high-quality samples": _percent(coverage["high_quality_fraction"]),
            "smallest mode's share": _percent(coverage["min_mode_fraction"], 2)}


@register("mode_coverage", applies=lambda data: data.has_modes, summary=("modes_captured", "min_mode_fraction"), rows=_mode_rows,
          headline=lambda c: f"modes {c['modes_captured']}/{c['n_modes']}, high quality {_percent(c['high_quality_fraction'])}", headline_rank=1)
def _mode_coverage(samples, test, data):
    return mode_coverage(samples, data.modes, data.mode_std)


def sample_quality(samples, data, final: bool = False, known: dict | None = None) -> dict:
    """Every registered sample metric that applies to `data`, all against its held-out test set.

    `samples` is an array (numpy or torch) of shape (n, d); `data` a genlab data set or an
    array of held-out points (a `genlab.data.Points` of them: no true density, no modes, so
    the metrics that need them are left out). `final`: also the metrics registered
    `final_only` (precision and recall, density and coverage, KID, the classifier two-sample
    test, memorization), which a run computes at its final evaluation only, for their cost.
    `known`: values already computed for these very samples (a training evaluation's), kept."""
    data = as_dataset(data)
    samples = _points(samples, "samples", dim=data.dim).cpu()
    return quality_against(samples, _points(data.test, "data.test").cpu(), data, final, known)


def quality_against(samples: torch.Tensor, test: torch.Tensor, data, final: bool = False, known: dict | None = None) -> dict:
    """sample_quality of float64 CPU `samples` against `test` (data.test, or the held-out half
    that the reference rows of a set without fresh draws are scored against), in the
    registry's order."""
    known = known or {}
    return {metric.name: known[metric.name] if metric.name in known else metric.compute(samples, test, data)
            for metric in metrics(SAMPLES) if metric.applies(data) and (final or not metric.final_only)}


def real_data_quality(data, n: int = VEEGAN_SAMPLES, seed: int = 0, final: bool = False) -> dict:
    """sample_quality of `n` fresh real points: the best any model can score with this
    many samples (MMD near 0, every mode captured), so a model's numbers read against it.

    A set without fresh draws (your file) has only its held-out points: one half of them,
    chosen by `seed`, is scored against the other half, so the row is what real data
    scores with half as many points on both sides (`n` does not apply). `final`: as for
    sample_quality."""
    n = check_positive("n", n, integer=True)
    if data.can_draw:
        return sample_quality(data.sample(n, real_data_generator(seed)), data, final)
    half, other = held_out_halves(data, seed)
    return quality_against(half, other, data, final)


def real_data_generator(seed: int) -> torch.Generator:
    """The generator behind the real-data row's fresh draws (or its split of the held-out points)."""
    return torch.Generator().manual_seed(seed + REAL_DATA_SEED_OFFSET)


def held_out_halves(data, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out points of `data` in two halves chosen by `seed` (float64, CPU): the real-data
    row of a set without fresh draws scores the first against the second."""
    test = _points(data.test, "data.test").cpu()
    order = torch.randperm(len(test), generator=real_data_generator(seed))
    if len(order) < 4:
        raise ConfigError(f"the real-data row needs at least 4 held-out points of {data.name} (got {len(order)})")
    return test[order[: len(order) // 2]], test[order[len(order) // 2:]]


# -- helpers -------------------------------------------------------------------------------


def _points(x, name: str, dim: int | None = None) -> torch.Tensor:
    """(n,) or (n, d), numpy or torch -> a finite float64 (n, d) tensor on the same device
    (CPU for MPS, which has no float64), with the models' own input checks and, given `dim`,
    as many columns as the data."""
    x = to_tensor(x, name).detach()
    if x.device.type == "mps":
        x = x.cpu()
    x = GenerativeModel._as_points(x.to(torch.float64), name)
    if dim is not None and x.shape[1] != dim:
        raise ConfigError(f"{name} must have {dim} columns, as data (got {x.shape[1]})")
    return x


def _same_space(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """y on x's device, after checking that both have the same number of coordinates."""
    if y.shape[1] != x.shape[1]:
        raise ConfigError(f"both point sets must have the same dimension (got {x.shape[1]} and {y.shape[1]})")
    return y.to(x.device)


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a_i - b_j|^2: coordinate by coordinate up to 3 dimensions (exact to rounding),
    else by one matrix product around a's centre, clamped at 0: [a, |a|^2, 1] . [-2b, 1, |b|^2],
    so the whole expansion |a|^2 - 2 a.b + |b|^2 is one product and no further pass."""
    if a.shape[1] <= 3:
        out = (a[:, None, 0] - b[None, :, 0]).square()
        for k in range(1, a.shape[1]):
            out += (a[:, None, k] - b[None, :, k]).square()
        return out
    centre = a.mean(0)
    a, b = a - centre, b - centre
    left = torch.cat([a, (a * a).sum(1, keepdim=True), torch.ones_like(a[:, :1])], 1)
    right = torch.cat([-2 * b, torch.ones_like(b[:, :1]), (b * b).sum(1, keepdim=True)], 1)
    return (left @ right.T).clamp_(min=0)


def _kernel_sums(x: torch.Tensor, y: torch.Tensor, bandwidths: list[float], skip_diagonal: bool) -> torch.Tensor:
    """sum_ij exp(-|x_i - y_j|^2 / (2 s^2)) for each s, a block of rows at a time;
    with skip_diagonal (y is x) the i == j terms are left out."""
    scales = torch.tensor([-0.5 / s**2 for s in bandwidths], dtype=torch.float64, device=x.device)
    totals = torch.zeros(len(bandwidths), dtype=torch.float64, device=x.device)
    rows = max(1, KERNEL_BLOCK_ELEMENTS // len(y))
    for start in range(0, len(x), rows):
        sq = _squared_distances(x[start : start + rows], y)
        if skip_diagonal:
            index = torch.arange(len(sq), device=x.device)
            sq[index, start + index] = math.inf  # exp(-inf) = 0: the k(x_i, x_i) terms drop out
        for i, scale in enumerate(scales):
            totals[i] += torch.exp(sq * scale).sum()
    return totals.cpu()


def _w1_rows(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Exact W1 for each row pair of samples: the integral of |F_x - F_y| over the merged,
    sorted row, where F_x - F_y steps by +1/n at each x and -1/m at each y (one sort and a
    running sum; at tied values the gap between them is 0, so their order does not matter)."""
    n, m = xs.shape[1], ys.shape[1]
    merged, order = torch.cat([xs, ys], 1).sort(1)
    steps = torch.full(order.shape, 1.0 / n, dtype=torch.float64, device=xs.device).masked_fill_(order >= n, -1.0 / m)
    return (steps.cumsum(1)[:, :-1].abs() * merged.diff(dim=1)).sum(1)
