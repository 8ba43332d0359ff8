"""The metrics and plots as functions on plain arrays: `data` may be a genlab data set or an
array of held-out points (read as genlab.data.Points), samples numpy or torch, and a bad
argument is refused in one line that names it."""

import numpy as np
import pytest
import torch

from genlab.data import Mixture1D, Points, RingOfGaussians
from genlab.errors import ConfigError
from genlab.metrics import sample_quality
from genlab.models import GAN, KDE
from genlab.plots.density import plot_density
from genlab.plots.samples import plot_samples

RING = RingOfGaussians(n_train=500, n_test=400, seed=0)
SAMPLES = RING.sample(300, torch.Generator().manual_seed(1))


def test_sample_quality_on_a_test_array_is_sample_quality_on_its_points():
    test = RING.test.numpy()
    on_array = sample_quality(SAMPLES.numpy(), test)
    assert on_array == sample_quality(SAMPLES, Points(test)) == sample_quality(SAMPLES, torch.from_numpy(test).double())
    # The metrics an array can answer, with the numbers the data set itself gives; no density, no modes.
    on_data = sample_quality(SAMPLES, RING)
    assert set(on_array) == {"mmd", "sliced_wasserstein", "kde_test_log_likelihood"} < set(on_data)
    assert {"true_log_density", "mode_coverage"} <= set(on_data)
    assert on_array == {key: on_data[key] for key in on_array}


def test_points_in_1d_are_measured_by_the_exact_wasserstein_distance():
    data = Mixture1D(n_train=300, n_test=300)
    samples = data.sample(200, torch.Generator().manual_seed(2))
    on_array = sample_quality(samples[:, 0].numpy(), data.test[:, 0].tolist())  # (n,) and nested lists read as 1D points
    assert set(on_array) == {"mmd", "wasserstein_1d", "kde_test_log_likelihood"}
    assert on_array == {key: value for key, value in sample_quality(samples, data).items() if key in on_array}


def test_sample_quality_refuses_bad_arguments_in_one_line_naming_them():
    with pytest.raises(ConfigError, match=r"^samples must have 2 columns, as data \(got 3\)$"):
        sample_quality(np.zeros((10, 3)), RING.test.numpy())
    with pytest.raises(ConfigError, match=r"^samples must have 2 columns, as data \(got 3\)$"):
        sample_quality(np.zeros((10, 3)), RING)
    with pytest.raises(ConfigError, match="^data must be"):
        sample_quality(SAMPLES, [["a", "b"]])
    with pytest.raises(ConfigError, match="^samples must be an array of numbers"):
        sample_quality([["a", "b"]], RING)
    with pytest.raises(ConfigError, match="^samples contains NaN"):
        sample_quality(np.full((10, 2), np.nan), RING)
    # Once read as "<built-in method dim of Tensor object ...> columns": now the data's own problem, named.
    with pytest.raises(ConfigError, match="reference points are \\(mostly\\) identical"):
        sample_quality(SAMPLES, torch.zeros(100, 2))


@pytest.fixture(scope="module")
def kde():
    return KDE(bandwidth=0.1).fit(RING.train.double().numpy())


def test_plot_density_draws_an_array_as_its_points(kde, tmp_path):
    points = RING.train.numpy()
    assert plot_density(kde, points, tmp_path / "array.png", resolution=60) == tmp_path / "array.png"
    plot_density(kde, Points(points), tmp_path / "points.png", resolution=60)
    plot_density(kde, Points(points[::-1] + 1), tmp_path / "other.png", resolution=60)
    array, same, other = ((tmp_path / f"{name}.png").read_bytes() for name in ("array", "points", "other"))
    assert len(array) > 10_000 and array == same and array != other


def test_plot_samples_draws_a_model_fit_on_numpy_and_given_samples(kde, tmp_path):
    torch.manual_seed(0)
    gan = GAN(hidden=16, depth=1, batch_size=32).fit(RING.train.numpy(), max_steps=5)
    assert isinstance(gan.sample(3), np.ndarray)
    assert plot_density(gan, RING.train.numpy(), tmp_path / "gan_density.png") is None  # no density: nothing drawn
    for name, model, given in (("kde", kde, None), ("gan", gan, None), ("given", kde, SAMPLES.numpy())):
        assert plot_samples(model, RING.train.numpy(), tmp_path / f"{name}.png", n=300, samples=given).stat().st_size > 10_000
    assert plot_samples(kde, np.zeros((20, 3)), tmp_path / "three.png") is None  # 1D and 2D only, as for a data set


def test_the_plots_refuse_bad_arguments_in_one_line_naming_them(kde, tmp_path):
    points, path = RING.train.numpy(), tmp_path / "figure.png"
    with pytest.raises(ConfigError, match=r"^model must be a fitted genlab model, a GenerativeModel \(got str\)$"):
        plot_density("kde", points, path)
    with pytest.raises(ConfigError, match=r"^model must be fitted: call model.fit\(x\) first$"):
        plot_samples(KDE(), points, path)
    with pytest.raises(ConfigError, match="^data must be"):
        plot_density(kde, "moons", path)
    with pytest.raises(ConfigError, match=r"^samples must have 2 columns, as data \(got shape \(5, 3\)\)$"):
        plot_samples(kde, points, path, samples=np.zeros((5, 3)))
    assert not path.exists()
