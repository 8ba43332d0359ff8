"""The VAE: its bounds against a closed form, its training, and the lecture's lambda."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.data import Moons
from genlab.errors import ConfigError
from genlab.models import VAE

DIM, LATENT, NOISE = 3, 2, 0.5


def linear_gaussian_vae(exact_posterior: bool) -> tuple[VAE, torch.distributions.MultivariateNormal]:
    """p(z) = N(0, I), p(x | z) = N(W z + b, s^2 I), so p(x) = N(b, W W^T + s^2 I) exactly.

    W has orthogonal columns, so the true posterior N(M (x - b), S) has a diagonal S and
    a linear encoder can represent it: then the ELBO equals ln p(x) for every x.
    """
    torch.manual_seed(0)
    model = VAE(latent_dim=LATENT, depth=0, decoder_std=NOISE).build(DIM)
    w = torch.tensor([[1.5, 0.0], [0.0, 0.8], [0.0, 0.0]])
    b = torch.tensor([0.3, -0.2, 1.0])
    with torch.no_grad():
        model.decoder[0].weight.copy_(w)
        model.decoder[0].bias.copy_(b)
        if exact_posterior:
            s = torch.linalg.inv(torch.eye(LATENT) + w.T @ w / NOISE**2)
            m = s @ w.T / NOISE**2
            model.encoder[0].weight.copy_(torch.cat([m, torch.zeros(LATENT, DIM)]))
            model.encoder[0].bias.copy_(torch.cat([-m @ b, torch.diagonal(s).log()]))
    exact = torch.distributions.MultivariateNormal(b, w @ w.T + NOISE**2 * torch.eye(DIM))
    return model, exact


def test_elbo_is_below_iwae_which_is_below_the_exact_log_likelihood():
    model, exact = linear_gaussian_vae(exact_posterior=False)
    x = exact.sample((2000,))
    truth = exact.log_prob(x).mean().item()
    elbo = model.elbo(x, torch.Generator().manual_seed(1)).mean().item()
    iwae = [model.log_prob(x, torch.Generator().manual_seed(1), k=k).mean().item() for k in (1, 10, 100, 1000)]
    assert abs(iwae[0] - elbo) < 0.1  # k = 1 is the ELBO (another draw)
    assert elbo < iwae[1] < iwae[2] < iwae[3] <= truth + 0.01
    assert elbo < truth - 0.5  # a poor encoder leaves a real gap
    assert truth - iwae[3] < 0.25 * (truth - elbo)  # ... which the importance weights mostly close


def test_with_the_exact_posterior_the_elbo_is_the_log_likelihood():
    model, exact = linear_gaussian_vae(exact_posterior=True)
    x = exact.sample((500,))
    truth = exact.log_prob(x)
    # Every importance weight p(x, z) / q(z | x) is then p(x) itself: the IWAE estimate is exact.
    assert torch.allclose(model.log_prob(x, torch.Generator().manual_seed(1), k=50), truth, atol=1e-4)
    # The ELBO (closed-form KL, one draw of z) is exact on average only.
    elbo = model.elbo(x, torch.Generator().manual_seed(1))
    assert abs(elbo.mean() - truth.mean()) < 3 * (elbo - truth).std() / math.sqrt(len(x))


def test_training_lowers_the_objective_and_lambda_sets_how_far_pushforwards_stray():
    x = Moons(n_train=1000).train
    spreads = {}
    for kl_weight in (1.0, 0.01):
        torch.manual_seed(0)
        model = VAE(kl_weight=kl_weight, hidden=32, batch_size=128).fit(x, max_steps=1500, log_every=100)
        draws = model.pushforward(x[:200], 10, torch.Generator().manual_seed(0))
        spreads[kl_weight] = (draws - x[:200]).norm(dim=-1).mean().item()
        if kl_weight == 1.0:
            test = Moons(n_train=500, seed=1).test
            ll = model.log_prob(test, torch.Generator().manual_seed(0), k=200).mean().item()
            gaussian = torch.distributions.MultivariateNormal(x.mean(0), torch.cov(x.T)).log_prob(test).mean().item()
            assert ll > gaussian + 0.04  # -1.90 nats for the Gaussian, -1.82 for this short run
    # The lecture's point: with small lambda the x^_i ~ g#mu_i stay near their x_i.
    assert spreads[0.01] < 0.5 * spreads[1.0]


def test_samples_decode_the_prior_and_bernoulli_images_are_pixel_probabilities():
    torch.manual_seed(0)
    model = VAE(latent_dim=4, hidden=16, likelihood="bernoulli").build(16, image_shape=(1, 4, 4))
    images = model.sample(50, torch.Generator().manual_seed(0))
    assert images.shape == (50, 16) and images.min() >= 0 and images.max() <= 1
    again = model.sample(50, torch.Generator().manual_seed(0))
    assert torch.equal(images, again)
    binary = torch.bernoulli(torch.full((20, 16), 0.3), generator=torch.Generator().manual_seed(0))
    assert (model.log_prob(binary, k=20) < 0).all()  # a probability of a discrete image


def test_a_checkpoint_round_trip_keeps_the_model():
    torch.manual_seed(0)
    model = VAE(hidden=16).fit(Moons(n_train=300).train, max_steps=30)
    clone = VAE(hidden=16).load_state_dict(model.state_dict())
    x = Moons(n_train=300).test[:50]
    assert torch.equal(model.log_prob(x, torch.Generator().manual_seed(0), k=10), clone.log_prob(x, torch.Generator().manual_seed(0), k=10))


@pytest.mark.parametrize("kwargs, message", [
    ({"kl_weight": -0.1}, "kl_weight must be a number >= 0"),
    ({"latent_dim": 0}, "latent_dim must be a positive integer"),
    ({"likelihood": "poisson"}, "likelihood must be one of bernoulli, gaussian"),
    ({"decoder_std": 0}, "decoder_std must be 'learned' or a positive number"),
    ({"iwae_k": 0}, "iwae_k must be a positive integer"),
])
def test_bad_settings_are_refused_by_name(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        VAE(**kwargs)


def test_a_bernoulli_decoder_is_refused_on_points():
    with pytest.raises(ConfigError, match="likelihood bernoulli is for images"):
        VAE(likelihood="bernoulli").build(2)


def test_gaussian_decoder_log_prob_matches_torch_distributions():
    torch.manual_seed(0)
    model = VAE(decoder_std=0.3, hidden=8).build(2)
    x, z = torch.randn(5, 2), torch.randn(7, 5, 2)
    mean = model.decoder(z)
    expected = torch.distributions.Normal(mean, 0.3).log_prob(x).sum(-1)
    assert torch.allclose(model.decoder_log_prob(x, z), expected, atol=1e-5)
    assert math.isclose(model.decoder.log_std[0].exp().item(), 0.3, rel_tol=1e-6)
