"""Does the model copy its training set? The data-copying statistic C_T of Meehan, Chaudhuri
and Dasgupta (AISTATS 2020), and the share of samples nearer the training set than a typical
held-out point.

C_T, as the authors' code (github.com/casey-meehan/data-copying, `C_T`) computes it:

1. the space is cut into cells by k-means on the TRAINING set (`cells` = 10, seeded k-means++
   then Lloyd's; every point belongs to the cell of its nearest centre);
2. in each cell, the distance of each sample and of each held-out test point to its nearest
   training point of that cell; the Mann-Whitney U of the samples' distances against the
   test points' (pairs where the sample is farther, ties counting 1/2), z-scored under the null
   hypothesis: Z = (U - mn/2 + 1/2) / sqrt(m n (m + n + 1) / 12) (the authors' continuity
   correction for the lower tail; no tie correction), m samples and n test points in the cell;
3. C_T = the average of the cells' Z weighted by each cell's share of the test points, over
   the cells with at least `min_samples` = 20 samples. The cut-off is the paper's
   tau = 20 / m (the share of the samples a cell needs; the authors' code compares
   Q_m(cell) > tau, here a cell needs 20 samples or more); cells without test points have weight
   0 and are left out too.

C_T << 0 (in cell-level z units) means the samples lie nearer the training points than
fresh data does: copying; C_T >> 0, farther: underfitting; about 0 for a model that generalizes.
`c_t_null_std`, sqrt(sum w^2) of the normalized weights, is its spread under the null (each
Z about N(0, 1)): |C_T| within 2 of it is no evidence either way. `c_t` is None when no cell
has enough samples (then `cells_used` is 0).

`nearer_share`: the share of samples whose nearest training point (over the whole training
set) is nearer than the median held-out point's is: about 0.5 for a model that does not copy
(samples distributed as fresh data; exactly 0.5 in expectation for equal numbers of samples
and held-out points), 1 for one that returns training points. Its standard error is
binomial (the median's own noise left out).

What fools them: copies displaced by more than the typical gap between training points
(noise added to memorized points) read as generalization; a model that only misses the data
(mode dropping) can still score 0. Dropped cells (a collapsed model's empty regions) say
nothing about copying there.
"""

from __future__ import annotations

import math

import torch

from genlab.errors import ConfigError, check_positive
from genlab.metrics.neighbours import nearest_distances
from genlab.metrics.registry import register
from genlab.metrics.samples import _points, _same_space, _squared_distances

CELLS = 10  # k-means cells of the training set
MIN_SAMPLES = 20  # the paper's tau = 20 / m: samples a cell needs to count
LLOYD_ITERATIONS = 100


def kmeans(x: torch.Tensor, k: int, seed: int = 0, iterations: int = LLOYD_ITERATIONS) -> torch.Tensor:
    """k-means centres of `x` (float64, (n, d)): k-means++ seeding (Arthur & Vassilvitskii
    2007) from a generator seeded with `seed`, then Lloyd's iterations until no point changes
    cell (at most `iterations`). Centres left without points are dropped, so at most k return."""
    k = min(check_positive("cells", k, integer=True), len(x))
    generator = torch.Generator().manual_seed(seed)
    centres = x[torch.randint(len(x), (1,), generator=generator)]
    nearest = _squared_distances(x, centres)[:, 0]
    for _ in range(1, k):
        if not nearest.sum() > 0:
            break  # fewer distinct points than cells
        pick = torch.multinomial(nearest.cpu(), 1, generator=generator).to(x.device)
        centres = torch.cat([centres, x[pick]])
        nearest = torch.minimum(nearest, _squared_distances(x, x[pick])[:, 0])
    labels = None
    for _ in range(iterations):
        new = _squared_distances(x, centres).argmin(1)
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        counts = torch.bincount(labels, minlength=len(centres))
        sums = torch.zeros_like(centres).index_add_(0, labels, x)
        filled = counts > 0
        centres = torch.where(filled[:, None], sums / counts.clamp_min(1)[:, None].to(x.dtype), centres)
    return centres[torch.bincount(_squared_distances(x, centres).argmin(1), minlength=len(centres)) > 0]


def cell_of(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """The cell (index of the nearest centre) of each point."""
    return torch.cat([_squared_distances(block, centres).argmin(1) for block in x.split(2**16)])


def mann_whitney_z(a: torch.Tensor, b: torch.Tensor) -> float:
    """Z-scored Mann-Whitney U of `a` against `b` (U: pairs with a > b, ties 1/2), as the
    data-copying code z-scores it (continuity correction 1/2, no tie correction): < 0 when
    `a` tends to be smaller."""
    m, n = len(a), len(b)
    ordered = b.sort().values
    below, not_above = torch.searchsorted(ordered, a), torch.searchsorted(ordered, a, right=True)
    u = (below.double() + 0.5 * (not_above - below).double()).sum().item()
    return (u - (m * n / 2 - 0.5)) / math.sqrt(m * n * (m + n + 1) / 12)


def data_copying(samples, test, train, cells: int = CELLS, min_samples: int = MIN_SAMPLES, seed: int = 0) -> dict:
    """C_T (Meehan et al. 2020) of `samples` against the held-out `test` points, with cells
    from k-means of `train`, and the share of samples nearer the training set than the
    median test point: see the module's docstring."""
    min_samples = check_positive("min_samples", min_samples, integer=True)
    samples, test, train = _points(samples, "samples"), _points(test, "test"), _points(train, "train")
    test, train = _same_space(samples, test), _same_space(samples, train)
    if len(test) < 2:
        raise ConfigError(f"the memorization test needs at least 2 test points (got {len(test)})")
    centres = kmeans(train, cells, seed)
    train_cells, sample_cells, test_cells = cell_of(train, centres), cell_of(samples, centres), cell_of(test, centres)
    weights, scores = [], []
    for cell in range(len(centres)):
        in_samples, in_test = samples[sample_cells == cell], test[test_cells == cell]
        if len(in_samples) >= min_samples and len(in_test):
            cell_train = train[train_cells == cell]  # the nearest training point within the cell, as the authors' code
            weights.append(len(in_test) / len(test))
            scores.append(mann_whitney_z(nearest_distances(in_samples, cell_train), nearest_distances(in_test, cell_train)))
    total = sum(weights)
    median = nearest_distances(test, train).quantile(0.5)
    share = (nearest_distances(samples, train) < median).double().mean().item()
    return {
        "c_t": sum(w * z for w, z in zip(weights, scores)) / total if weights else None,
        "c_t_null_std": math.sqrt(sum(w * w for w in weights)) / total if weights else None,
        "cells": len(centres),
        "cells_used": len(weights),
        "nearer_share": share,
        "nearer_share_standard_error": math.sqrt(share * (1 - share) / len(samples)),
    }


def _rows(value: dict) -> dict[str, str]:
    c_t = "-" if value["c_t"] is None else f"{value['c_t']:.2f} ± {value['c_t_null_std']:.2f}"
    return {"data-copying C_T (<< 0: copies; ± its null spread)": c_t,
            "samples nearer the training set than the median test point (0.5)": f"{value['nearer_share']:.3f} ± {value['nearer_share_standard_error']:.3f}"}


@register("memorization", final_only=True, summary=("c_t",), rows=_rows, applies=lambda data: data.train is not data.test)
def _memorization(samples, test, data):
    return data_copying(samples, test, data.train) if len(test) >= 2 else None  # None: too few points
