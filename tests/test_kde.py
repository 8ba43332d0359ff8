import math

import pytest
import torch

from conftest import integrate_1d, integrate_2d
from genlab.errors import ConfigError
from genlab.models import KDE, kernels

PROFILES = {  # the kernels' unnormalized profiles of r = |u|, written out independently
    "gaussian": lambda r: torch.exp(-(r**2) / 2),
    "epanechnikov": lambda r: (1 - r**2).clamp(min=0),
    "tophat": lambda r: (r < 1).double(),
    "exponential": lambda r: torch.exp(-r),
    "linear": lambda r: (1 - r).clamp(min=0),
}
NORMALIZERS_2D = {"gaussian": 1 / (2 * math.pi), "epanechnikov": 2 / math.pi, "tophat": 1 / math.pi,
                  "exponential": 1 / (2 * math.pi), "linear": 3 / math.pi}


def brute_force(x, y, kernel, matrix):
    """float64 p(y) = 1/(n |B|) sum_i c K(B^-1 (y - x_i)), pair by pair."""
    diff = (y[:, None, :] - x[None, :, :]).double()
    u = torch.linalg.solve(matrix.double(), diff.reshape(-1, x.shape[1]).T).T.reshape(diff.shape)
    density = PROFILES[kernel](u.norm(dim=-1)).mean(1) * NORMALIZERS_2D[kernel] / torch.det(matrix.double())
    return density.log()


@pytest.mark.parametrize("kernel", kernels.KERNELS)
@pytest.mark.parametrize("bandwidth", [0.3, "scott", "silverman"])
def test_log_prob_matches_brute_force_float64(kernel, bandwidth):
    x, y = torch.randn(400, 2, dtype=torch.float64), 1.5 * torch.randn(300, 2, dtype=torch.float64)
    x[:, 1] = 0.5 * x[:, 1] + 0.3 * x[:, 0]  # a tilted cloud, so the rules' full covariance matters
    model = KDE(kernel, bandwidth).fit(x)
    expected, got = brute_force(x, y, kernel, model.bandwidth_matrix_), model.log_prob(y)
    assert torch.equal(torch.isfinite(expected), torch.isfinite(got))  # -inf exactly outside the support
    finite = torch.isfinite(expected)
    assert finite.sum() > 100
    assert (got[finite] - expected[finite]).abs().max() < 1e-9


@pytest.mark.parametrize("kernel", kernels.KERNELS)
def test_float32_is_within_1e4_of_float64(kernel):
    x, y = 3 * torch.randn(3000, 2), 3 * torch.randn(2000, 2)
    got = KDE(kernel, 0.2).fit(x).log_prob(y).double()
    exact = KDE(kernel, 0.2).fit(x.double()).log_prob(y.double())
    finite = torch.isfinite(exact)
    assert torch.equal(finite, torch.isfinite(got))
    assert (got[finite] - exact[finite]).abs().max() < 1e-4


@pytest.mark.parametrize("kernel", kernels.KERNELS)
def test_density_integrates_to_one_in_1d_and_2d(kernel):
    x1 = torch.randn(40, 1, dtype=torch.float64)
    assert integrate_1d(KDE(kernel, 0.4).fit(x1).log_prob, -20, 20, 80001) == pytest.approx(1.0, abs=1e-3)
    x2 = torch.randn(30, 2, dtype=torch.float64)
    model = KDE(kernel, "scott").fit(x2)
    box = 16 if kernel == "exponential" else 7
    assert integrate_2d(model.log_prob, (-box, -box), (box, box), 801) == pytest.approx(1.0, abs=5e-3)


def test_bandwidth_rules_match_their_formulas():
    x = torch.randn(500, 1, dtype=torch.float64) * 2 + 1
    std = x[:, 0].std().item()  # ddof 1, as scipy
    assert KDE(bandwidth="scott").fit(x).bandwidth_matrix_.item() == pytest.approx(std * 500 ** (-1 / 5))
    assert KDE(bandwidth="silverman").fit(x).bandwidth_matrix_.item() == pytest.approx(std * (500 * 3 / 4) ** (-1 / 5))
    x2 = torch.randn(800, 2, dtype=torch.float64) @ torch.tensor([[2.0, 0.0], [1.0, 0.5]], dtype=torch.float64)
    for rule, factor in (("scott", 800 ** (-1 / 6)), ("silverman", (800 * 4 / 4) ** (-1 / 6))):
        matrix = KDE(bandwidth=rule).fit(x2).bandwidth_matrix_
        assert torch.allclose(matrix @ matrix.T, factor**2 * torch.cov(x2.T), rtol=1e-10)
    assert torch.equal(KDE(bandwidth=0.25).fit(x2).bandwidth_matrix_, 0.25 * torch.eye(2, dtype=torch.float64))


def test_cv_picks_the_held_out_best_bandwidth():
    x = torch.randn(1000, 1, dtype=torch.float64)
    model = KDE(bandwidth="cv").fit(x)
    grid, scores = model.cv_scores_[:, 0], model.cv_scores_[:, 1]
    assert model.bandwidth_ == grid[scores.argmax()].item()
    assert 0 < scores.argmax() < len(grid) - 1  # an interior optimum, not the grid's edge
    # For a standard normal the held-out optimum lies near Silverman's 1.06 n^-1/5 (0.27 here).
    assert 0.15 < model.bandwidth_ < 0.45


@pytest.mark.parametrize("kernel", kernels.KERNELS)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_kernel_samples_have_the_kernels_moments(kernel, d):
    g = torch.Generator().manual_seed(1)
    u = kernels.sample(kernel, 200_000, d, generator=g, dtype=torch.float64)
    var = kernels.coordinate_variance(kernel, d)
    assert u.mean(0).abs().max() < 5 * math.sqrt(var / 200_000) * 1.5
    assert torch.allclose(u.var(0), torch.full((d,), var, dtype=torch.float64), rtol=0.02)
    if kernel in kernels.COMPACT:
        assert u.norm(dim=1).max() <= 1


@pytest.mark.parametrize("kernel", kernels.KERNELS)
def test_samples_follow_the_estimate(kernel):
    x = torch.tensor([[-2.0], [0.0], [3.0]], dtype=torch.float64)
    model = KDE(kernel, 0.5).fit(x)
    s = model.sample(300_000, generator=torch.Generator().manual_seed(2))
    # mixture of kernels at the points: mean of the points, variance of the points (ddof 0) + h^2 var(K)
    assert s.mean().item() == pytest.approx(x.mean().item(), abs=0.02)
    expected = x.var(unbiased=False).item() + 0.25 * kernels.coordinate_variance(kernel, 1)
    assert s.var().item() == pytest.approx(expected, rel=0.01)
    assert torch.isfinite(model.log_prob(s[:2000])).all()  # every sample lies inside the support


def test_compact_kernels_are_minus_infinity_outside_support():
    model = KDE("epanechnikov", 0.5).fit(torch.zeros(1, 2))
    out = model.log_prob(torch.tensor([[0.49, 0.0], [0.51, 0.0], [10.0, 10.0]]))
    assert torch.isfinite(out[0]) and torch.isneginf(out[1:]).all()


def test_state_round_trip():
    x = torch.randn(100, 2)
    model = KDE("linear", "silverman").fit(x)
    clone = KDE("linear", "silverman").load_state_dict(model.state_dict())
    assert torch.equal(clone.log_prob(x), model.log_prob(x))


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: KDE(bandwidth=0), "bandwidth must be a positive number or one of scott, silverman, cv"),
        (lambda: KDE(bandwidth=-0.2), "bandwidth must be a positive number"),
        (lambda: KDE(bandwidth="wide"), "bandwidth must be one of scott, silverman, cv"),
        (lambda: KDE(kernel="box"), "kernel must be one of gaussian, epanechnikov, tophat"),
        (lambda: KDE().fit(torch.tensor([[0.0], [math.nan]])), "x contains NaN or infinite values"),
        (lambda: KDE().fit(torch.ones(10, 2)), "singular"),
        (lambda: KDE(bandwidth=0.1).fit(torch.zeros(3, 2)).log_prob(torch.zeros(2, 3)), "must have 2 columns"),
    ],
)
def test_bad_input_names_the_key(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_unfitted_model_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        KDE().sample(3)
