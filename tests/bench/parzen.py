"""Image metrics on real MNIST: the Parzen protocol's speed and exactness, its ceiling and
floor, and the domain classifier's accuracy, training time and Fréchet floor.

Run it alone (it uses every core): .venv/bin/python tests/bench/parzen.py
The data is found through $GENLAB_MNIST_DIR, else ../shared/data/mnist beside the repository.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from pathlib import Path

import torch

from genlab.data.mnist import MNIST
from genlab.metrics.classifier import ClassifierConfig, class_coverage, load_or_train
from genlab.metrics.frechet import frechet_reference
from genlab.metrics.parzen import SIGMAS, parzen_log_likelihood, parzen_reference, parzen_report
from machine_table import print_table  # tests/bench/machine_table.py, beside this script

ROOT = Path(os.environ.get("GENLAB_MNIST_DIR") or Path(__file__).resolve().parents[2].parent / "shared/data/mnist")
SUBSET = 1000  # test points for the float32 / float64 comparison


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def naive_float32(centres, x, sigma):
    """The float32 matrix-product distances that parzen.py does not use, for the record."""
    mean = centres.mean(0)
    c, q = centres - mean, x - mean
    squared = ((q * q).sum(1)[:, None] + (c * c).sum(1)[None, :] - 2 * q @ c.T).clamp(min=0)
    norm = math.log(len(c)) + c.shape[1] * math.log(sigma * math.sqrt(2 * math.pi))
    return torch.logsumexp(-squared / (2 * sigma**2), 1).double() - norm


def main():
    rows, load_before = [], os.getloadavg()[0]
    data = MNIST(root=ROOT)
    generator = torch.Generator().manual_seed(0)
    centres = data.train[torch.randperm(len(data.train), generator=generator)[:10_000]]

    one, one_seconds = timed(parzen_log_likelihood, centres, data.validation, [0.2])
    grid, grid_seconds = timed(parzen_log_likelihood, centres, data.validation, SIGMAS)
    rows.append(("Parzen, one sigma, 10k validation x 10k centres", f"{one_seconds:.1f} s"))
    rows.append(("Parzen, 10-sigma grid, same", f"{grid_seconds:.1f} s ({grid_seconds / one_seconds:.2f}x one sigma)"))

    report, protocol_seconds = timed(parzen_report, centres, data.validation, data.test)
    rows.append(("Parzen protocol (select on validation, score test)", f"{protocol_seconds:.1f} s"))

    subset = data.test[:SUBSET]
    single = parzen_log_likelihood(centres, subset)
    double = parzen_log_likelihood(centres.double(), subset.double())
    error = (single - double).abs().max(1).values
    rows.append((f"float32 vs float64, max over {SUBSET} test points and 10 sigmas", f"{error.max():.1e} nats"))
    naive = (naive_float32(centres, subset, SIGMAS[0]) - double[0]).abs().max().item()
    rows.append(("(float32 matrix-product distances instead, sigma 0.1)", f"{naive:.1e} nats"))

    reference, reference_seconds = timed(parzen_reference, data.train, data.validation, data.test)
    for name, key in [("ceiling (10k random training images)", "ceiling"), ("floor (10k uniform-noise images)", "floor")]:
        result = reference[key]
        rows.append((f"Parzen {name}", f"{result['mean']:.1f} ± {result['standard_error']:.1f} nats, sigma {result['sigma']:.3f}"))
    rows.append(("Parzen ceiling + floor", f"{reference_seconds:.1f} s"))

    with tempfile.TemporaryDirectory() as folder:  # a fresh folder, so the classifier really trains
        splits = data.train, data.train_labels, data.test, data.test_labels
        network, train_seconds = timed(load_or_train, *splits, folder, ClassifierConfig())
    rows.append(("classifier test accuracy (default config)", f"{100 * network.accuracy:.2f}%"))
    rows.append(("classifier training, 50k images, 2 epochs", f"{train_seconds:.0f} s"))
    floor, fd_seconds = timed(frechet_reference, network, data.train, data.test)
    rows.append(("Fréchet floor: 10k random training images vs test", f"{floor:.3f} ({fd_seconds:.1f} s)"))
    coverage = class_coverage(network.predict(data.test))
    entropy = f"entropy {coverage['entropy']:.4f} of {math.log(10):.4f}"
    rows.append(("class coverage of the test images", f"{coverage['classes_covered']}/10, {entropy}"))

    # Other work on the machine slows every timing here a lot (torch's threads wait for busy cores).
    print_table("Image metrics on MNIST", rows, load_before)
    print("\nvalidation means by sigma (10k training images as centres): "
          + ", ".join(f"{s:.3f}: {m:.1f}" for s, m in zip(report["sigmas"], report["validation_means"])))


if __name__ == "__main__":
    main()
