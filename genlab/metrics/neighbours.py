"""Nearest-neighbour distances by blocked matrix products, for the k-NN sample metrics
(precision/recall, density/coverage: genlab.metrics.fidelity; memorization).

Every function takes float64 (n, d) tensors and works a block of rows at a time, so no
distance matrix larger than BLOCK_ELEMENTS is ever held: 10,000 x 10,000 points in
64 dimensions is a few passes of 32 MB blocks. Distances are Euclidean, from the squared
distances of genlab.metrics.samples (a matrix product about the block's centre, clamped at
0), as the `prdc` package computes them with scikit-learn; balls are compared in squared
distances (the same order), and only the results are square-rooted.
"""

from __future__ import annotations

import torch

from genlab.errors import ConfigError
from genlab.metrics.samples import BLOCK_ELEMENTS, _squared_distances


def check_k(k, n: int, name: str = "k", points: str = "points") -> int:
    """`k` as a positive integer smaller than `n`, the number of `points` (a k-th neighbour
    other than the point itself must exist), else one line naming `name`."""
    if isinstance(k, bool) or not isinstance(k, int) and not (isinstance(k, float) and k.is_integer()) or k < 1:
        raise ConfigError(f"{name} must be a positive integer (got {k!r})")
    if k >= n:
        raise ConfigError(f"{name} must be smaller than the number of {points} (got {name}={int(k)} for {n} {points})")
    return int(k)


def _rows(columns: int) -> int:
    return max(1, BLOCK_ELEMENTS // max(1, columns))


def kth_neighbour_distances(x: torch.Tensor, k: int) -> torch.Tensor:
    """Each point's distance to its k-th nearest neighbour in `x`, itself excluded: the radius
    of its k-NN ball. As prdc: the largest of the k + 1 smallest distances of its row, the
    point's own distance (set to 0) among them, so a duplicate of a point counts as a
    neighbour at distance 0."""
    k = check_k(k, len(x))
    return neighbour_radii(x, [k])[k].sqrt()


def neighbour_radii(x: torch.Tensor, ks) -> dict[int, torch.Tensor]:
    """{k: each point's SQUARED distance to its k-th nearest neighbour in x} for several k at
    once (one pass: the k + 1 smallest of each row, for the largest k)."""
    ks = sorted({check_k(k, len(x)) for k in ks})
    out = {k: torch.empty(len(x), dtype=x.dtype, device=x.device) for k in ks}
    rows = _rows(len(x))
    for start in range(0, len(x), rows):
        block = _squared_distances(x[start : start + rows], x)
        index = torch.arange(len(block), device=x.device)
        block[index, start + index] = 0.0
        smallest = block.topk(ks[-1] + 1, dim=1, largest=False).values  # sorted: the point itself first
        for k in ks:
            out[k][start : start + rows] = smallest[:, k]
    return out


def ball_counts(real: torch.Tensor, fake: torch.Tensor, real_radii: dict[int, torch.Tensor],
                fake_radii: dict[int, torch.Tensor] | None = None) -> dict:
    """One pass over the real x fake distances, a block of real points at a time, with the
    SQUARED radii of neighbour_radii:

    - `real_balls` {k: per fake point, how many real k-NN balls contain it, |r - f| < radius(r)};
    - `nearest_fake` (per real point): the squared distance to its nearest fake point;
    - `fake_balls` {k: per real point, how many fake balls contain it} (given fake_radii).

    The inequalities are strict, as in prdc."""
    fake_radii = fake_radii or {}
    real_balls = {k: torch.zeros(len(fake), dtype=torch.int64, device=real.device) for k in real_radii}
    fake_balls = {k: torch.empty(len(real), dtype=torch.int64, device=real.device) for k in fake_radii}
    nearest_fake = torch.empty(len(real), dtype=real.dtype, device=real.device)
    rows = _rows(len(fake))
    for start in range(0, len(real), rows):
        block = _squared_distances(real[start : start + rows], fake)
        for k, radii in real_radii.items():  # (summing bytes is several times faster than summing bools)
            real_balls[k] += (block < radii[start : start + rows, None]).view(torch.uint8).sum(0, dtype=torch.int32)
        for k, radii in fake_radii.items():
            fake_balls[k][start : start + rows] = (block < radii[None, :]).view(torch.uint8).sum(1, dtype=torch.int32)
        nearest_fake[start : start + rows] = block.amin(1)
    return {"real_balls": real_balls, "fake_balls": fake_balls, "nearest_fake": nearest_fake}


def nearest_distances(x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Each point's distance to its nearest reference point."""
    nearest = torch.empty(len(x), dtype=x.dtype, device=x.device)
    rows = _rows(len(reference))
    for start in range(0, len(x), rows):
        nearest[start : start + rows] = _squared_distances(x[start : start + rows], reference).amin(1)
    return nearest.sqrt_()
