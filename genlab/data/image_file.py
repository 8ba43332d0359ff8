"""Your own images from files: `genlab model=vae data=images data.path=faces.npz`.

Reads an .npy or .npz array of (N, H, W) or (N, C, H, W) images (uint8, or floats in
[0, 1]) or an IDX file, gzipped or not (MNIST's format, also Fashion-MNIST's, KMNIST's
and EMNIST's), so `data.path=train-images-idx3-ubyte.gz data.labels=train-labels-idx1-ubyte.gz`
reads any of them. No checksum is needed for a user's own file; `data.sha256` is verified
when given. Arrays are read with allow_pickle=False: a file holds numbers, never code.

The images are split once by `seed` into training, validation (for the Parzen
window's σ) and test images, unless `test_path` gives the test images (as MNIST's t10k
files do). Labels, where given, let the domain classifier of genlab.metrics.classifier
train (once, cached by the images' hash) on 28 x 28 grey images of 10 classes.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import torch

from genlab.data.base import Dataset
from genlab.data.mnist import read_idx
from genlab.data.table import npz_array
from genlab.errors import ConfigError

IDX_SUFFIXES = ("-ubyte", "-ubyte.gz", ".idx", ".idx.gz")


class ImageFile(Dataset):
    """Images (and optional labels) from files, as flattened float32 rows in [0, 1].

    Args:
        path: the images (.npy, .npz or IDX).
        key: the array of an .npz file that holds several.
        labels: integer labels, one per image: an array of the same .npz (its key), or a
            file (.npy or IDX). None: no class-based metrics.
        test_path, test_labels: the test images and their labels, when they come apart;
            None: `test_fraction` of path's images are held out.
        validation_fraction, test_fraction: shares of the images held out for choosing
            the Parzen σ and for the test (at least one image each).
        sha256: the expected SHA-256 of path's bytes; None: not checked.
        seed: the split's seed, apart from the model's.
    """

    binarize = "none"

    def __init__(self, path=None, key=None, labels=None, test_path=None, test_labels=None,
                 validation_fraction: float = 0.1, test_fraction: float = 0.2, sha256=None, seed: int = 0):
        if path is None or str(path) == "":
            raise ConfigError("path must name your file of images: data.path=images.npz (.npy, .npz or an IDX file)")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"seed must be an integer (got {seed!r})")
        self.path, self.seed = Path(path), seed
        images, digest = read_images("path", self.path, key, sha256)
        label_values = read_labels("labels", labels, self.path, len(images)) if labels is not None else None
        self.image_shape = tuple(images.shape[1:])
        self.dim, self.name = int(np.prod(self.image_shape)), self.path.stem.split(".")[0]
        self.fingerprint = digest
        order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
        fractions = {"validation_fraction": validation_fraction} if test_path is not None else {"validation_fraction": validation_fraction, "test_fraction": test_fraction}
        sizes = split_sizes(len(images), fractions, self.path)
        n_validation = sizes["validation_fraction"]
        if test_path is not None:
            test, test_digest = read_images("test_path", Path(test_path), key, None)
            if tuple(test.shape[1:]) != self.image_shape:
                raise ConfigError(f"test_path: {test_path} holds images of shape {tuple(test.shape[1:])}, {self.path}'s are {self.image_shape}")
            test_y = read_labels("test_labels", test_labels, Path(test_path), len(test)) if test_labels is not None else None
            if (test_y is None) != (label_values is None):
                raise ConfigError("labels and test_labels go together: give both or neither")
            self.fingerprint = hashlib.sha256((digest + test_digest).encode()).hexdigest()
            held_out = order[:n_validation]
            kept = order[n_validation:]
        else:
            if test_labels is not None:
                raise ConfigError("test_labels needs test_path: without it the test images are a share of path's, labelled by labels")
            n_test = sizes["test_fraction"]
            test, test_y = images[order[:n_test]], None if label_values is None else label_values[order[:n_test]]
            held_out, kept = order[n_test:n_test + n_validation], order[n_test + n_validation:]
        self.train, self.validation, self.test = (flat(x) for x in (images[kept], images[held_out], test))
        if label_values is not None:
            self.train_labels, self.validation_labels, self.test_labels = label_values[kept], label_values[held_out], test_y
        self.n_train, self.n_test = len(self.train), len(self.test)

    @property
    def cache_key(self) -> str:
        return f"images:{self.fingerprint}"


def flat(images: torch.Tensor) -> torch.Tensor:
    return images.reshape(len(images), -1)


def split_sizes(n: int, fractions: dict, path: Path) -> dict:
    """The number of images each fraction holds out, refusing splits that leave a part empty."""
    sizes = {}
    for key, fraction in fractions.items():
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
            raise ConfigError(f"{key} must be a number between 0 and 1, a share of the images (got {fraction!r})")
        sizes[key] = round(n * fraction)
        if sizes[key] == 0:
            raise ConfigError(f"{key}={fraction} holds out no image of the {n} of {path}")
    if sum(sizes.values()) >= n:
        raise ConfigError(f"{' and '.join(f'{k}={v}' for k, v in fractions.items())} leave no training image of the {n} of {path}")
    return sizes


def read_images(key: str, path: Path, array_key, sha256) -> tuple[torch.Tensor, str]:
    """(images as float32 (N, C, H, W) in [0, 1], the SHA-256 of the file's bytes)."""
    raw = read_bytes(key, path)
    digest = hashlib.sha256(raw).hexdigest()
    if sha256 is not None and str(sha256).lower() != digest:
        raise ConfigError(f"sha256: {path} has SHA-256 {digest}, not the {sha256} given; the file differs from the one expected")
    array = load_array(key, path, raw, array_key)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4 or array.shape[1] not in (1, 3) or min(array.shape) == 0:
        raise ConfigError(f"{key}: {path} holds an array of shape {array.shape}; images need (N, H, W) or (N, C, H, W) with C 1 or 3")
    if len(array) < 3:
        raise ConfigError(f"{key}: {path} holds {len(array)} images; at least 3 are needed (training, validation and test)")
    if array.dtype == np.uint8:
        return torch.from_numpy(array.astype(np.float32) / 255), digest
    if array.dtype.kind != "f":
        raise ConfigError(f"{key}: {path} holds {array.dtype} pixels; images need uint8 (0 to 255) or floats in [0, 1]")
    bad = ~np.isfinite(array).reshape(len(array), -1).all(axis=1)
    if bad.any():
        raise ConfigError(f"{key}: {path}: image {int(np.argmax(bad))} holds NaN or inf ({int(bad.sum())} such images)")
    if array.min() < 0 or array.max() > 1:
        raise ConfigError(f"{key}: {path} holds float pixels from {array.min():.3g} to {array.max():.3g}; floats must lie in [0, 1] (or give uint8)")
    return torch.from_numpy(array.astype(np.float32)), digest


def read_labels(key: str, labels, images_path: Path, n: int) -> torch.Tensor:
    """Integer labels, one per image: a key of the images' .npz, or a file of their own."""
    if images_path.suffix.lower() == ".npz" and not Path(str(labels)).suffix:
        array = load_array(key, images_path, read_bytes(key, images_path), str(labels))
    else:
        path = Path(str(labels))
        array = load_array(key, path, read_bytes(key, path), None)
    array = np.asarray(array).reshape(-1) if np.ndim(array) == 2 and 1 in np.shape(array) else np.asarray(array)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ConfigError(f"{key}: the labels must be one integer per image (got shape {array.shape}, {array.dtype})")
    if len(array) != n:
        raise ConfigError(f"{key}: {len(array)} labels for {n} images")
    if array.min() < 0:
        raise ConfigError(f"{key}: labels must be 0 or more (got {array.min()})")
    return torch.from_numpy(array.astype(np.int64))


def read_bytes(key: str, path: Path) -> bytes:
    if not path.is_file():
        raise ConfigError(f"{key}: no such file: {path}")
    return path.read_bytes()


def load_array(key: str, path: Path, raw: bytes, array_key) -> np.ndarray:
    """The array of an .npy, one array of an .npz (`array_key` when it holds several), or an IDX file."""
    if path.name.lower().endswith(IDX_SUFFIXES):
        try:
            return read_idx(path).numpy()
        except ConfigError as error:
            raise ConfigError(f"{key}: {error}") from None
    if path.suffix.lower() not in (".npy", ".npz"):
        raise ConfigError(f"{key}: {path} must be an .npy, an .npz or an IDX file (…-ubyte, …-ubyte.gz)")
    try:
        loaded = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise ConfigError(f"{key}: {path} is not a readable array of numbers ({error})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        return npz_array(loaded, path, array_key, "key" if key in ("path", "test_path") else key)
    return loaded
