"""Image metrics: Parzen windows against brute force, Fréchet distances against closed
forms, class coverage by hand, and the domain classifier's cache."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab.errors import ConfigError
from genlab.metrics import classifier as classifier_module
from genlab.metrics import parzen
from genlab.metrics.classifier import ClassifierConfig, class_coverage, load_or_train
from genlab.metrics.frechet import frechet_distance, frechet_reference, gaussian_frechet_distance
from genlab.metrics.parzen import parzen_log_likelihood, parzen_reference, parzen_report, select_sigma

MNIST_FILES = Path(os.environ.get("GENLAB_MNIST_DIR") or Path(__file__).resolve().parents[1].parent / "shared/data/mnist")
TINY = ClassifierConfig(channels=(4, 8), hidden=16, epochs=1, batch_size=32, lr=1e-2, n_train=1000)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def mnist():
    if not (MNIST_FILES / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found in {MNIST_FILES} (set GENLAB_MNIST_DIR)")
    from genlab.data.mnist import MNIST

    return MNIST(root=MNIST_FILES)


def brute_force_parzen(centres, x, sigmas):
    """The definition, term by term in float64, with no matrix-product shortcut: (len(sigmas), len(x))."""
    centres, x = centres.double(), x.double()
    squared = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(2)
    d = x.shape[1]
    return torch.stack([
        torch.logsumexp(-squared / (2 * s**2), 1) - math.log(len(centres)) - d * math.log(s * math.sqrt(2 * math.pi)) for s in sigmas
    ])


# -- Parzen window -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-4), (torch.float64, 1e-9)])
def test_parzen_matches_brute_force_across_ragged_blocks(dtype, tolerance, monkeypatch):
    # Small blocks: several centre blocks (merged by the running logsumexp), ragged last ones.
    monkeypatch.setattr(parzen, "MAX_CENTRES", 70)
    monkeypatch.setattr(parzen, "BLOCK_ELEMENTS", 70 * 13)
    monkeypatch.setattr(parzen, "CACHE_ELEMENTS", 70 * 4)
    centres = torch.rand(230, 30, generator=gen(1), dtype=dtype)
    x = torch.rand(41, 30, generator=gen(2), dtype=dtype)
    sigmas = [0.03, 0.1, 0.3, 1.0, 3.0]  # 0.03: nearly every term is below the exp floor
    values = parzen_log_likelihood(centres, x, sigmas)
    assert values.shape == (5, 41) and values.dtype == torch.float64
    assert (values - brute_force_parzen(centres, x, sigmas)).abs().max() < tolerance


def test_parzen_on_real_digits_is_float64_exact(mnist):
    # Where float32 matrix-product distances are off by 2e-3 nats at sigma 0.1.
    centres, x = mnist.train[torch.randperm(50_000, generator=gen(3))[:1500]], mnist.test[:60]
    error = (parzen_log_likelihood(centres, x) - brute_force_parzen(centres, x, parzen.SIGMAS)).abs().max(1).values
    assert error.max() < 1e-5, error


def test_one_centre_is_a_gaussian_density():
    # log N(x; c, s^2 I) = -r^2 / (2 s^2) - d log(s sqrt(2 pi)).
    x = torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]])
    values = parzen_log_likelihood(torch.zeros(1, 3), x, [0.5, 2.0])
    for row, s in zip(values, [0.5, 2.0]):
        expected = [-r2 / (2 * s * s) - 3 * math.log(s * math.sqrt(2 * math.pi)) for r2 in (25.0, 0.0)]
        assert row.tolist() == pytest.approx(expected, abs=1e-9)


def test_the_sigma_grid_equals_one_sigma_at_a_time():
    centres, x = torch.rand(300, 20, generator=gen(4)), torch.rand(50, 20, generator=gen(5))
    grid = parzen_log_likelihood(centres, x)
    assert len(grid) == 10 and parzen.SIGMAS == pytest.approx(np.logspace(-1, 0, 10).tolist())
    for row, sigma in zip(grid, parzen.SIGMAS):
        assert torch.allclose(row, parzen_log_likelihood(centres, x, [sigma])[0], rtol=0, atol=1e-9)


def test_sigma_is_chosen_on_validation_only():
    # Validation points sit close to the centres and test points far from them: best sigmas 0.215 and 0.599.
    centres = torch.rand(400, 10, generator=gen(6))
    validation = centres[:200] + 0.2 * torch.randn(200, 10, generator=gen(7))
    test = centres[200:] + 0.6 * torch.randn(200, 10, generator=gen(8))
    validation_means = parzen_log_likelihood(centres, validation).mean(1)
    test_best = parzen.SIGMAS[int(parzen_log_likelihood(centres, test).mean(1).argmax())]
    sigma, means = select_sigma(centres, validation)
    assert sigma == parzen.SIGMAS[int(validation_means.argmax())] and means == pytest.approx(validation_means.tolist())
    report = parzen_report(centres, validation, test)
    assert report["sigma"] == sigma == pytest.approx(0.2154, abs=1e-4) and test_best == pytest.approx(0.5995, abs=1e-4)
    test_values = parzen_log_likelihood(centres, test, [sigma])[0]
    assert report["mean"] == pytest.approx(test_values.mean().item(), abs=1e-12)
    assert (report["n_centres"], report["n_validation"], report["n_test"]) == (400, 200, 200)
    assert report["validation_means"] == means and report["sigmas"] == list(parzen.SIGMAS)


def test_standard_error_is_numpys_std_over_root_n():
    values = torch.randn(1000, generator=gen(9), dtype=torch.float64) * 3 + 1
    expected = np.std(values.numpy()) / math.sqrt(1000)  # parzen_ll.py: ll.std() / sqrt(n), ddof 0
    assert parzen.standard_error(values) == pytest.approx(expected, rel=1e-12)
    centres, validation, test = (torch.rand(n, 5, generator=gen(seed)) for n, seed in [(50, 10), (40, 11), (30, 12)])
    report = parzen_report(centres, validation, test, sigmas=[0.3])
    test_values = parzen_log_likelihood(centres, test, [0.3])[0].numpy()
    assert report["standard_error"] == pytest.approx(test_values.std() / math.sqrt(30), rel=1e-9)


def test_reference_uses_a_random_training_subset_and_uniform_noise(monkeypatch):
    seen = []
    monkeypatch.setattr(parzen, "parzen_report", lambda centres, validation, test: seen.append(centres) or {"mean": 0.0})
    train = torch.rand(500, 8, generator=gen(13)) * 0.1 + torch.arange(500.0)[:, None]  # row i is near i
    reference = parzen_reference(train, train[:10], train[:10], n=100, seed=3)
    assert set(reference) == {"ceiling", "floor"}
    real, noise = seen
    rows = real[:, 0].floor().long()
    assert torch.equal(real, train[rows]) and len(set(rows.tolist())) == 100 and rows.max() > 200  # not the first 100 rows
    assert noise.shape == (100, 8) and noise.min() >= 0 and noise.max() <= 1 and abs(noise.mean().item() - 0.5) < 0.02
    parzen_reference(train, train[:10], train[:10], n=100, seed=3)
    assert torch.equal(seen[2], real) and torch.equal(seen[3], noise)  # the seed fixes both


def test_parzen_refuses_bad_input():
    good = torch.rand(5, 4)
    with pytest.raises(ConfigError, match="x must have the centres' 4 pixels"):
        parzen_log_likelihood(good, torch.rand(5, 3))
    with pytest.raises(ConfigError, match="centres must hold floating-point pixels"):
        parzen_log_likelihood((good * 255).to(torch.uint8), good)
    with pytest.raises(ConfigError, match="sigma must be a positive number"):
        parzen_log_likelihood(good, good, [0.1, 0.0])
    with pytest.raises(ConfigError, match="x contains NaN"):
        parzen_log_likelihood(good, torch.full((2, 4), math.nan))
    with pytest.raises(ConfigError, match="n must be at most the 5 training images"):
        parzen_reference(good, good, good, n=6)


# -- Fréchet distance ----------------------------------------------------------------------


def with_moments(n: int, mean: torch.Tensor, cov: torch.Tensor, seed: int) -> torch.Tensor:
    """n points whose sample mean and covariance (ddof 1) are exactly `mean` and `cov`."""
    z = torch.randn(n, len(mean), generator=gen(seed), dtype=torch.float64)
    z = z - z.mean(0)
    z = z @ torch.linalg.inv(torch.linalg.cholesky(torch.cov(z.T).reshape(len(mean), -1))).T  # sample covariance I
    return z @ torch.linalg.cholesky(cov).T + mean


def random_rotation(d: int, seed: int) -> torch.Tensor:
    return torch.linalg.qr(torch.randn(d, d, generator=gen(seed), dtype=torch.float64))[0]


def test_frechet_of_diagonal_gaussians_is_the_closed_form():
    a_var, b_var = torch.tensor([1.0, 4.0, 0.25, 9.0], dtype=torch.float64), torch.tensor([4.0, 1.0, 1.0, 9.0], dtype=torch.float64)
    a_mean, b_mean = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64), torch.tensor([1.0, 1.0, 0.0, 3.0], dtype=torch.float64)
    a, b = with_moments(500, a_mean, torch.diag(a_var), 1), with_moments(700, b_mean, torch.diag(b_var), 2)
    expected = 1 + 4 + ((a_var.sqrt() - b_var.sqrt()) ** 2).sum().item()  # |dmu|^2 + sum (sqrt a - sqrt b)^2 = 5 + 3.25
    assert frechet_distance(a, b) == pytest.approx(expected, abs=1e-9)
    assert frechet_distance(b, a) == pytest.approx(expected, abs=1e-9)
    assert frechet_distance(a.float(), b.float()) == pytest.approx(expected, abs=1e-3)


def test_frechet_of_identical_sets_is_zero_and_of_one_dimension_is_the_textbook_form():
    x = torch.randn(400, 16, generator=gen(3)) @ torch.randn(16, 16, generator=gen(4))
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    a = with_moments(100, torch.tensor([0.5], dtype=torch.float64), torch.tensor([[4.0]], dtype=torch.float64), 5)
    b = with_moments(100, torch.tensor([-1.0], dtype=torch.float64), torch.tensor([[0.25]], dtype=torch.float64), 6)
    assert frechet_distance(a, b) == pytest.approx(1.5**2 + (2 - 0.5) ** 2, abs=1e-9)


def test_frechet_of_commuting_covariances_rotates_to_the_diagonal_form():
    q = random_rotation(5, 7)
    a_var = torch.tensor([1.0, 2.0, 3.0, 0.5, 8.0], dtype=torch.float64)
    b_var = torch.tensor([3.0, 0.1, 3.0, 2.0, 2.0], dtype=torch.float64)
    shift = torch.tensor([1.0, -2.0, 0.0, 0.5, 0.0], dtype=torch.float64)
    cov_a, cov_b = q @ torch.diag(a_var) @ q.T, q @ torch.diag(b_var) @ q.T
    expected = (shift @ shift).item() + ((a_var.sqrt() - b_var.sqrt()) ** 2).sum().item()
    assert gaussian_frechet_distance(shift, cov_a, torch.zeros(5), cov_b) == pytest.approx(expected, abs=1e-10)
    a, b = with_moments(300, shift, cov_a, 8), with_moments(300, torch.zeros(5, dtype=torch.float64), cov_b, 9)
    assert frechet_distance(a, b) == pytest.approx(expected, abs=1e-9)


def test_frechet_of_general_covariances_matches_the_eigenvalues_of_the_product():
    # tr((Sa Sb)^1/2) = sum of sqrt(eigenvalues of Sa Sb), which are real and >= 0 though Sa Sb is not symmetric.
    m_a, m_b = torch.randn(6, 6, generator=gen(10), dtype=torch.float64), torch.randn(6, 6, generator=gen(11), dtype=torch.float64)
    cov_a, cov_b = m_a @ m_a.T + 0.1 * torch.eye(6), m_b @ m_b.T + 0.1 * torch.eye(6)
    mean_a, mean_b = torch.randn(6, generator=gen(12), dtype=torch.float64), torch.randn(6, generator=gen(13), dtype=torch.float64)
    trace_root = torch.linalg.eigvals(cov_a @ cov_b).real.sqrt().sum().item()
    expected = ((mean_a - mean_b) ** 2).sum().item() + cov_a.trace().item() + cov_b.trace().item() - 2 * trace_root
    assert gaussian_frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-9)
    a, b = with_moments(200, mean_a, cov_a, 14), with_moments(250, mean_b, cov_b, 15)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_handles_singular_covariances_and_refuses_bad_input():
    # 3 points in 10 dimensions: rank-2 covariances, whose zero eigenvalues round to tiny negatives.
    a, b = torch.randn(3, 10, generator=gen(16)), torch.randn(3, 10, generator=gen(17))
    value = frechet_distance(a, b)
    assert math.isfinite(value) and value > 0
    with pytest.raises(ConfigError, match="same dimension"):
        frechet_distance(torch.zeros(5, 2), torch.zeros(5, 3))
    with pytest.raises(ConfigError, match="features_a must be an .* at least 2 rows"):
        frechet_distance(torch.zeros(1, 2), torch.zeros(5, 2))


# -- class coverage ------------------------------------------------------------------------


def test_class_coverage_by_hand():
    labels = torch.tensor([0] * 500 + [1] * 300 + [2] * 190 + [3] * 10)  # class 3: exactly 1%
    coverage = class_coverage(labels)
    assert coverage["histogram"] == pytest.approx([0.5, 0.3, 0.19, 0.01] + [0.0] * 6)
    p = np.array([0.5, 0.3, 0.19, 0.01])
    assert coverage["entropy"] == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)
    assert coverage["classes_covered"] == 4 and coverage["n_samples"] == 1000
    assert class_coverage(torch.tensor([0] * 995 + [1] * 5))["classes_covered"] == 1  # 0.5% is not covered


def test_class_coverage_of_a_uniform_spread_and_of_probabilities():
    uniform = class_coverage(torch.arange(10).repeat(20))
    assert uniform["entropy"] == pytest.approx(math.log(10)) == uniform["max_entropy"] and uniform["classes_covered"] == 10
    probabilities = torch.full((4, 3), 0.1)
    probabilities[torch.arange(4), torch.tensor([2, 2, 0, 1])] = 0.8
    coverage = class_coverage(probabilities, n_classes=3)
    assert coverage["histogram"] == pytest.approx([0.25, 0.25, 0.5])  # each sample counts for its most likely class
    assert class_coverage(torch.zeros(7, dtype=torch.long))["entropy"] == 0.0


def test_class_coverage_refuses_bad_input():
    with pytest.raises(ConfigError, match="labels in 0..9"):
        class_coverage(torch.tensor([0, 10]))
    with pytest.raises(ConfigError, match="10 columns"):
        class_coverage(torch.rand(4, 3))
    with pytest.raises(ConfigError, match="integer labels"):
        class_coverage(torch.tensor([0.0, 1.0]))


# -- the domain classifier and its cache ---------------------------------------------------


@pytest.fixture(scope="module")
def digits(mnist):
    """2,000 real training digits and 1,000 test digits: enough for a tiny classifier to learn something."""
    return mnist.train[:2000], mnist.train_labels[:2000], mnist.test[:1000], mnist.test_labels[:1000]


@pytest.fixture(scope="module")
def trained(digits, tmp_path_factory):
    """One tiny classifier, trained once for the module, and the bytes of its cache file."""
    network = load_or_train(*digits, tmp_path_factory.mktemp("classifiers"), TINY)
    return network, network.path.read_bytes()


def test_classifier_trains_once_then_loads_from_its_cache(digits, trained, tmp_path, caplog):
    first, _ = trained
    assert first.trained and list(first.path.parent.iterdir()) == [first.path]
    assert 0.5 < first.accuracy <= 1  # chance is 0.1
    assert first.features(digits[2][:5]).shape == (5, 16) and first.predict(digits[2][:5]).shape == (5,)
    mtime = first.path.stat().st_mtime_ns

    caplog.set_level(logging.INFO, logger="genlab")
    again = load_or_train(*digits, first.path.parent, TINY)
    assert not again.trained and "reused the domain classifier" in caplog.text and "trained the" not in caplog.text
    assert again.path == first.path and first.path.stat().st_mtime_ns == mtime
    assert again.accuracy == first.accuracy and torch.equal(again.features(digits[2]), first.features(digits[2]))

    other = load_or_train(*digits, first.path.parent, dataclasses.replace(TINY, seed=1))
    assert other.trained and other.path != first.path and "trained the domain classifier" in caplog.text
    assert sorted(first.path.parent.iterdir()) == sorted([first.path, other.path])
    other.path.unlink()


def test_cache_file_is_plain_weights_and_a_corrupt_one_is_retrained(digits, trained, tmp_path, caplog):
    first, data = trained
    state = torch.load(first.path, weights_only=True)
    assert state["format"] == classifier_module.FORMAT and state["config"]["n_train"] == 1000
    assert state["accuracy"] == first.accuracy and all(isinstance(v, torch.Tensor) for v in state["state_dict"].values())

    torn = tmp_path / first.path.name
    torn.write_bytes(data[:100])
    caplog.set_level(logging.INFO, logger="genlab")
    again = load_or_train(*digits, tmp_path, TINY)
    assert again.trained and again.path == torn and "is unusable" in caplog.text
    assert again.accuracy == first.accuracy  # the same seed retrains the same network
    assert torch.load(torn, weights_only=True)["accuracy"] == first.accuracy
    assert list(tmp_path.iterdir()) == [torn]  # replaced in place, no temporary file left


def test_cache_key_covers_every_config_field_and_the_data(digits):
    x, y, test_x, test_y = digits
    key = classifier_module.cache_key(TINY, x, y, test_x, test_y)
    assert len(key) == 12 and key == classifier_module.cache_key(ClassifierConfig(**dataclasses.asdict(TINY)), x, y, test_x, test_y)
    changes = {"channels": (4, 9), "hidden": 17, "epochs": 2, "batch_size": 33, "lr": 2e-2, "seed": 1, "n_train": 999}
    assert set(changes) == {f.name for f in dataclasses.fields(ClassifierConfig)}
    keys = {classifier_module.cache_key(dataclasses.replace(TINY, **{k: v}), x, y, test_x, test_y) for k, v in changes.items()}
    assert len(keys | {key}) == len(changes) + 1
    assert classifier_module.cache_key(TINY, x.flip(0), y.flip(0), test_x, test_y) != key


def test_classifier_config_refuses_bad_values(digits, tmp_path):
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        ClassifierConfig(epochs=0)
    with pytest.raises(ConfigError, match="channels must hold two widths"):
        ClassifierConfig(channels=(4, 8, 16))
    with pytest.raises(ConfigError, match="n_train must be at most the 2000"):
        load_or_train(*digits, tmp_path, dataclasses.replace(TINY, n_train=5000))
    with pytest.raises(ConfigError, match="train_y must hold 2000 integer labels"):
        load_or_train(digits[0], digits[1][:10], digits[2], digits[3], tmp_path, TINY)


def test_frechet_floor_through_the_classifier_is_below_a_distorted_set(digits, trained):
    network, _ = trained
    train, _, test, _ = digits
    floor = frechet_reference(network, train, test, n=1000)
    assert 0 < floor < frechet_distance(network.features(1 - test), network.features(test))
