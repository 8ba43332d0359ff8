"""MNIST: IDX parsing, checksums, offline and mocked downloads, and the real data's splits.

Nothing here touches the network: downloads are served by a patched urlopen.
"""

import gzip
import inspect
import io
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from genlab.data import mnist as M
from genlab.data.mnist import MNIST, cache_dir, mnist_dir, read_idx
from genlab.errors import ConfigError

REAL = Path(os.environ.get(M.MNIST_ENV) or Path(__file__).resolve().parents[1].parent / "shared/data/mnist")
LABELS = "t10k-labels-idx1-ubyte.gz"  # the smallest real file, for damaged copies
COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # train+validation, from the README


@pytest.fixture(scope="module")
def real_dir():
    if not all((REAL / name).is_file() for name in M.FILES):
        message = f"real MNIST files not found in {REAL} (set {M.MNIST_ENV} to a folder with the four files)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REAL


@pytest.fixture(scope="module")
def grey(real_dir):
    """The full grey set, found through the environment variable; loaded once for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(M.MNIST_ENV, str(real_dir))
        return MNIST(download=False)


@pytest.fixture(scope="module")
def static(real_dir):
    return MNIST(real_dir, binarize="static", seed=0, download=False)


@pytest.fixture
def offline(monkeypatch):
    """urlopen that fails like a machine without network; records the URLs asked for."""
    asked = []

    def urlopen(url, timeout=None):
        asked.append(url)
        raise urllib.error.URLError("no network here")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return asked


def idx_bytes(values: torch.Tensor) -> bytes:
    header = bytes([0, 0, 0x08, values.dim()]) + b"".join(n.to_bytes(4, "big") for n in values.shape)
    return header + values.to(torch.uint8).numpy().tobytes()


# -- IDX files ----------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_gzipped_or_raw_by_content_not_name(tmp_path, compress):
    values = (torch.arange(24) * 11 % 256).reshape(3, 2, 4)
    payload = idx_bytes(values)
    path = tmp_path / ("plain.idx" if compress else "looks-gzipped.gz")  # names that lie
    path.write_bytes(gzip.compress(payload) if compress else payload)
    out = read_idx(path)
    assert out.dtype == torch.uint8 and out.shape == (3, 2, 4)
    assert torch.equal(out, values.to(torch.uint8))
    labels = torch.tensor([7, 0, 255])
    (tmp_path / "labels").write_bytes(idx_bytes(labels))
    assert read_idx(tmp_path / "labels").tolist() == [7, 0, 255]


@pytest.mark.parametrize(
    "payload,reason",
    [
        (b"\x00\x00", "does not start with the IDX magic number"),
        (b"\x01\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc", "does not start with the IDX magic number"),
        (b"\x00\x00\x0d\x01" + (1).to_bytes(4, "big") + b"abcd", r"element type 0x0d, only unsigned bytes"),
        (b"\x00\x00\x08\x03" + (2).to_bytes(4, "big"), "header for 3 dimensions is incomplete"),
        (
            b"\x00\x00\x08\x02" + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"12345",
            r"5 data bytes for shape \(2, 3\) \(6 expected\)",
        ),
        # mtime=0: the header's timestamp is part of the test's id, which each pytest-xdist worker must collect alike
        (gzip.compress(b"\x00\x00\x08\x01" + (4).to_bytes(4, "big") + b"wxyz", mtime=0)[:-12], "truncated or corrupt gzip"),
    ],
)
def test_malformed_idx_names_the_file(tmp_path, payload, reason):
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(ConfigError, match=reason) as error:
        read_idx(path)
    assert str(error.value).startswith(f"{path} is not a valid IDX file")


# -- checksums and downloads --------------------------------------------------------------


def _truncate(raw):
    return raw[: len(raw) // 2]


def _flip_a_byte(raw):
    return raw[:2000] + bytes([raw[2000] ^ 0xFF]) + raw[2001:]


def _change_content(raw):  # a valid gzip of the wrong bytes: only the checksum can tell
    data = bytearray(gzip.decompress(raw))
    data[-1] = (data[-1] + 1) % 10
    return gzip.compress(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _flip_a_byte, _change_content])
def test_damaged_file_is_named_with_its_checksum_and_kept(real_dir, tmp_path, offline, damage):
    path = tmp_path / LABELS
    damaged = damage((real_dir / LABELS).read_bytes())
    path.write_bytes(damaged)
    with pytest.raises(ConfigError) as error:
        MNIST(tmp_path)
    message = str(error.value)
    assert message.startswith(f"root: {path} is truncated or corrupt") and "\n" not in message
    assert M.FILES[LABELS] in message and "delete it to download it again" in message
    assert path.read_bytes() == damaged and offline == []  # not deleted, nothing downloaded


def test_offline_download_names_folder_files_and_variable(tmp_path, offline):
    with pytest.raises(ConfigError) as error:
        MNIST(tmp_path)
    message = str(error.value)
    assert message.startswith(f"root: cannot download MNIST into {tmp_path} (") and "\n" not in message
    assert all(name in message for name in M.FILES)
    assert "<urlopen error no network here> (all 3 mirrors)" in message and M.MNIST_ENV in message
    assert offline == [mirror + "train-images-idx3-ubyte.gz" for mirror in M.MIRRORS]  # in order, then gave up
    assert list(tmp_path.iterdir()) == []  # no file, no temporary file
    with pytest.raises(ConfigError, match="cannot download"):
        MNIST(tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_missing_files_without_download(tmp_path, offline):
    with pytest.raises(ConfigError, match=f"root: MNIST files missing in {tmp_path} .* download is off; .*{M.MNIST_ENV}"):
        MNIST(tmp_path, download=False)
    assert offline == []


def serve(monkeypatch, folder, damage=None):
    """urlopen serving `folder`'s files; the first mirror is down, to check the fallback."""
    asked = []

    def urlopen(url, timeout=None):
        asked.append((url, timeout))
        if url.startswith(M.MIRRORS[0]):
            raise urllib.error.HTTPError(url, 503, "Service Unavailable", {}, None)
        raw = (folder / url.rsplit("/", 1)[1]).read_bytes()
        return io.BytesIO(damage(raw) if damage else raw)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return asked


def test_download_is_verified_and_renamed_into_place(real_dir, tmp_path, monkeypatch):
    asked = serve(monkeypatch, real_dir)
    data = MNIST(tmp_path / "cache", n_train=100)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(M.FILES)  # no temporary files
    for name in M.FILES:
        assert (tmp_path / "cache" / name).read_bytes() == (real_dir / name).read_bytes()
    assert [url for url, _ in asked] == [m + name for name in M.FILES for m in M.MIRRORS[:2]]
    assert {timeout for _, timeout in asked} == {M.DOWNLOAD_TIMEOUT}
    assert data.root == tmp_path / "cache" and data.test.shape == (10_000, 784)
    asked.clear()
    MNIST(tmp_path / "cache", n_train=100)
    assert asked == []  # the verified copies are used from now on


def test_corrupt_download_leaves_nothing(real_dir, tmp_path, monkeypatch):
    serve(monkeypatch, real_dir, damage=_flip_a_byte)
    with pytest.raises(ConfigError) as error:
        MNIST(tmp_path)
    message = str(error.value)
    assert message.startswith(f"root: cannot download MNIST into {tmp_path}") and "\n" not in message
    assert "HTTP Error 503" in message and "wrong sha256" in message
    assert list(tmp_path.iterdir()) == []


def test_folder_resolution(tmp_path, monkeypatch):
    for name in (M.MNIST_ENV, M.CACHE_ENV, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home/.cache/genlab" and mnist_dir() == tmp_path / "home/.cache/genlab/mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_dir() == tmp_path / "xdg/genlab/mnist"
    monkeypatch.setenv(M.CACHE_ENV, str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache" and mnist_dir() == tmp_path / "cache/mnist"
    monkeypatch.setenv(M.MNIST_ENV, str(tmp_path / "digits"))
    assert mnist_dir() == tmp_path / "digits"
    assert mnist_dir(str(tmp_path / "given")) == tmp_path / "given"


# -- the real data -------------------------------------------------------------------------


def test_goodfellow_splits(grey, real_dir):
    assert grey.root == real_dir and (grey.name, grey.dim, grey.image_shape) == ("mnist", 784, (1, 28, 28))
    assert grey.train.shape == (50_000, 784) and grey.validation.shape == (10_000, 784) and grey.test.shape == (10_000, 784)
    assert (grey.n_train, grey.n_test) == (50_000, 10_000)
    for x in (grey.train, grey.validation, grey.test):
        assert x.dtype == torch.float32 and x.min() == 0 and x.max() == 1
    for y in (grey.train_labels, grey.validation_labels, grey.test_labels):
        assert y.dtype == torch.int64 and y.min() == 0 and y.max() == 9
    assert torch.bincount(torch.cat([grey.train_labels, grey.validation_labels])).tolist() == COUNTS
    assert len(grey.test_labels) == 10_000
    images = read_idx(real_dir / "train-images-idx3-ubyte.gz")
    assert images.shape == (60_000, 28, 28)
    assert torch.equal(grey.train, images[:50_000].reshape(-1, 784) / 255)  # in file order when n_train is null
    assert torch.equal(grey.validation, images[50_000:].reshape(-1, 784) / 255)  # the last 10,000
    assert torch.cat([grey.train, grey.validation]).mean().item() == pytest.approx(0.1307, abs=1e-4)
    assert not grey.has_density
    with pytest.raises(NotImplementedError, match="mnist cannot draw fresh samples"):
        grey.sample(10)


def test_n_train_is_a_seeded_random_subset(grey, real_dir):
    a, b, c = (MNIST(real_dir, n_train=1000, seed=s, download=False) for s in (0, 0, 1))
    assert a.train.shape == (1000, 784) and a.n_train == 1000 and len(a.train_labels) == 1000
    assert torch.bincount(a.train_labels, minlength=10).min() > 50  # every digit, roughly evenly
    assert not torch.equal(a.train, grey.train[:1000])
    assert torch.equal(a.train, b.train) and torch.equal(a.train_labels, b.train_labels)
    assert not torch.equal(a.train, c.train)
    for row, label in zip(a.train[:3], a.train_labels[:3]):  # rows of the first 50,000, labels kept with them
        match = (grey.train == row).all(1).nonzero()[:, 0]
        assert len(match) >= 1 and (grey.train_labels[match] == label).all()
    assert torch.equal(a.validation, grey.validation) and torch.equal(a.test, grey.test)


def test_static_binarization_is_seeded(grey, static, real_dir):
    for x in (static.train, static.validation, static.test):
        assert x.dtype == torch.float32 and ((x == 0) | (x == 1)).all()
    assert static.train.mean().item() == pytest.approx(grey.train.mean().item(), abs=1e-3)
    assert torch.equal(static.train_labels, grey.train_labels)
    again, other = (MNIST(real_dir, binarize="static", seed=s, download=False) for s in (0, 1))
    assert torch.equal(static.train, again.train) and not torch.equal(static.train, other.train)
    # validation and test do not depend on the data seed, so scores compare across runs
    assert torch.equal(static.validation, other.validation) and torch.equal(static.test, other.test)
    assert torch.equal(static.binarize_batch(static.train[:5]), static.train[:5])


def test_dynamic_binarization_draws_per_batch(grey, static, real_dir):
    dynamic = MNIST(real_dir, binarize="dynamic", seed=3, download=False)
    assert torch.equal(dynamic.train, grey.train)  # kept grey
    assert torch.equal(dynamic.validation, static.validation) and torch.equal(dynamic.test, static.test)
    batch = dynamic.train[:2000]
    first = dynamic.binarize_batch(batch, torch.Generator().manual_seed(0))
    assert ((first == 0) | (first == 1)).all() and first.dtype == torch.float32
    assert first.mean().item() == pytest.approx(batch.mean().item(), abs=3e-3)
    assert (first[batch == 0] == 0).all() and (first[batch == 1] == 1).all()  # p = 0 and p = 1 pixels are certain
    assert torch.equal(first, dynamic.binarize_batch(batch, torch.Generator().manual_seed(0)))
    assert not torch.equal(first, dynamic.binarize_batch(batch, torch.Generator().manual_seed(1)))
    assert grey.binarize_batch(batch) is batch


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"binarize": "x"}, r"binarize must be one of none, dynamic, static \(got 'x'\)"),
        ({"n_train": 0}, r"n_train must be null \(all 50000\) or an integer from 1 to 50000 \(got 0\)"),
        ({"n_train": 50_001}, r"n_train must be null .* from 1 to 50000 \(got 50001\)"),
        ({"n_train": 10.5}, r"n_train must be null .* from 1 to 50000 \(got 10.5\)"),
        ({"seed": "a"}, r"seed must be an integer \(got 'a'\)"),
        ({"download": "yes"}, r"download must be true or false \(got 'yes'\)"),
    ],
)
def test_bad_parameters_name_the_key(tmp_path, offline, kwargs, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        MNIST(tmp_path, **kwargs)
    assert offline == [] and list(tmp_path.iterdir()) == []  # refused before looking for files


def test_config_matches_the_constructor():
    config = OmegaConf.to_container(OmegaConf.load(Path(__file__).resolve().parents[1] / "conf/data/mnist.yaml"))
    assert config.pop("_target_") == "genlab.data.MNIST"
    defaults = {k: p.default for k, p in inspect.signature(MNIST).parameters.items()}
    assert config == defaults
