"""The domain classifier and the reference numbers of image runs, each computed once.

A model's Parzen log-likelihood, Fréchet distance, class coverage and the sample metrics on
the classifier's features (precision/recall, density/coverage, KID, memorization: the
`FEATURE_METRICS` of genlab.metrics.classifier) read only beside the same numbers for
reference samples that show what each number rewards:

- `real_train_images`: the Parzen ceiling (real training images as centres, binarized like
  the data) and the Fréchet floor (a random subset of real training images);
- `real_held_out_images`: validation images, never trained on: what a model that draws real
  digits without copying scores (C_T about 0, nearer-share about 0.5);
- `memorizer`: training images themselves, the trivial optimum of any metric that compares
  samples with data only (nearer-share 1, C_T far below 0);
- `mode_dropped` (data with validation labels only): validation images of the classes 0-4;
- `blurred`: the held-out images plus Gaussian noise of BLUR (10%) of each pixel's standard
  deviation over the training images, clipped to [0, 1];
- `uniform_noise`: uniform pixels in [0, 1] (the Parzen floor, and the feature metrics' noise).

Each row but the first has the class coverage, the Fréchet distance and the feature metrics
(`uniform_noise` also the Parzen floor). The feature metrics all compare with the test images'
features, and memorization with the features of a seeded subset of the training images as
the model saw them (`MEMORIZATION_TRAIN`, the memorizer's images among them): the features
of the test and training images are computed once per run (`FeatureSpace`), those of each row
once. The rows take minutes, depend only on the data settings and the evaluation subsets, and
so are cached as JSON under <cache>/references (the cache of `genlab.data.mnist.cache_dir`),
keyed by a hash of exactly those inputs. The classifier is cached by `genlab.metrics.classifier`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from types import SimpleNamespace

import torch

from genlab.io import write_json
from genlab.data.mnist import cache_dir
from genlab.metrics import fidelity, kid, memorization
from genlab.metrics.classifier import FEATURE_METRICS, N_CLASSES, ClassifierConfig, DomainClassifier, class_coverage, load_or_train
from genlab.metrics.frechet import frechet_distance, frechet_reference
from genlab.metrics.parzen import parzen_reference
from genlab.metrics.reference_rows import BLUR
from genlab.metrics.registry import SAMPLES, metrics

log = logging.getLogger("genlab")
FORMAT = "genlab-image-references-2"
REFERENCE_SEED = 31337  # the subsets of real images and the noise, the same for every run
BINARIZE_SEED = 4242  # training images binarized once for the references of binarized data
CLASSIFIER = ClassifierConfig()  # the domain classifier of every image run
MEMORIZATION_TRAIN = 10_000  # training images the memorization test compares with (at least n_eval; all when fewer)
KEPT_CLASSES = N_CLASSES // 2  # the mode-dropped row keeps the classes 0..4
ROWS = ("real_train_images", "real_held_out_images", "memorizer", "mode_dropped", "blurred", "uniform_noise")
# What the feature rows' numbers depend on besides the images: a change gives a new cache file.
SETTINGS = {"precision_recall_k": fidelity.PRECISION_RECALL_K, "density_coverage_k": fidelity.DENSITY_COVERAGE_K,
            "kid": [kid.SUBSETS, kid.SUBSET_SIZE], "cells": [memorization.CELLS, memorization.MIN_SAMPLES],
            "blur": BLUR, "memorization_train": MEMORIZATION_TRAIN, "kept_classes": KEPT_CLASSES, "metrics": FEATURE_METRICS}


_classifiers: dict = {}  # one per image set (its cache_key) and process


def domain_classifier(data):
    """The classifier of `data`'s grey images (trained once, cached on disk and here);
    the set must have labels (data.has_labels)."""
    grey = data.grey()
    if grey.cache_key not in _classifiers:
        _classifiers[grey.cache_key] = load_or_train(grey.train, grey.train_labels, grey.test, grey.test_labels, cache_dir() / "classifiers", CLASSIFIER)
    return _classifiers[grey.cache_key]


domain_classifier.cache_clear = _classifiers.clear  # as functools' caches: forget the classifiers held here


@dataclass(frozen=True)
class FeatureSpace:
    """What every feature row and the model's samples are compared with, computed once per run:
    the classifier, the features of the (grey) test images, and the training images the
    memorization test compares with, with their features (features in float64, so the k-NN
    metrics of one sample set share their passes)."""

    classifier: DomainClassifier
    test: torch.Tensor
    train_images: torch.Tensor
    train: torch.Tensor


def feature_space(data, classifier: DomainClassifier, test_grey: torch.Tensor, n: int) -> FeatureSpace:
    """The FeatureSpace of a run whose samples (and reference rows) number `n`: the features of
    `test_grey`, and of max(n, MEMORIZATION_TRAIN) training images (all when fewer) as the
    model saw them (data.train: binarized where the data is statically binarized), a subset
    seeded by REFERENCE_SEED whose first `n` are the memorizer's samples."""
    train = data.train.cpu()
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(REFERENCE_SEED))
    images = train[order[: min(len(train), max(n, MEMORIZATION_TRAIN))]]
    return FeatureSpace(classifier, _float64(classifier.features(test_grey)), images, _float64(classifier.features(images)))


def feature_metrics(features: torch.Tensor, space: FeatureSpace) -> dict:
    """{name: value} of each FEATURE_METRICS sample metric (its registered compute, None where there
    are too few images for it) of these features against the test images' (memorization:
    with space.train as the training set)."""
    features = _float64(features)
    registered = {metric.name: metric for metric in metrics(SAMPLES)}
    data = SimpleNamespace(train=space.train, test=space.test)  # what the registered computes ask of a data set
    return {name: registered[name].compute(features, space.test, data) for name in FEATURE_METRICS}


def classifier_report(classifier: DomainClassifier, images: torch.Tensor, space: FeatureSpace) -> dict:
    """Class coverage of `images`, the Fréchet distance of their features to the test images' and
    the feature metrics, from one pass of the classifier over the images."""
    features = classifier.features(images)
    return {
        "test_accuracy": classifier.accuracy,
        "coverage": class_coverage(classifier.predict_features(features)),
        "frechet_distance": frechet_distance(features, space.test),
        **feature_metrics(features, space),
    }


def image_references(data, validation: torch.Tensor, test: torch.Tensor, test_grey: torch.Tensor, n: int, options: dict,
                     space: FeatureSpace | None = None) -> dict:
    """The reference rows (see the module's docstring) of `n` images each: the Parzen numbers
    (against `validation` and `test`) where options["parzen"], the classifier's numbers where
    options["classifier"] (against `test_grey`, the grey test images in `test`'s order, which
    the model's are compared with; `space`: the run's FeatureSpace, made here when None)."""
    parts = [p for p in ("parzen", "classifier") if options[p]]
    if not parts:
        return {}
    if options["classifier"] and space is None:
        space = feature_space(data, domain_classifier(data), test_grey, n)
    grey = data.grey()
    digest = hashlib.sha256(json.dumps({"format": FORMAT, "binarize": data.binarize, "n": n, "parts": parts,
                                        "classifier": repr(CLASSIFIER), "settings": SETTINGS}, sort_keys=True).encode())
    tensors = [validation, test]
    if options["classifier"]:
        labels = getattr(grey, "validation_labels", None)
        tensors += [space.train_images, grey.validation, *([] if labels is None else [labels])]
    for tensor in tensors:
        digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    path = cache_dir() / "references" / f"{digest.hexdigest()[:16]}.json"
    try:
        return json.loads(path.read_text())["references"]
    except (OSError, ValueError, KeyError):
        pass  # none yet, or unreadable: compute again
    log.info("computing the reference numbers for real images, the memorizer, mode-dropped, blurred and noise images (once; cached at %s)", path)
    references = {"real_train_images": {}}
    if options["parzen"]:  # real images as the model saw them in training: binarized when the data is
        seen = grey.train if data.binarize == "none" else torch.bernoulli(grey.train, generator=torch.Generator().manual_seed(BINARIZE_SEED))
        parzen = parzen_reference(seen, validation, test, n, seed=REFERENCE_SEED)
        references["real_train_images"]["parzen"], references["uniform_noise"] = parzen["ceiling"], {"parzen": parzen["floor"]}
    if options["classifier"]:
        references["real_train_images"]["frechet_distance"] = frechet_reference(space.classifier, grey.train, test_grey, n, seed=REFERENCE_SEED)
        for name, images in feature_rows(data, space, n).items():
            references.setdefault(name, {}).update(classifier_report(space.classifier, images, space))
            references[name].pop("test_accuracy")
    references = {name: references[name] for name in ROWS if name in references}
    write_json(path, {"format": FORMAT, "references": references})
    return references


def feature_rows(data, space: FeatureSpace, n: int) -> dict[str, torch.Tensor]:
    """The images of each reference row that the classifier judges (see the module's docstring):
    at most `n` of each, seeded by REFERENCE_SEED."""
    grey = data.grey()
    generators = [torch.Generator().manual_seed(REFERENCE_SEED + 1 + i) for i in range(3)]
    validation = grey.validation.cpu()
    order = torch.randperm(len(validation), generator=generators[0])
    held_out = validation[order[:n]]
    rows = {"real_held_out_images": held_out, "memorizer": space.train_images[:n]}
    labels = getattr(grey, "validation_labels", None)
    if labels is not None:
        rows["mode_dropped"] = validation[order[labels.cpu()[order] < KEPT_CLASSES][:n]]
    std = grey.train.cpu().std(0, correction=0)
    rows["blurred"] = (held_out + BLUR * std * torch.randn(held_out.shape, generator=generators[1])).clamp_(0, 1)
    rows["uniform_noise"] = torch.rand(n, data.dim, generator=generators[2])
    return {name: images for name, images in rows.items() if len(images) >= 2}  # a small file's few validation images: fewer rows


def _float64(features: torch.Tensor) -> torch.Tensor:
    return features.detach().cpu().to(torch.float64)
