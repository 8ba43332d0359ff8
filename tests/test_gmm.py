import math

import pytest
import torch

from conftest import integrate_1d, integrate_2d
from genlab.data import Mixture1D, Mixture2D
from genlab.errors import ConfigError
from genlab.models import GMM
from genlab.models.gmm import COVARIANCE_TYPES, INITS


def matched(estimate, truth):
    """Order estimated components like the true ones (nearest mean)."""
    return torch.cdist(truth, estimate).argmin(1)


def test_recovers_a_known_mixture():
    data = Mixture2D(n_train=20_000, n_test=10, seed=1)
    model = GMM(3, n_init=3, tol=1e-8, max_iter=500, seed=0).fit(data.train)
    order = matched(model.means_, data.means)
    assert torch.allclose(model.means_[order], data.means, atol=0.05)
    assert torch.allclose(model.weights_[order], data.weights, atol=0.02)
    assert torch.allclose(model.covariances_[order], data.covariances, atol=0.04)
    assert model.converged_


def test_log_likelihood_history_never_decreases_and_matches_the_model():
    data = Mixture1D(n_train=3000, n_test=10)
    for covariance_type in COVARIANCE_TYPES:
        for init in INITS:
            model = GMM(4, covariance_type=covariance_type, init=init, tol=0, max_iter=60, seed=3).fit(data.train.double())
            history = model.log_likelihood_history_
            assert len(history) == 61 and model.n_iter_ == 60
            assert (history[1:] - history[:-1]).min() >= -1e-12, (covariance_type, init)
            assert history[-1].item() == pytest.approx(model.log_prob(data.train.double()).mean().item(), abs=1e-12)


@pytest.mark.parametrize("covariance_type,shape", [("full", (3, 2, 2)), ("diag", (3, 2)), ("spherical", (3,)), ("tied", (2, 2))])
def test_covariance_types_have_sklearn_shapes_and_densities_integrate(covariance_type, shape):
    x = Mixture2D(n_train=2000, n_test=10).train.double()
    model = GMM(3, covariance_type=covariance_type, seed=0).fit(x)
    assert tuple(model.covariances_.shape) == shape
    assert integrate_2d(model.log_prob, (-7, -7), (7, 7), 701) == pytest.approx(1.0, abs=2e-3)
    if covariance_type == "diag":
        assert (model.covariances_ > 0).all()


def test_1d_density_integrates_to_one():
    model = GMM(2, seed=0).fit(Mixture1D(n_train=1000, n_test=10).train)
    assert integrate_1d(model.log_prob, -15, 15) == pytest.approx(1.0, abs=1e-6)


def test_log_prob_matches_torch_distributions():
    model = GMM(3, seed=0).fit(Mixture2D(n_train=1000, n_test=10).train.double())
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(model.weights_),
        torch.distributions.MultivariateNormal(model.means_, model.covariances_),
    )
    x = 2 * torch.randn(500, 2, dtype=torch.float64)
    assert torch.allclose(model.log_prob(x), mixture.log_prob(x), atol=1e-10)


def test_bic_and_aic_follow_their_formulas():
    x = Mixture2D(n_train=1500, n_test=10).train.double()
    model = GMM(3, seed=0).fit(x)
    total = model.log_prob(x).sum().item()
    assert model.n_parameters == 3 * 3 + 3 * 2 + 2  # full covariances, means, free weights
    assert model.bic(x) == pytest.approx(-2 * total + 17 * math.log(1500))
    assert model.aic(x) == pytest.approx(-2 * total + 34)


def test_samples_follow_the_fitted_mixture():
    model = GMM(3, seed=0).fit(Mixture2D(n_train=2000, n_test=10).train.double())
    s = model.sample(200_000, generator=torch.Generator().manual_seed(0)).double()
    mean = (model.weights_[:, None] * model.means_).sum(0)
    assert torch.allclose(s.mean(0), mean, atol=0.01)
    second = (model.weights_[:, None, None] * (model.covariances_ + model.means_[:, :, None] * model.means_[:, None, :])).sum(0)
    assert torch.allclose(torch.cov(s.T), second - mean[:, None] * mean[None, :], atol=0.02)


def test_explicit_start_and_seed_are_deterministic():
    x = Mixture2D(n_train=1000, n_test=10).train
    a, b = GMM(3, seed=7).fit(x), GMM(3, seed=7).fit(x)
    assert torch.equal(a.means_, b.means_)
    start = GMM(3, weights_init=a.weights_, means_init=a.means_, covariances_init=a.covariances_, max_iter=5).fit(x)
    assert start.log_likelihood_history_[0].item() == pytest.approx(a.log_likelihood_history_[-1].item(), abs=1e-12)


def test_state_round_trip():
    x = Mixture2D(n_train=500, n_test=10).train
    model = GMM(3, covariance_type="tied", seed=0).fit(x)
    clone = GMM(3, covariance_type="tied").load_state_dict(model.state_dict())
    assert torch.equal(clone.log_prob(x), model.log_prob(x))


def test_a_collapsing_component_is_named_not_crashed():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [10.0, 10.0]])  # the far point gets a component alone
    with pytest.raises(ConfigError, match=r"reg_covar is too small: component \d+ collapsed"):
        GMM(2, reg_covar=0.0, seed=0).fit(x)
    assert torch.isfinite(GMM(2, seed=0).fit(x).log_prob(x)).all()  # the default reg_covar regularizes


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: GMM(0), "n_components must be a positive integer"),
        (lambda: GMM(2.5), "n_components must be a positive integer"),
        (lambda: GMM(covariance_type="block"), "covariance_type must be one of full, diag, spherical, tied"),
        (lambda: GMM(init="kmeans"), "init must be one of kmeans\\+\\+, random, random_from_data"),
        (lambda: GMM(reg_covar=-1), "reg_covar must be a number >= 0"),
        (lambda: GMM(5).fit(torch.randn(4, 2)), "n_components must be at most the number of training points \\(4\\)"),
        (lambda: GMM(1).fit(torch.tensor([[1.0, math.inf]])), "contains NaN or infinite values"),
        (lambda: GMM(2, means_init=[[0.0]]), "must be given together"),
    ],
)
def test_bad_input_names_the_key(build, message):
    with pytest.raises(ConfigError, match=message):
        build()
