"""The final-only sample metrics on 10,000 samples vs 10,000 held-out points of 64-dimensional
features (and 10,000 training points): their time, and their agreement with the reference
implementations on the same features.

- precision, recall, density and coverage against the authors' `prdc` (float64 distances):
  identical values;
- KID against torchmetrics' own `poly_mmd` on the same subsets (genlab.metrics.kid.kid_subsets,
  torchmetrics' way of drawing them): within 1e-6;
- C_T against the authors' data-copying code path (scipy's Mann-Whitney U, scikit-learn's
  nearest neighbours per cell), on genlab's cells.

Run it alone (it uses every core): .venv/bin/python tests/bench/sample_metrics.py
Needs the bench extra (prdc, torchmetrics). Exits 1 when a value disagrees; times are printed,
never asserted (the goal: all five metrics together within 10 s here).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import time

import numpy as np
import torch

from genlab.metrics import classifier_two_sample_test, data_copying, density_coverage, kernel_inception_distance, precision_recall
from genlab.metrics.kid import kid_subsets
from genlab.metrics.memorization import cell_of, kmeans
from machine_table import print_table  # tests/bench/machine_table.py, beside this script

N, DIM, MODES = 10_000, 64, 10


def features(n: int, generator: torch.Generator, means: torch.Tensor, modes: int = MODES, scale: float = 1.0) -> torch.Tensor:
    """Classifier-like features: a mixture of Gaussians in 64 dimensions, `modes` of the means used."""
    labels = torch.randint(modes, (n,), generator=generator)
    return means[labels] + scale * torch.randn(n, DIM, generator=generator, dtype=torch.float64)


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> int:
    load_before = os.getloadavg()[0]
    generator = torch.Generator().manual_seed(0)
    means = 4 * torch.randn(MODES, DIM, generator=generator, dtype=torch.float64)
    train, test = features(N, generator, means), features(N, generator, means)
    fake = features(N, generator, means, modes=MODES - 2, scale=1.1)  # two modes dropped, a little wider

    rows, ok, total = [], True, 0.0
    ours = {}
    for name, function, args in [("precision_recall", precision_recall, (fake, test)), ("density_coverage", density_coverage, (fake, test)),
                                 ("kid", kernel_inception_distance, (fake, test)), ("c2st", classifier_two_sample_test, (fake, test)),
                                 ("memorization", data_copying, (fake, test, train))]:
        ours[name], seconds = timed(function, *args)
        total += seconds
        rows.append((f"{name} ({N:,} vs {N:,}, {DIM} dims)", f"{seconds:.2f} s"))
    rows.append(("all five together", f"{total:.2f} s ({'within' if total <= 10 else 'OVER'} the 10 s goal)"))

    try:
        import prdc
        import scipy.stats
        import sklearn.neighbors
        from torchmetrics.image.kid import poly_mmd
    except ImportError as error:
        print(f"the reference implementations are missing ({error}): pip install -e '.[bench]'", file=sys.stderr)
        return 1

    for k, keys, name in ((3, ("precision", "recall"), "precision_recall"), (5, ("density", "coverage"), "density_coverage")):
        with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the sizes
            theirs, seconds = timed(prdc.compute_prdc, test.numpy(), fake.numpy(), k)
        for key in keys:
            same = ours[name][key] == float(theirs[key])
            ok &= same
            rows.append((f"{key} (k={k}): genlab vs prdc ({seconds:.0f} s)", f"{ours[name][key]:.6f} vs {float(theirs[key]):.6f}: {'identical' if same else 'DIFFERENT'}"))

    draws = kid_subsets(len(test), len(fake))
    theirs = torch.stack([poly_mmd(test[r], fake[f]) for r, f in draws])
    for key, value in (("mean", theirs.mean().item()), ("std", theirs.std(unbiased=False).item())):
        error = abs(ours["kid"][key] - value)
        ok &= error <= 1e-6
        rows.append((f"KID {key}: genlab vs torchmetrics' poly_mmd, same subsets", f"{ours['kid'][key]:.6e} vs {value:.6e}: difference {error:.1e}"))

    centres = kmeans(train, 10)
    cells = [cell_of(x, centres).numpy() for x in (train, fake, test)]
    weights, scores = [], []
    for c in range(len(centres)):
        t, q, p = train.numpy()[cells[0] == c], fake.numpy()[cells[1] == c], test.numpy()[cells[2] == c]
        if len(q) < 20 or len(p) == 0:
            continue
        neighbours = sklearn.neighbors.NearestNeighbors(n_neighbors=1).fit(t)
        u = scipy.stats.mannwhitneyu(neighbours.kneighbors(q)[0][:, 0], neighbours.kneighbors(p)[0][:, 0], alternative="less").statistic
        m, n = len(q), len(p)
        scores.append((u - (n * m / 2 - 0.5)) / math.sqrt(n * m * (n + m + 1) / 12))
        weights.append(n / len(test))
    reference = float(np.dot(weights, scores) / sum(weights))
    close = math.isclose(ours["memorization"]["c_t"], reference, rel_tol=1e-9)
    ok &= close
    rows.append(("C_T: genlab vs the authors' code path (scipy U, sklearn neighbours)", f"{ours['memorization']['c_t']:.6f} vs {reference:.6f}: {'agree' if close else 'DIFFERENT'}"))
    rows.append(("C2ST accuracy (two modes dropped, 10% wider)", f"{ours['c2st']['accuracy']:.3f} ± {ours['c2st']['standard_error']:.3f}"))

    print_table("Final-only sample metrics", rows, load_before)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
