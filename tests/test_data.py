import math

import pytest
import torch

from conftest import integrate_1d, integrate_2d
from genlab import data as D
from genlab.errors import ConfigError

ALL = [D.Mixture1D, D.Uniform1D, D.Moons, D.Circles, D.RingOfGaussians, D.GridOfGaussians,
       D.SwissRoll, D.Checkerboard, D.Pinwheel, D.Spiral, D.Mixture2D]


@pytest.mark.parametrize("cls", ALL)
def test_shapes_seeding_and_fresh_draws(cls):
    a, b = cls(n_train=300, n_test=200, seed=4), cls(n_train=300, n_test=200, seed=4)
    assert a.train.shape == (300, a.dim) and a.test.shape == (200, a.dim)
    assert a.train.dtype == torch.float32 and torch.isfinite(a.train).all()
    assert torch.equal(a.train, b.train) and torch.equal(a.test, b.test)
    assert not torch.equal(a.train, cls(n_train=300, n_test=200, seed=5).train)
    fresh = a.sample(300)
    assert fresh.shape == (300, a.dim) and not torch.equal(fresh, a.train)


def test_which_sets_have_exact_densities():
    exact = {c.name for c in ALL if c(n_train=10, n_test=10).has_density}
    assert exact == {"mixture1d", "uniform1d", "8gaussians", "25gaussians", "checkerboard", "mixture2d"}
    with pytest.raises(NotImplementedError, match="moons has no closed-form density"):
        D.Moons(n_train=10, n_test=10).log_prob(torch.zeros(1, 2))


@pytest.mark.parametrize("cls,lo,hi", [(D.Mixture1D, -8, 10), (D.Uniform1D, -1, 2)])
def test_1d_densities_integrate_to_one(cls, lo, hi):
    data = cls(n_train=10, n_test=10)
    assert integrate_1d(data.log_prob, lo, hi) == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize(
    "build,box",
    [
        (D.Mixture2D, 7),
        (D.Checkerboard, 5),
        (lambda **kw: D.RingOfGaussians(std=0.3, **kw), 3),  # wider modes than the default, for a coarse grid
        (lambda **kw: D.GridOfGaussians(std=0.3, **kw), 3),
    ],
)
def test_2d_densities_integrate_to_one(build, box):
    data = build(n_train=10, n_test=10)
    assert integrate_2d(data.log_prob, (-box, -box), (box, box), 801) == pytest.approx(1.0, abs=5e-3)


def test_densities_agree_with_their_samples():
    """The mean log-density of fresh draws is the entropy's negative; the histogram follows the density."""
    data = D.Mixture1D(n_train=50_000, n_test=10)
    counts, edges = torch.histogram(data.train[:, 0].double(), bins=40, range=(-4.0, 6.0))
    centres = (edges[1:] + edges[:-1]) / 2
    expected = data.log_prob(centres[:, None]).exp() * (edges[1] - edges[0]) * 50_000
    assert ((counts - expected).abs() / expected.clamp_min(50).sqrt()).max() < 5  # within 5 sigma everywhere


def test_wgan_gp_toy_scaling():
    ring = D.RingOfGaussians(n_train=8000, n_test=10)
    assert torch.allclose(ring.modes.norm(dim=1), torch.full((8,), 2 / 1.414, dtype=torch.float64))
    assert ring.mode_std == pytest.approx(0.02 / 1.414)
    nearest = torch.cdist(ring.train.double(), ring.modes).argmin(1)
    residual = ring.train.double() - ring.modes[nearest]
    assert residual.std().item() == pytest.approx(0.02 / 1.414, rel=0.05)
    grid = D.GridOfGaussians(n_train=10, n_test=10)
    assert grid.modes.shape == (25, 2) and grid.modes.max().item() == pytest.approx(4 / 2.828)
    roll = D.SwissRoll(n_train=5000, n_test=10, noise=0.0)
    radius = roll.train.double().norm(dim=1) * 7.5  # t in [1.5 pi, 4.5 pi] before the / 7.5
    assert radius.min() >= 1.5 * math.pi - 1e-3 and radius.max() <= 4.5 * math.pi + 1e-3


def test_checkerboard_draws_lie_on_its_support():
    board = D.Checkerboard(n_train=5000, n_test=10)
    assert torch.isfinite(board.log_prob(board.train)).all()
    assert torch.isneginf(board.log_prob(torch.tensor([[1.0, -1.0], [9.0, 0.0]]))).all()


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: D.Moons(n_train=0), "n_train must be a positive integer"),
        (lambda: D.Moons(noise=-1), "noise must be a number >= 0"),
        (lambda: D.Mixture1D(stds=[1.0, -1.0]), "stds must be 2 positive numbers"),
        (lambda: D.Mixture1D(means=[0.0, math.nan]), "means must hold finite numbers only"),
        (lambda: D.Mixture2D(weights=[1, 2]), "weights must be 3 positive numbers"),
        (lambda: D.Uniform1D(low=1, high=0), "low must be a number below high"),
    ],
)
def test_bad_parameters_name_the_key(build, message):
    with pytest.raises(ConfigError, match=message):
        build()
