"""The domain classifier and the reference numbers of image runs, each computed once.

A model's Parzen log-likelihood, Fréchet distance and class coverage read only beside
the same numbers for real training images (the ceiling of the Parzen number, the floor
of the Fréchet distance) and for uniform noise. They take minutes, depend only on the
data settings and the evaluation subsets, and so are cached as JSON under
<cache>/references (the cache of `genlab.data.mnist.cache_dir`), keyed by a hash of
exactly those inputs. The classifier is cached by `genlab.metrics.classifier`.
"""

from __future__ import annotations

import hashlib
import json
import logging

import torch

from genlab.io import write_json
from genlab.data.mnist import cache_dir
from genlab.metrics.classifier import ClassifierConfig, class_coverage, load_or_train
from genlab.metrics.frechet import frechet_distance, frechet_reference
from genlab.metrics.parzen import parzen_reference

log = logging.getLogger("genlab")
FORMAT = "genlab-image-references-1"
REFERENCE_SEED = 31337  # the subsets of real images and the noise, the same for every run
BINARIZE_SEED = 4242  # training images binarized once for the references of binarized data
CLASSIFIER = ClassifierConfig()  # the domain classifier of every image run


_classifiers: dict = {}  # one per image set (its cache_key) and process


def domain_classifier(data):
    """The classifier of `data`'s grey images (trained once, cached on disk and here);
    the set must have labels (data.has_labels)."""
    grey = data.grey()
    if grey.cache_key not in _classifiers:
        _classifiers[grey.cache_key] = load_or_train(grey.train, grey.train_labels, grey.test, grey.test_labels, cache_dir() / "classifiers", CLASSIFIER)
    return _classifiers[grey.cache_key]


domain_classifier.cache_clear = _classifiers.clear  # as functools' caches: forget the classifiers held here


def classifier_report(classifier, images: torch.Tensor, test_features: torch.Tensor) -> dict:
    """Class coverage of `images` and the Fréchet distance of their features to the test images'."""
    return {
        "test_accuracy": classifier.accuracy,
        "coverage": class_coverage(classifier.predict(images)),
        "frechet_distance": frechet_distance(classifier.features(images), test_features),
    }


def as_results(reference: dict) -> dict:
    """One reference shaped as a run's results (its Fréchet floor under `classifier`), so each
    registered image metric prints it beside the model's; metrics.json keeps the cached shape."""
    shaped = {"parzen": reference["parzen"]} if "parzen" in reference else {}
    if "frechet_distance" in reference:
        shaped["classifier"] = {"frechet_distance": reference["frechet_distance"]}
    return shaped


def image_references(data, validation: torch.Tensor, test: torch.Tensor, test_grey: torch.Tensor, n: int, options: dict) -> dict:
    """The Parzen numbers of `n` real training images and of `n` noise images, and the
    Fréchet distance of `n` real training images to `test_grey` (the grey test images in
    `test`'s order, which the model's Fréchet distance compares with)."""
    parts = [p for p in ("parzen", "classifier") if options[p]]
    if not parts:
        return {}
    digest = hashlib.sha256(json.dumps({"format": FORMAT, "binarize": data.binarize, "n": n, "parts": parts,
                                        "classifier": repr(CLASSIFIER)}, sort_keys=True).encode())
    for tensor in (validation, test):
        digest.update(tensor.contiguous().numpy().tobytes())
    path = cache_dir() / "references" / f"{digest.hexdigest()[:16]}.json"
    try:
        return json.loads(path.read_text())["references"]
    except (OSError, ValueError, KeyError):
        pass  # none yet, or unreadable: compute again
    log.info("computing the reference numbers for real training images and noise (once; cached at %s)", path)
    grey = data.grey()
    # Real images as the model saw them in training: binarized when the data is.
    seen = grey.train if data.binarize == "none" else torch.bernoulli(grey.train, generator=torch.Generator().manual_seed(BINARIZE_SEED))
    references = {"real_train_images": {}, "uniform_noise": {}}
    if options["parzen"]:
        parzen = parzen_reference(seen, validation, test, n, seed=REFERENCE_SEED)
        references["real_train_images"]["parzen"], references["uniform_noise"]["parzen"] = parzen["ceiling"], parzen["floor"]
    if options["classifier"]:
        floor = frechet_reference(domain_classifier(data), grey.train, test_grey, n, seed=REFERENCE_SEED)
        references["real_train_images"]["frechet_distance"] = floor
    write_json(path, {"format": FORMAT, "references": references})
    return references
