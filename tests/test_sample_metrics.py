"""Sample metrics against answers known by hand or in closed form."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.data.mixtures import Mixture1D, RingOfGaussians, Uniform1D
from genlab.errors import ConfigError
from genlab.metrics import (
    kde_of_samples,
    kde_test_log_likelihood,
    mmd_bandwidths,
    mmd_rbf,
    mode_coverage,
    sample_quality,
    real_data_quality,
    sliced_wasserstein,
    true_log_density,
    wasserstein_1d,
)
from genlab.metrics import samples as sample_metrics
from genlab.models.kde import KDE


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def dense_mmd(x, y, s):
    """The textbook unbiased estimate, all at once, for comparison."""
    k = lambda a, b: torch.exp(-torch.cdist(a, b) ** 2 / (2 * s**2))
    n, m = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return ((kxx.sum() - kxx.trace()) / (n * (n - 1)) + (kyy.sum() - kyy.trace()) / (m * (m - 1)) - 2 * k(x, y).mean()).item()


# -- MMD -----------------------------------------------------------------------------------


def test_mmd_is_near_zero_for_the_same_distribution_and_positive_for_a_shift():
    x = torch.randn(1500, 2, generator=gen(1))
    y = torch.randn(1500, 2, generator=gen(2))
    same = mmd_rbf(x, y, [0.5, 1.0])
    shifted = mmd_rbf(x, y + torch.tensor([2.0, 0.0]), [0.5, 1.0])
    assert set(same) == {"0.5", "1"}
    assert all(abs(v) < 3e-3 for v in same.values())
    # Population values in 2D: 2 (s^2/(s^2+2)) (1 - exp(-4/(2 (s^2+2)))) = 0.131 and 0.324.
    assert shifted["0.5"] == pytest.approx(0.131, abs=0.015)
    assert shifted["1"] == pytest.approx(0.324, abs=0.03)


# tolerance: 3 standard deviations of the estimate at n=3000 (0.005, 0.008, 0.009 over repeated draws)
@pytest.mark.parametrize("shift, s, tolerance", [(0.5, 1.0, 0.015), (1.0, 0.5, 0.025), (2.0, 2.0, 0.03)])
def test_mmd_matches_the_closed_form_for_two_unit_gaussians(shift, s, tolerance):
    # N(0,1) vs N(m,1): MMD^2 = 2 s/sqrt(s^2+2) (1 - exp(-m^2 / (2 (s^2+2)))).
    expected = 2 * s / math.sqrt(s * s + 2) * (1 - math.exp(-(shift**2) / (2 * (s * s + 2))))
    x = torch.randn(3000, 1, generator=gen(3), dtype=torch.float64)
    y = torch.randn(3000, 1, generator=gen(4), dtype=torch.float64) + shift
    value = mmd_rbf(x, y, [s])[f"{s:.3g}"]
    assert value == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("dim", [1, 2, 5])  # 5: the matrix-product distances
def test_blockwise_mmd_equals_the_dense_formula(dim, monkeypatch):
    monkeypatch.setattr(sample_metrics, "BLOCK_ELEMENTS", 50)  # many blocks, ragged last one
    x = torch.randn(37, dim, generator=gen(5), dtype=torch.float64)
    y = torch.randn(23, dim, generator=gen(6), dtype=torch.float64) + 0.3
    values = mmd_rbf(x, y.float(), [0.3, 1.0, 4.0])
    for s in (0.3, 1.0, 4.0):
        assert values[f"{s:.3g}"] == pytest.approx(dense_mmd(x, y.float().double(), s), abs=1e-12)


def test_mmd_bandwidths_follow_the_median_distance():
    # Three points on a line: distances 1, 2, 3, so the median is 2.
    assert mmd_bandwidths(torch.tensor([[0.0], [1.0], [3.0]])) == pytest.approx([0.2, 0.6, 2.0, 6.0])
    big = torch.randn(5000, 2, generator=gen(7))
    first = mmd_bandwidths(big)
    assert first == mmd_bandwidths(big.clone())
    # The median distance between two N(0, I_2) points is 2 sqrt(ln 2) (Rayleigh with scale sqrt 2).
    assert first[2] == pytest.approx(2 * math.sqrt(math.log(2)), rel=0.03)


def test_mmd_refuses_bad_input():
    with pytest.raises(ConfigError, match="same dimension"):
        mmd_rbf(torch.zeros(5, 2), torch.zeros(5, 3), [1.0])
    with pytest.raises(ConfigError, match="at least 2 points"):
        mmd_rbf(torch.zeros(1, 2), torch.zeros(5, 2), [1.0])
    with pytest.raises(ConfigError, match="bandwidth"):
        mmd_rbf(torch.zeros(5, 2), torch.zeros(5, 2), [0.0])


# -- Wasserstein ---------------------------------------------------------------------------


def test_wasserstein_1d_by_hand():
    assert wasserstein_1d(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0])) == pytest.approx(2.0)
    # F_x - F_y = 1/2 - 1/3 on [0, 1) and 1 - 2/3 on [1, 2): 1/6 + 1/3.
    assert wasserstein_1d(torch.tensor([0.0, 1.0]), torch.tensor([[0.0], [1.0], [2.0]])) == pytest.approx(0.5)
    assert wasserstein_1d(torch.tensor([5.0]), torch.tensor([1.0, 2.0, 3.0, 10.0])) == pytest.approx((4 + 3 + 2 + 5) / 4)


def test_wasserstein_1d_is_a_shift_for_shifted_copies_and_symmetric():
    x = torch.randn(1001, generator=gen(8), dtype=torch.float64)
    y = torch.randn(400, generator=gen(9), dtype=torch.float64) * 2
    assert wasserstein_1d(x, x + 0.7) == pytest.approx(0.7, abs=1e-12)
    assert wasserstein_1d(x, x - 2.5) == pytest.approx(2.5, abs=1e-12)
    assert wasserstein_1d(x, y) == pytest.approx(wasserstein_1d(y, x), abs=1e-12)
    assert wasserstein_1d(x, x) == 0.0


def test_sliced_wasserstein_of_a_shift_is_the_mean_absolute_projection():
    x = torch.randn(500, 2, generator=gen(12), dtype=torch.float64)
    shift = torch.tensor([3.0, -4.0], dtype=torch.float64)  # |c| = 5
    value = sliced_wasserstein(x, x + shift, n_projections=4096, seed=3)
    # Uniform directions: E|cos| = 2/pi; its standard error at 4096 draws is 0.005.
    assert value == pytest.approx(5 * 2 / math.pi, abs=5 * 0.02)
    # Exactly |c . theta| per direction, for the same seeded directions.
    theta = torch.randn(4096, 2, generator=gen(3), dtype=torch.float64)
    theta = theta / theta.norm(dim=1, keepdim=True)
    assert value == pytest.approx((theta @ shift).abs().mean().item(), abs=1e-9)
    assert sliced_wasserstein(x, x + shift, n_projections=4096, seed=3) == value


def test_sliced_wasserstein_in_1d_equals_the_exact_w1_and_blocks_do_not_matter(monkeypatch):
    x = torch.randn(200, 1, generator=gen(13))
    y = torch.randn(130, 1, generator=gen(14)) + 0.4
    assert sliced_wasserstein(x, y, n_projections=16) == pytest.approx(wasserstein_1d(x, y), abs=1e-12)
    z = torch.randn(200, 3, generator=gen(15))
    w = torch.randn(90, 3, generator=gen(16)) * 1.5
    whole = sliced_wasserstein(z, w, n_projections=64)
    monkeypatch.setattr(sample_metrics, "BLOCK_ELEMENTS", 2000)  # 6 projections per block
    assert sliced_wasserstein(z, w, n_projections=64) == pytest.approx(whole, abs=1e-12)


# -- likelihood views ----------------------------------------------------------------------


def test_kde_of_samples_is_a_labelled_scott_kde():
    samples = torch.randn(300, 2, generator=gen(17))
    kde = kde_of_samples(samples)
    assert isinstance(kde, KDE) and kde.kernel == "gaussian" and kde.bandwidth == "scott"
    assert kde.label == "GAN kde" and KDE.label != "GAN kde"  # set on the instance only
    assert kde_of_samples(samples, label="WGAN kde").label == "WGAN kde"


def test_collapsed_samples_get_minus_infinity_and_an_isotropic_kde_to_draw():
    """A generator collapsed onto a line (or a point) has no Scott bandwidth: the metric is
    the limit Scott's rule tends to, -inf, and the figure's kde an isotropic one."""
    t = torch.randn(500, 1, generator=gen(21), dtype=torch.float64)
    on_a_line = torch.cat([t, 2 * t], 1)
    test = torch.randn(200, 2, generator=gen(22), dtype=torch.float64)
    assert kde_test_log_likelihood(on_a_line, test) == {"mean": -math.inf, "standard_error": 0.0}
    kde = kde_of_samples(on_a_line)
    h = 500 ** (-1 / 6) * (2 * t).std().item()  # Scott's factor times the widest coordinate's spread
    assert kde.bandwidth == pytest.approx(h) and torch.isfinite(kde.log_prob(test)).all()
    assert kde_of_samples(torch.ones(50, 2, dtype=torch.float64)).bandwidth == pytest.approx(50 ** (-1 / 6))
    assert math.isfinite(kde_test_log_likelihood(torch.randn(500, 2, generator=gen(23), dtype=torch.float64), test)["mean"])


def test_kde_test_log_likelihood_of_gaussian_samples_is_near_minus_the_entropy():
    samples = torch.randn(1500, 2, generator=gen(18), dtype=torch.float64)
    test = torch.randn(1500, 2, generator=gen(19), dtype=torch.float64)
    result = kde_test_log_likelihood(samples, test)
    negative_entropy = -(1 + math.log(2 * math.pi))  # N(0, I_2)
    assert 0 < result["standard_error"] < 0.05
    assert result["mean"] == pytest.approx(negative_entropy, abs=0.08)
    assert result["mean"] < negative_entropy + 3 * result["standard_error"]  # Gibbs: cross-entropy >= entropy (up to noise)


def test_true_log_density_equals_the_mean_log_prob_for_mixture1d():
    data = Mixture1D(n_train=50, n_test=50)
    samples = data.sample(400, gen(20))
    result = true_log_density(data, samples)
    assert result == {"mean": pytest.approx(data.log_prob(samples.double()).mean().item(), abs=1e-12), "outside_support": 0.0}


def test_true_log_density_counts_samples_outside_the_uniform():
    data = Uniform1D(low=0.0, high=2.0, n_train=10, n_test=10)
    result = true_log_density(data, torch.tensor([-1.0, 0.5, 1.0, 3.0, 1.5]))
    assert result["outside_support"] == pytest.approx(0.4)
    assert result["mean"] == pytest.approx(-math.log(2.0))
    assert result["mean_all"] == -math.inf
    assert true_log_density(data, torch.tensor([5.0]))["mean"] == -math.inf


# -- mode coverage -------------------------------------------------------------------------


def test_mode_coverage_on_seven_of_eight_modes_with_junk():
    data = RingOfGaussians(n_train=10, n_test=10)
    modes, std = data.modes, data.mode_std
    on_modes = torch.cat([modes[i].expand(i + 1, 2) for i in range(7)])  # 1, 2, ..., 7 samples
    within = modes[2] + torch.tensor([2.9 * std, 0.0], dtype=torch.float64)  # still high quality
    beyond = modes[7] + torch.tensor([0.0, 3.1 * std], dtype=torch.float64)  # not, so mode 7 stays missed
    junk = torch.full((5, 2), 10.0, dtype=torch.float64)
    samples = torch.cat([on_modes, within[None], beyond[None], junk])  # 28 + 1 + 1 + 5 = 35
    result = mode_coverage(samples, modes, std)
    assert result == {
        "modes_captured": 7,
        "n_modes": 8,
        "high_quality_fraction": pytest.approx(29 / 35),
        "mode_counts": [1, 2, 4, 4, 5, 6, 7, 0],
        "min_mode_fraction": 0.0,
        "n_samples": 35,
    }
    everything = mode_coverage(samples, modes, std, n_std=4.0)
    assert everything["modes_captured"] == 8 and everything["mode_counts"][7] == 1
    assert everything["min_mode_fraction"] == pytest.approx(1 / 35)


# -- the reports ---------------------------------------------------------------------------


def test_model_beside_real_data_on_the_ring():
    data = RingOfGaussians(n_train=500, n_test=500)
    g = gen(21)
    one_mode = lambda n: data.modes[0] + data.mode_std * torch.randn(n, 2, generator=g, dtype=torch.float64)
    real, model = real_data_quality(data), sample_quality(one_mode(2500), data)
    assert set(real) == {"mmd", "sliced_wasserstein", "kde_test_log_likelihood", "true_log_density", "mode_coverage"}
    assert real["mode_coverage"]["modes_captured"] == 8 and real["mode_coverage"]["n_samples"] == 2500
    # In 2D, P(|noise| <= 3 std) = 1 - exp(-9/2) = 0.9889; its binomial error at n=2500 is 0.0021.
    assert real["mode_coverage"]["high_quality_fraction"] == pytest.approx(1 - math.exp(-4.5), abs=0.0085)
    assert all(abs(v) < 2e-3 for v in real["mmd"].values())
    assert real["sliced_wasserstein"] < 0.1
    assert model["mode_coverage"]["modes_captured"] == 1
    assert model["mode_coverage"]["mode_counts"][1:] == [0] * 7
    assert all(v > 0.05 for v in model["mmd"].values())
    assert model["sliced_wasserstein"] > 10 * real["sliced_wasserstein"]
    assert model["kde_test_log_likelihood"]["mean"] < real["kde_test_log_likelihood"]["mean"]
    # Both sit at the density's peaks, so their true log-density is alike.
    assert model["true_log_density"]["mean"] == pytest.approx(real["true_log_density"]["mean"], abs=0.2)


def test_sample_quality_in_1d_uses_the_exact_wasserstein():
    data = Mixture1D(n_train=100, n_test=300)
    result = sample_quality(data.sample(300, gen(22)), data)
    assert "wasserstein_1d" in result and "sliced_wasserstein" not in result and "mode_coverage" not in result
    assert result["wasserstein_1d"] == pytest.approx(wasserstein_1d(data.sample(300, gen(22)), data.test))
    assert result["wasserstein_1d"] < 0.3
    with pytest.raises(ConfigError, match="must have 1 columns"):
        sample_quality(torch.zeros(10, 2), data)
