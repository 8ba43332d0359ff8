"""A small CNN that tells MNIST digits apart: the "domain classifier" of the image metrics.

Image GAN papers judge samples through a classifier trained on the real data. Its
predicted classes show which digits a model draws (class coverage), and its
penultimate activations are the features for the Fréchet distance (FID, with an MNIST
network in place of Inception) and for the sample metrics FEATURE_METRICS (precision/recall,
density/coverage, KID, memorization; measured by genlab.evaluation.references). The network is trained once and cached. The cache file
name holds a hash of the training config and of the data, so a changed config or
changed data retrains instead of reusing a stale network. The file holds only
tensors and plain values, so it loads with `torch.load(weights_only=True)`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from genlab.io import atomic_write
from genlab.errors import ConfigError, check_finite_tensor, check_positive
from genlab.metrics.registry import IMAGES, Metric, add, metrics

FORMAT = "genlab-classifier-1"
SIDE = 28  # MNIST images are 28 x 28, flattened to 784
PIXEL_MEAN, PIXEL_STD = 0.1307, 0.3081  # of the MNIST training pixels; standardized inputs train faster
N_CLASSES = 10
BATCH_INFERENCE = 1000

log = logging.getLogger("genlab")


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything that shapes the trained network. A change here gives a new cache file."""

    channels: tuple[int, int] = (32, 64)  # the two 3x3 conv layers, each followed by a 2x2 max-pool
    hidden: int = 128  # the penultimate layer, whose activations are the features
    epochs: int = 2
    batch_size: int = 128
    lr: float = 3e-3  # Adam's initial rate, decayed linearly to 0
    seed: int = 0
    n_train: int | None = None  # a seeded random subset of the training images; None: all of them

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(check_positive("channels", c, integer=True) for c in self.channels))
        if len(self.channels) != 2:
            raise ConfigError(f"channels must hold two widths (got {self.channels})")
        check_positive("hidden", self.hidden, integer=True)
        check_positive("epochs", self.epochs, integer=True)
        check_positive("batch_size", self.batch_size, integer=True)
        check_positive("lr", self.lr)
        if self.n_train is not None:
            check_positive("n_train", self.n_train, integer=True)


class DomainClassifier:
    """A trained network with the views the metrics need. The network is always in eval mode."""

    def __init__(self, net: nn.Module, config: ClassifierConfig, accuracy: float, trained: bool, path: Path | None = None):
        self.net = net.eval()
        self.config = config
        self.accuracy = accuracy  # on the test images given at training time
        self.trained = trained  # True when this call trained it; False when it came from the cache
        self.path = path

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations, (n, hidden): the features for the Fréchet distance."""
        return torch.cat([self.net.body(batch) for batch in _images(x, "x").split(BATCH_INFERENCE)])

    @torch.no_grad()
    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.net(batch).softmax(1) for batch in _images(x, "x").split(BATCH_INFERENCE)])

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.probabilities(x).argmax(1)

    @torch.no_grad()
    def predict_features(self, features: torch.Tensor) -> torch.Tensor:
        """The classes of images from their `features` (the network's last layer on them): predict
        without a second pass through the convolutions."""
        return self.net.head(torch.as_tensor(features).detach().cpu().float()).argmax(1)


def load_or_train(train_x, train_y, test_x, test_y, folder, config: ClassifierConfig = ClassifierConfig()) -> DomainClassifier:
    """Load the network for this config and data from `folder`, or train and cache it there.

    A cache file that cannot be read or does not match is not trusted: the network is
    retrained and the file is replaced.
    """
    train_x, test_x = _images(train_x, "train_x"), _images(test_x, "test_x")
    train_y, test_y = _labels(train_y, "train_y", len(train_x)), _labels(test_y, "test_y", len(test_x))
    key = cache_key(config, train_x, train_y, test_x, test_y)
    path = Path(folder) / f"mnist-cnn-{key}.pt"
    if path.exists():
        try:
            net, accuracy = _load(path, config, key)
            log.info("reused the domain classifier %s (test accuracy %.2f%%)", path, 100 * accuracy)
            return DomainClassifier(net, config, accuracy, trained=False, path=path)
        except Exception as error:  # a torn or foreign file: train again rather than trust it
            log.warning("retraining the domain classifier: %s is unusable (%s)", path, error)
    start = time.perf_counter()
    net = train_network(train_x, train_y, config)
    seconds = time.perf_counter() - start
    classifier = DomainClassifier(net, config, accuracy=math.nan, trained=True, path=path)
    classifier.accuracy = (classifier.predict(test_x) == test_y).double().mean().item()
    state = {"format": FORMAT, "key": key, "config": asdict(config), "state_dict": net.state_dict(),
             "accuracy": classifier.accuracy, "training_seconds": seconds}
    atomic_write(path, lambda handle: torch.save(state, handle))
    log.info("trained the domain classifier in %.0f s: test accuracy %.2f%%, cached at %s", seconds, 100 * classifier.accuracy, path)
    return classifier


def train_network(x: torch.Tensor, y: torch.Tensor, config: ClassifierConfig) -> nn.Module:
    """Adam on shuffled minibatches, with the rate decayed linearly to 0 so the last steps settle.
    Initialisation, subset and order all come from config.seed."""
    generator = torch.Generator().manual_seed(config.seed)
    if config.n_train is not None:
        if config.n_train > len(x):
            raise ConfigError(f"n_train must be at most the {len(x)} training images (got {config.n_train})")
        subset = torch.randperm(len(x), generator=generator)[: config.n_train]
        x, y = x[subset], y[subset]
    with torch.random.fork_rng(devices=[]):  # the caller's global RNG stays untouched
        torch.manual_seed(config.seed)
        net = _Net(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    steps, step = config.epochs * math.ceil(len(x) / config.batch_size), 0
    net.train()
    for _ in range(config.epochs):
        for batch in torch.randperm(len(x), generator=generator).split(config.batch_size):
            optimizer.param_groups[0]["lr"] = config.lr * (1 - step / steps)
            step += 1
            loss = nn.functional.cross_entropy(net(x[batch]), y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net.eval()


def cache_key(config: ClassifierConfig, *tensors: torch.Tensor) -> str:
    """A short hash of the config and of the exact bytes of the data."""
    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode())
    for tensor in tensors:
        digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def class_coverage(predictions: torch.Tensor, n_classes: int = N_CLASSES, min_fraction: float = 0.01) -> dict:
    """How evenly the samples spread over the classes.

    `predictions` holds labels (n,) or class probabilities (n, n_classes). A sample counts
    for its most likely class. The entropy of the histogram is in nats, at most
    ln(n_classes) (2.303 for digits). A class is covered when at least `min_fraction` of
    the samples fall in it.
    """
    n_classes = check_positive("n_classes", n_classes, integer=True)
    predictions = torch.as_tensor(predictions).detach().cpu()
    if predictions.dim() == 2:
        if predictions.shape[1] != n_classes:
            raise ConfigError(f"predictions must have {n_classes} columns of probabilities (got {predictions.shape[1]})")
        predictions = predictions.argmax(1)
    if predictions.dim() != 1 or len(predictions) == 0 or predictions.is_floating_point():
        raise ConfigError(f"predictions must be non-empty integer labels (n,) or probabilities (n, {n_classes})")
    if predictions.min() < 0 or predictions.max() >= n_classes:
        raise ConfigError(f"predictions must be labels in 0..{n_classes - 1} (got {predictions.min()}..{predictions.max()})")
    histogram = torch.bincount(predictions, minlength=n_classes).double() / len(predictions)
    nonzero = histogram[histogram > 0]
    return {
        "histogram": histogram.tolist(),
        "entropy": -(nonzero * nonzero.log()).sum().item(),
        "max_entropy": math.log(n_classes),
        "classes_covered": int((histogram >= min_fraction).sum()),
        "n_samples": len(predictions),
    }


# -- helpers -------------------------------------------------------------------------------


# The sample metrics (genlab.metrics.fidelity, kid, memorization) that an image run measures on the
# classifier's features: metrics.json's classifier.<name> (and references.<row>.<name>).
FEATURE_METRICS = ("precision_recall", "density_coverage", "kid", "memorization")


def _report_rows(report: dict) -> dict[str, str]:
    """The Fréchet distance, and the class coverage and the feature metrics where the report has
    them (the real training images' reference has only the Fréchet floor), each printed by its
    registered sample metric's rows."""
    rows = {"Fréchet distance in classifier features": f"{report['frechet_distance']:.2f}"}
    if "coverage" in report:
        coverage = report["coverage"]
        rows["classes with >= 1% of samples; entropy"] = f"{coverage['classes_covered']}; {coverage['entropy']:.3f} (max {coverage['max_entropy']:.3f})"
    registered = {metric.name: metric for metric in metrics()}
    for name in FEATURE_METRICS:
        if report.get(name) is not None:  # None: too few images for it
            rows.update(registered[name].rows(report[name]))
    return rows


# Measured by genlab.evaluation.images (metrics.json's `classifier`); printed here.
add(Metric("classifier", kind=IMAGES, rows=_report_rows, higher_is_better=False, summary=("frechet_distance",)))


class _Standardize(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - PIXEL_MEAN) / PIXEL_STD


class _Net(nn.Module):
    """conv 3x3 - ReLU - max-pool, twice, then a ReLU layer of `hidden` units (the features)."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        c1, c2 = config.channels
        self.body = nn.Sequential(
            _Standardize(), nn.Unflatten(1, (1, SIDE, SIDE)),
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(c2 * (SIDE // 4) ** 2, config.hidden), nn.ReLU(),
        )
        self.head = nn.Linear(config.hidden, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _load(path: Path, config: ClassifierConfig, key: str) -> tuple[nn.Module, float]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("key") != key:
        raise ValueError(f"not a {FORMAT} file for key {key}")
    net = _Net(config)
    net.load_state_dict(state["state_dict"])
    return net.eval(), float(state["accuracy"])


def _images(x, name: str) -> torch.Tensor:
    x = torch.as_tensor(x).detach().cpu()
    if x.dim() != 2 or x.shape[1] != SIDE * SIDE or len(x) == 0:
        raise ConfigError(f"{name} must be a non-empty (n, {SIDE * SIDE}) tensor of flattened images (got shape {tuple(x.shape)})")
    if not x.is_floating_point():
        raise ConfigError(f"{name} must hold floating-point pixels in [0, 1] (got {x.dtype})")
    return check_finite_tensor(name, x.float())


def _labels(y, name: str, n: int) -> torch.Tensor:
    y = torch.as_tensor(y).detach().cpu()
    if y.shape != (n,) or y.is_floating_point() or y.min() < 0 or y.max() >= N_CLASSES:
        raise ConfigError(f"{name} must hold {n} integer labels in 0..{N_CLASSES - 1}")
    return y.long()
