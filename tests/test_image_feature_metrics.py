"""The sample metrics on the domain classifier's features of image runs (precision/recall,
density/coverage, KID, memorization) for the model and each reference row, on small synthetic
labelled images (a bar at a height per class): what each reference row must show, the cache,
and a run's metrics.json and final table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.data import ImageFile
from genlab.evaluation import references
from genlab.metrics.classifier import FEATURE_METRICS, ClassifierConfig
from tests.helpers import run_on
from tests.test_image_file import bar_images

SMALL_CLASSIFIER = ClassifierConfig(channels=(4, 8), hidden=16, epochs=2, batch_size=32, lr=1e-2)
OPTIONS = {"parzen": True, "classifier": True, "references": True, "n_test": None}
ROWS = ["real_train_images", "real_held_out_images", "memorizer", "mode_dropped", "blurred", "uniform_noise"]


@pytest.fixture(autouse=True)
def small_classifier(monkeypatch, tmp_path):
    """A small classifier, cached (with the references) in this test's folder, never the user's cache."""
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(references, "CLASSIFIER", SMALL_CLASSIFIER)
    references.domain_classifier.cache_clear()
    yield
    references.domain_classifier.cache_clear()


@pytest.fixture
def bars(tmp_path):
    images, labels = bar_images(1500)
    np.savez(tmp_path / "bars.npz", images=images, y=labels)
    return ImageFile(tmp_path / "bars.npz", key="images", labels="y", validation_fraction=0.3, test_fraction=0.2)


def test_every_reference_row_shows_what_it_should(bars, caplog):
    n = 300
    test_grey = bars.test
    classifier = references.domain_classifier(bars)
    assert classifier.accuracy > 0.95
    space = references.feature_space(bars, classifier, test_grey, n)
    assert len(space.train_images) == len(bars.train) == 750 and space.train.dtype == space.test.dtype == torch.float64
    with caplog.at_level("INFO", logger="genlab"):
        refs = references.image_references(bars, bars.validation, bars.test, test_grey, n, OPTIONS, space)
    assert list(refs) == ROWS
    assert set(refs["real_train_images"]) == {"parzen", "frechet_distance"} and set(refs["uniform_noise"]) >= {"parzen", *FEATURE_METRICS}
    for name in ROWS[1:]:
        assert set(refs[name]) >= {"frechet_distance", "coverage", *FEATURE_METRICS}, name
    real, memorizer, dropped, blurred, noise = (refs[name] for name in ROWS[1:])
    # The memorizer returns training images: all nearer the training set than the median test image, far below 0 in C_T.
    assert memorizer["memorization"]["nearer_share"] > 0.99 and memorizer["memorization"]["c_t"] < -5
    assert 0.3 < real["memorization"]["nearer_share"] < 0.7 and abs(real["memorization"]["c_t"]) < 5 * real["memorization"]["c_t_null_std"] + 1
    # Half the classes: recall and coverage about halved, precision kept.
    for key, metric in (("recall", "precision_recall"), ("coverage", "density_coverage")):
        assert dropped[metric][key] < 0.7 * real[metric][key], (key, dropped[metric][key], real[metric][key])
    assert dropped["precision_recall"]["precision"] > 0.8 * real["precision_recall"]["precision"]
    assert dropped["coverage"]["classes_covered"] == 5 and real["coverage"]["classes_covered"] == 10
    assert noise["precision_recall"]["precision"] < 0.05 and noise["kid"]["mean"] > 10 * max(real["kid"]["mean"], blurred["kid"]["mean"], 1e-3)
    assert real["frechet_distance"] < noise["frechet_distance"]
    assert caplog.text.count("computing the reference numbers") == 1
    # Cached: a second call reads the file.
    with caplog.at_level("INFO", logger="genlab"):
        again = references.image_references(bars, bars.validation, bars.test, test_grey, n, OPTIONS, space)
    assert again == refs and caplog.text.count("computing the reference numbers") == 1
    # The model's numbers come from the same function on its samples.
    report = references.classifier_report(classifier, bars.train[:n], space)
    assert report["memorization"]["nearer_share"] > 0.99 and set(report) >= {"test_accuracy", "coverage", "frechet_distance", *FEATURE_METRICS}


def test_an_image_run_stores_and_prints_the_feature_metrics(tmp_path, caplog):
    images, labels = bar_images(600)
    np.savez(tmp_path / "bars.npz", images=images, y=labels)
    with caplog.at_level("INFO", logger="genlab"):
        metrics = run_on(tmp_path, "vae", "model=vae", "data=images", f"data.path={tmp_path / 'bars.npz'}", "data.key=images",
                         "data.labels=y", "trainer.max_steps=10", "trainer.eval_every=10", "n_eval=200")
    classifier = metrics["classifier"]
    assert set(classifier) >= {"frechet_distance", "coverage", *FEATURE_METRICS}
    assert 0 <= classifier["precision_recall"]["precision"] <= 1 and classifier["kid"]["subsets"] == 100
    assert list(metrics["references"]) == ROWS
    table = caplog.text[caplog.text.index("image metrics on 200 samples"):]
    for text in ("precision (k=3 balls)", "coverage (k=5 balls)", "KID (cubic kernel", "data-copying C_T", "memorizer", "mode dropped", "real held out images"):
        assert text in table, text
