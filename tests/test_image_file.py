"""Your own images from files (data=images): arrays and IDX files read the same images and
labels, bad files are one line naming the file, and every image model runs on them with
the image metrics that apply."""

from __future__ import annotations

import gzip
import math
import hashlib

import numpy as np
import pytest
import torch

from genlab.data import ImageFile
from genlab.errors import ConfigError
from tests.helpers import run_on


@pytest.fixture(autouse=True)
def own_cache(monkeypatch, tmp_path):
    """Classifiers and reference numbers go to this test's folder, never the user's cache."""
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))


def bar_images(n: int, size: int = 28, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (n, size, size) images of 10 classes: class k is a bright horizontal bar at row bar_top(k), in noise."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = rng.integers(0, 40, (n, size, size)).astype(np.uint8)
    for image, label in zip(images, labels):
        top = bar_top(label, size)
        image[top: top + max(1, size // 14), 2:-2] = 250
    return images, labels


def bar_top(label, size: int = 28):
    return 1 + label * (size - 2) // 10


def idx_bytes(array: np.ndarray) -> bytes:
    """MNIST's IDX format: magic (0, 0, 0x08 = unsigned bytes, ndim), big-endian sizes, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_an_npz_of_images_and_labels_is_split_with_labels_that_follow_their_images(tmp_path):
    images, labels = bar_images(200)
    np.savez(tmp_path / "bars.npz", images=images, y=labels)
    data = ImageFile(tmp_path / "bars.npz", key="images", labels="y")
    assert data.image_shape == (1, 28, 28) and data.dim == 784 and data.name == "bars"
    assert (len(data.train), len(data.validation), len(data.test)) == (140, 20, 40)
    for x, y in ((data.train, data.train_labels), (data.validation, data.validation_labels), (data.test, data.test_labels)):
        rows = x.reshape(-1, 28, 28)[:, :, 14]  # the column through every bar: its bright rows say the class
        assert torch.equal((rows > 0.9).float().argmax(1), bar_top(y))
    every = torch.cat([data.train, data.validation, data.test]).reshape(-1, 28, 28)
    assert torch.equal(every.sort(0).values, torch.from_numpy(images / 255).float().sort(0).values)


def test_float_images_with_channels_and_a_seeded_split(tmp_path):
    pixels = np.random.default_rng(1).random((50, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "colour.npy", pixels)
    data = ImageFile(tmp_path / "colour.npy", seed=5)
    assert data.image_shape == (3, 8, 8) and data.dim == 192 and not data.has_labels
    assert torch.equal(data.test, ImageFile(tmp_path / "colour.npy", seed=5).test)
    assert not torch.equal(data.test, ImageFile(tmp_path / "colour.npy", seed=6).test)
    assert torch.allclose(torch.cat([data.train, data.validation, data.test]).sum(0), torch.from_numpy(pixels.reshape(50, -1)).sum(0), atol=1e-4)


def test_idx_files_with_a_test_file_read_as_mnist_s_and_a_given_checksum_is_verified(tmp_path):
    images, labels = bar_images(60)
    test_images, test_labels = bar_images(30, seed=1)
    for name, array in (("train-images-idx3-ubyte.gz", images), ("train-labels-idx1-ubyte.gz", labels),
                        ("t10k-images-idx3-ubyte.gz", test_images), ("t10k-labels-idx1-ubyte.gz", test_labels)):
        (tmp_path / name).write_bytes(idx_bytes(array))
    digest = hashlib.sha256((tmp_path / "train-images-idx3-ubyte.gz").read_bytes()).hexdigest()
    data = ImageFile(tmp_path / "train-images-idx3-ubyte.gz", labels=tmp_path / "train-labels-idx1-ubyte.gz",
                     test_path=tmp_path / "t10k-images-idx3-ubyte.gz", test_labels=tmp_path / "t10k-labels-idx1-ubyte.gz", sha256=digest)
    assert (len(data.train), len(data.validation), len(data.test)) == (54, 6, 30)
    assert torch.equal(data.test, torch.from_numpy(test_images.reshape(30, -1) / 255).float())
    assert torch.equal(data.test_labels, torch.from_numpy(test_labels).long())
    with pytest.raises(ConfigError, match=r"sha256: .*train-images-idx3-ubyte\.gz has SHA-256 [0-9a-f]{64}, not the 00ff given"):
        ImageFile(tmp_path / "train-images-idx3-ubyte.gz", sha256="00ff")


def bad_image_cases(tmp_path):
    images, labels = bar_images(20)
    np.savez(tmp_path / "ok.npz", images=images, y=labels, short=labels[:5])
    np.save(tmp_path / "small.npy", images[:10, :14, :14])
    np.save(tmp_path / "hot.npy", np.full((10, 4, 4), 1.5, dtype=np.float32))
    nan = np.zeros((10, 4, 4), dtype=np.float32)
    nan[7, 1, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    np.save(tmp_path / "two.npy", images[:2])
    np.save(tmp_path / "flat.npy", images.reshape(20, -1))
    (tmp_path / "broken-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03\0\0")
    return [
        ({"path": tmp_path / "none.npz"}, r"path: no such file: .*none\.npz"),
        ({"path": tmp_path / "ok.npz"}, r"key must name one of the arrays in .*ok\.npz: images, y, short$"),
        ({"path": tmp_path / "ok.npz", "key": "pictures"}, r"key must name one of the arrays in .*ok\.npz: images, y, short \(got 'pictures'\)"),
        ({"path": tmp_path / "ok.npz", "key": "images", "labels": "short"}, r"labels: 5 labels for 20 images"),
        ({"path": tmp_path / "ok.npz", "key": "images", "test_path": tmp_path / "small.npy"},
         r"test_path: .*small\.npy holds images of shape \(1, 14, 14\), .*ok\.npz's are \(1, 28, 28\)"),
        ({"path": tmp_path / "hot.npy"}, r"float pixels from 1\.5 to 1\.5; floats must lie in \[0, 1\]"),
        ({"path": tmp_path / "nan.npy"}, r"nan\.npy: image 7 holds NaN or inf"),
        ({"path": tmp_path / "two.npy"}, r"holds 2 images; at least 3"),
        ({"path": tmp_path / "flat.npy"}, r"flat\.npy holds an array of shape \(20, 784\); images need \(N, H, W\) or \(N, C, H, W\)"),
        ({"path": tmp_path / "broken-images-idx3-ubyte"}, r"path: .*broken-images-idx3-ubyte is not a valid IDX file"),
        ({"path": tmp_path / "ok.npz", "key": "images", "validation_fraction": 0.6, "test_fraction": 0.5}, r"leave no training image of the 20"),
        ({"path": tmp_path / "ok.npz", "key": "images", "test_fraction": 0.01}, r"test_fraction=0.01 holds out no image of the 20"),
        ({"path": None}, r"path must name your file of images"),
    ]


def test_a_bad_image_file_is_one_line_naming_it(tmp_path):
    for settings, message in bad_image_cases(tmp_path):
        with pytest.raises(ConfigError, match=message) as error:
            ImageFile(**settings)
        assert "\n" not in str(error.value), settings



@pytest.mark.parametrize("model", ["vae", "gan", "wgan", "flow"])
def test_every_image_model_runs_on_an_image_file_with_parzen_and_says_why_no_classifier(tmp_path, model, caplog):
    bars = bar_images(120, size=12)[0][:, None].repeat(3, axis=1) / 255  # 3 x 12 x 12 floats: colour images with a structure
    np.save(tmp_path / "colour.npy", bars.astype(np.float32))
    with caplog.at_level("INFO", logger="genlab"):
        metrics = run_on(tmp_path, model, f"model={model}", "data=images", f"data.path={tmp_path / 'colour.npy'}",
                         "trainer.max_steps=20", "trainer.eval_every=10", "n_eval=100")
    assert metrics["data"] == "colour" and math.isfinite(metrics["parzen"]["mean"]) and metrics["parzen"]["sigma"] > 0
    assert metrics["references"]["real_train_images"]["parzen"]["mean"] > metrics["references"]["uniform_noise"]["parzen"]["mean"]
    assert "classifier" not in metrics
    assert "no class coverage or Fréchet distance: colour has no labels" in caplog.text
    assert (tmp_path / "outputs" / "runs" / model / "samples.png").is_file()


def test_labelled_28_by_28_grey_images_get_the_domain_classifier(tmp_path, caplog):
    images, labels = bar_images(600)
    np.savez(tmp_path / "bars.npz", images=images, y=labels)
    metrics = run_on(tmp_path, "vae", "model=vae", "data=images", f"data.path={tmp_path / 'bars.npz'}", "data.key=images",
                     "data.labels=y", "trainer.max_steps=30", "trainer.eval_every=15", "n_eval=200")
    assert metrics["classifier"]["test_accuracy"] > 0.95  # ten bars at ten heights: easy to tell apart
    real = metrics["references"]["real_train_images"]
    assert real["frechet_distance"] < metrics["classifier"]["frechet_distance"]
    np.savez(tmp_path / "many.npz", images=images, y=labels + 5)  # labels 5..14: more than the classifier's 10 classes
    with caplog.at_level("INFO", logger="genlab"):
        metrics = run_on(tmp_path, "many", "model=vae", "data=images", f"data.path={tmp_path / 'many.npz'}", "data.key=images",
                         "data.labels=y", "trainer.max_steps=5", "n_eval=100")
    assert "classifier" not in metrics and "the domain classifier has 10 classes; many's labels run to 14" in caplog.text
