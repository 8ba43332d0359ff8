"""Kernel Inception Distance (Bińkowski et al. 2018): the unbiased squared MMD with the cubic
polynomial kernel k(x, y) = (x·y / d + 1)^3, averaged over random subsets.

As torchmetrics' KernelInceptionDistance computes it: each of `subsets` (100) subsets draws
`subset_size` (1,000, or all the points of the smaller set) test points and as many samples,
each without replacement (a random permutation's first `subset_size`), the subset's MMD^2
leaves out the kernel's diagonal on both sides, and the mean and the standard deviation (ddof 0)
over the subsets are reported. The subsets come from a generator seeded with `seed`, so every
run and every sample set is measured on the same draws. Unbiased, so usable on small samples
and centred on 0 (it can dip below) when samples and test points come from one distribution.
On points (as here) the features are the coordinates; the kernel sees only the first three
moments, so a sample with the right mean, covariance and skew fools it.
Tested against torchmetrics' own functions in tests/bench/sample_metrics.py.
"""

from __future__ import annotations

import torch

from genlab.errors import ConfigError, check_positive
from genlab.metrics.registry import register
from genlab.metrics.samples import _points, _same_space

SUBSETS = 100
SUBSET_SIZE = 1000
CHUNK_ELEMENTS = 2**23  # points of the subsets gathered at once (times their dimension): 64 MB of float64
KERNEL_BLOCK = 2**17  # kernel entries computed at once: 1 MB of float64, several times faster here than 80 MB blocks


def kid_subsets(n_test: int, n_samples: int, subsets: int = SUBSETS, subset_size: int | None = None,
                seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (test indices, sample indices) of each subset, as torchmetrics draws them: for each
    subset a permutation of the test points, then one of the samples, each cut to subset_size
    (default min(1000, n_test, n_samples)), from one generator seeded with `seed`."""
    subsets = check_positive("subsets", subsets, integer=True)
    size = min(SUBSET_SIZE, n_test, n_samples) if subset_size is None else check_positive("subset_size", subset_size, integer=True)
    if size < 2:
        raise ConfigError(f"subset_size must be at least 2 (got {size}: too few points)")
    if size > min(n_test, n_samples):
        raise ConfigError(f"subset_size must be at most the number of points on each side (got {size} for {n_test} test points and {n_samples} samples)")
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randperm(n_test, generator=generator)[:size], torch.randperm(n_samples, generator=generator)[:size])
            for _ in range(subsets)]


def polynomial_mmd(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Unbiased squared MMD with the kernel (a·b / d + 1)^3 for a batch of equal-sized subsets:
    x, y of shape (s, m, d) -> (s,). In few dimensions (d^2 < m) the kernel sums come from the
    subsets' moment tensors instead of the m x m kernel matrices, which is the same sum
    (sum_ij (a_i·b_j)^p = <sum_i a_i^(x)p, sum_j b_j^(x)p>) in O(m d^3) instead of O(m^2 d)."""
    m, d = x.shape[1], x.shape[2]
    sums = _moment_sums if d * d < m else _matrix_sums
    return (sums(x, x, True) + sums(y, y, True)) / (m * (m - 1)) - 2 * sums(x, y, False) / (m * m)


def _matrix_sums(a: torch.Tensor, b: torch.Tensor, same: bool) -> torch.Tensor:
    """sum_ij k(a_i, b_j) per subset (i != j when `same`), from the kernel matrices, a block of
    at most KERNEL_BLOCK entries at a time (small enough for the processor's cache)."""
    s, m, d = a.shape
    per = max(1, KERNEL_BLOCK // (m * b.shape[1]))  # subsets at a time
    rows = max(1, KERNEL_BLOCK // (per * b.shape[1]))  # and rows of each
    one = torch.ones((), dtype=a.dtype, device=a.device)
    totals = torch.zeros(s, dtype=a.dtype, device=a.device)
    for i in range(0, s, per):
        transposed = b[i : i + per].transpose(1, 2)
        for r in range(0, m, rows):
            totals[i : i + per] += torch.baddbmm(one, a[i : i + per, r : r + rows], transposed, alpha=1.0 / d).pow_(3).sum((1, 2))
    return totals - ((a * a).sum(2) / d + 1).pow(3).sum(1) if same else totals


def _moment_sums(a: torch.Tensor, b: torch.Tensor, same: bool) -> torch.Tensor:
    """The same sums from (g a·b + 1)^3 = g^3 (a·b)^3 + 3 g^2 (a·b)^2 + 3 g a·b + 1, g = 1/d."""
    g = 1.0 / a.shape[2]
    first = (a.sum(1) * b.sum(1)).sum(1)
    second = (torch.einsum("smi,smj->sij", a, a) * torch.einsum("smi,smj->sij", b, b)).sum((1, 2))
    third = (torch.einsum("smi,smj,smk->sijk", a, a, a) * torch.einsum("smi,smj,smk->sijk", b, b, b)).sum((1, 2, 3))
    total = g**3 * third + 3 * g**2 * second + 3 * g * first + a.shape[1] * b.shape[1]
    return total - (g * (a * a).sum(2) + 1).pow(3).sum(1) if same else total


def kernel_inception_distance(samples, test, subsets: int = SUBSETS, subset_size: int | None = None, seed: int = 0) -> dict:
    """KID of `samples` against the held-out `test` points: {"mean", "std"} of the subsets'
    unbiased MMD^2, with the number of subsets and their size."""
    fake, real = _points(samples, "samples"), _points(test, "test")
    real = _same_space(fake, real)
    draws = kid_subsets(len(real), len(fake), subsets, subset_size, seed)
    size = len(draws[0][0])
    per_chunk = max(1, CHUNK_ELEMENTS // (size * real.shape[1]))
    values = []
    for start in range(0, len(draws), per_chunk):
        chunk = draws[start : start + per_chunk]
        x = real[torch.stack([r for r, _ in chunk]).to(real.device)]
        y = fake[torch.stack([f for _, f in chunk]).to(fake.device)]
        values.append(polynomial_mmd(x, y))
    values = torch.cat(values).cpu()
    return {"mean": values.mean().item(), "std": values.std(correction=0).item(), "subsets": len(draws), "subset_size": size}


@register("kid", final_only=True, higher_is_better=False, summary=("mean",),
          rows=lambda kid: {"KID (cubic kernel; ± std over subsets)": f"{kid['mean']:.2e} ± {kid['std']:.1e}"})
def _kid(samples, test, data):
    return kernel_inception_distance(samples, test) if min(len(samples), len(test)) >= 2 else None  # None: too few points
