"""Reference rows beside a point run's model: real data (genlab.metrics.samples'
real_data_quality, the `real_data` row) and samples that show what fools each metric.

Each is scored by every sample metric (final ones included) against the same held-out
points as the model, and printed beside it in the run's final table (metrics.json's
samples.<row>):

- `memorizer`: training points themselves (n of them, at random, or all when there are
  fewer): the trivial optimum of any metric that compares samples with data only;
- `mode_dropped` (data with modes only): fresh real points whose nearest mode is in the
  first half of the data's modes (4 of 8gaussians' 8, 12 of 25gaussians' 25);
- `blurred`: fresh real points plus Gaussian noise with 10% of each coordinate's standard
  deviation (of the training set);
- `noise`: uniform over the training set's bounding box.

A set without fresh draws (your file) has only its held-out points: as in the real-data row,
one half of them (genlab.metrics.samples.held_out_halves) is the "fresh" data and every row is
scored against the other half, with as many points as that half (training points, too).
Everything is seeded by `seed`, and depends only on the data, n and seed: the rows (with
the real-data row) are computed once for each and cached, in this process and as JSON under
<cache>/point_references (the cache of `genlab.data.mnist.cache_dir`), keyed by a hash of
the data's points, n, seed and the registered metrics' names and source files (a changed
metric computes them again).
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
from pathlib import Path

import torch

from genlab.io import atomic_write

from genlab.metrics.registry import SAMPLES, metrics
from genlab.metrics.samples import VEEGAN_SAMPLES, _points, held_out_halves, quality_against, real_data_quality
from genlab.errors import check_positive

BLUR = 0.1  # the blurred row's noise, in standard deviations of each coordinate
ROW_SEED_OFFSET = 2_000_003  # the rows' generators: seed + this + the row's position (far from the data's own seeds)
ROWS = ("memorizer", "mode_dropped", "blurred", "noise")
FORMAT = "genlab-point-references-1"

_cache: dict[str, dict] = {}


def reference_rows(data, n: int = VEEGAN_SAMPLES, seed: int = 0, final: bool = True) -> dict[str, dict]:
    """{row: sample_quality of that row's samples} for `real_data` (real_data_quality) and the
    rows that apply to `data` (see the module's docstring); `final`: with the final-only
    metrics (as a run's table shows them)."""
    n = check_positive("n", n, integer=True)
    from genlab.data.mnist import cache_dir

    registered = metrics(SAMPLES)
    digest = hashlib.sha256(repr((FORMAT, type(data).__name__, data.name, n, seed, final,
                                  [(m.name, m.compute.__module__) for m in registered])).encode())
    for source in sorted({inspect.getsourcefile(m.compute) for m in registered} | {__file__}):
        digest.update(Path(source).read_bytes())
    for points in (data.train, data.test):
        digest.update(points.detach().cpu().contiguous().numpy().tobytes())
    key = digest.hexdigest()[:20]
    path = cache_dir() / "point_references" / f"{key}.json"
    if key not in _cache:
        try:
            _cache[key] = json.loads(path.read_text())
        except (OSError, ValueError):  # none yet, or unreadable: compute again
            samples, test = reference_samples(data, n, seed)
            _cache[key] = {"real_data": real_data_quality(data, n, seed, final),
                           **{name: quality_against(rows, test, data, final) for name, rows in samples.items()}}
            try:  # Python's JSON keeps inf and NaN: this file is genlab's own cache, not a report
                atomic_write(path, lambda handle: handle.write(json.dumps(_cache[key]).encode()))
            except OSError:
                pass  # a read-only cache costs only the time to compute them again
    return copy.deepcopy(_cache[key])


reference_rows.cache_clear = _cache.clear  # as functools' caches: forget the rows held here


def reference_samples(data, n: int = VEEGAN_SAMPLES, seed: int = 0) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The rows' samples (float64, CPU) and the held-out points they are scored against."""
    generators = [torch.Generator().manual_seed(seed + ROW_SEED_OFFSET + i) for i in range(len(ROWS))]
    train = _points(data.train, "data.train").cpu()
    if data.can_draw:
        test = _points(data.test, "data.test").cpu()
        fresh = lambda m, generator: data.sample(m, generator).double().cpu().reshape(m, data.dim)
    else:
        half, test = held_out_halves(data, seed)
        n = len(half)
        fresh = lambda m, generator: half[torch.randperm(len(half), generator=generator)[:m]]
    rows = {"memorizer": train[torch.randperm(len(train), generator=generators[0])[:n]]}
    if data.has_modes:
        rows["mode_dropped"] = _first_modes(data, fresh, n, generators[1])
    std = train.std(0, correction=0)
    rows["blurred"] = fresh(n, generators[2]) + BLUR * std * torch.randn(n, data.dim, generator=generators[2], dtype=torch.float64)
    low, high = train.min(0).values, train.max(0).values
    rows["noise"] = low + (high - low) * torch.rand(n, data.dim, generator=generators[3], dtype=torch.float64)
    return rows, test


def _first_modes(data, fresh, n: int, generator: torch.Generator, rounds: int = 100) -> torch.Tensor:
    """Up to n fresh points whose nearest mode is one of the first half of the data's modes."""
    modes = torch.as_tensor(data.modes, dtype=torch.float64).cpu().reshape(-1, data.dim)
    kept, count = [], 0
    for _ in range(rounds):
        draw = fresh(2 * n, generator)
        keep = draw[torch.cdist(draw, modes).argmin(1) < len(modes) // 2]
        kept.append(keep)
        count += len(keep)
        if count >= n or not data.can_draw:  # the held-out half is all there is
            break
    return torch.cat(kept)[:n]
