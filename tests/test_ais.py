"""Annealed importance sampling (genlab.metrics.ais): against the exact ln p(x) of a
linear-Gaussian decoder, the BDMC sandwich, the VAE's IWAE bound, and its refusals."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.errors import ConfigError
from genlab.metrics.ais import (
    AISSettings,
    ais_log_likelihood,
    bdmc_gap,
    decoder_for,
    linear_gaussian_decoder,
    linear_gaussian_log_prob,
)

SIGMA = 1.0  # with W ~ N(0, 1): signal variance 10 per coordinate, posterior std 0.1-0.25 (20 nats from the prior)


def linear_gaussian(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    weight, bias = torch.randn(50, 10, generator=g), torch.randn(50, generator=g)
    return weight, bias, linear_gaussian_decoder(weight, bias, SIGMA), g


def test_linear_gaussian_default_schedule_within_005_nats_of_exact():
    weight, bias, decoder, g = linear_gaussian()
    x = decoder.sample(torch.randn(400, 10, generator=g), g)
    report = ais_log_likelihood(decoder, x, AISSettings(), g)
    error = report["per_point"] - linear_gaussian_log_prob(weight, bias, SIGMA, x)
    assert report["per_point"].dtype == torch.float64 and report["per_point"].shape == (400,)
    assert abs(error.mean().item()) < 0.05, error.mean()
    assert error.mean().item() < 3 * error.std().item() / math.sqrt(len(error))  # not above the truth beyond noise
    assert report["standard_error"] > 0 and 0.5 < report["acceptance"] < 0.95


def test_bdmc_sandwiches_the_exact_log_likelihood():
    weight, bias, decoder, g = linear_gaussian(2)
    result = bdmc_gap(decoder, n_points=200, settings=AISSettings(n_steps=200), generator=g)
    exact = linear_gaussian_log_prob(weight, bias, SIGMA, result["simulated"])
    lower, upper = result["lower"]["per_point"], result["upper"]["per_point"]
    noise = 2 * math.sqrt(result["lower"]["standard_error"] ** 2 + result["upper"]["standard_error"] ** 2)
    assert (lower - exact).mean() < 0.02 and (upper - exact).mean() > -0.02
    assert lower.mean() <= exact.mean() + noise and exact.mean() <= upper.mean() + noise
    assert result["gap"] > 0 and result["gap"] == pytest.approx((upper - lower).mean().item())
    # a short schedule leaves a visible gap, the default nearly closes it
    tight = bdmc_gap(decoder, n_points=100, generator=g)
    assert 0 < tight["gap"] < 0.25 < result["gap"]


def test_vae_bound_at_least_its_iwae_bound():
    from genlab.models.vae import VAE

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(3)
    z = torch.randn(2000, 2, generator=g)
    x = torch.tanh(z @ torch.randn(2, 6, generator=g)) + 0.1 * torch.randn(2000, 6, generator=g)
    model = VAE(latent_dim=2, hidden=32, depth=1, batch_size=128).fit(x[:1500], max_steps=300)
    test = x[1500:1700]
    iwae = model.log_prob(test, torch.Generator().manual_seed(4), k=1000).double()
    report = ais_log_likelihood(decoder_for(model), test, AISSettings(n_steps=1000), torch.Generator().manual_seed(5))
    assert report["initial"] == "encoder"
    se = math.sqrt(report["standard_error"] ** 2 + (iwae.std() / math.sqrt(len(iwae))).item() ** 2)
    assert report["mean"] >= iwae.mean().item() - 2 * se, (report["mean"], iwae.mean().item(), se)


def test_gan_sigma_chosen_on_validation_from_the_grid():
    from genlab.models.gan import GAN
    from genlab.metrics.ais import SIGMA_GRID

    torch.manual_seed(0)
    model = GAN(latent_dim=2, hidden=16, depth=1, latent="uniform").build(4)
    validation = model.sample(50, torch.Generator().manual_seed(1)) + 0.2 * torch.randn(50, 4, generator=torch.Generator().manual_seed(2))
    decoder = decoder_for(model, validation=validation, generator=torch.Generator().manual_seed(3))
    assert decoder.sigma in SIGMA_GRID and set(decoder.sigma_selection) == set(SIGMA_GRID)
    assert decoder.sigma == max(decoder.sigma_selection, key=decoder.sigma_selection.get)
    assert 0.1 <= decoder.sigma <= 0.5  # the noise added was 0.2
    report = ais_log_likelihood(decoder, validation, AISSettings(n_steps=50), torch.Generator().manual_seed(4))
    assert report["sigma"] == decoder.sigma and math.isfinite(report["mean"])


@pytest.mark.parametrize("call, name", [
    (lambda d, x: AISSettings(n_chains=0), "n_chains"),
    (lambda d, x: AISSettings(n_steps=1.5), "n_steps"),
    (lambda d, x: AISSettings(schedule="cosine"), "schedule"),
    (lambda d, x: ais_log_likelihood(d, x[:, :49]), "images"),
    (lambda d, x: ais_log_likelihood(d, x.reshape(2, 5, 2, 50)), "images"),
    (lambda d, x: ais_log_likelihood(d, torch.where(x > 2, math.nan, x)), "images"),
    (lambda d, x: ais_log_likelihood(d, x.long()), "images"),
    (lambda d, x: bdmc_gap(d, n_points=0), "n_points"),
])
def test_bad_input_is_a_one_line_error_naming_the_argument(call, name):
    _, _, decoder, g = linear_gaussian()
    x = decoder.sample(torch.randn(20, 10, generator=g), g) + torch.linspace(0, 5, 20)[:, None]
    with pytest.raises(ConfigError, match=name) as error:
        call(decoder, x)
    assert "\n" not in str(error.value)


def test_decoder_for_refuses_what_it_cannot_anneal():
    from genlab.models.gan import GAN
    from genlab.models.kde import KDE
    from genlab.models.vae import VAE

    vae = VAE(hidden=8).build(3)
    with pytest.raises(ConfigError, match="sigma"):
        decoder_for(vae, sigma=0.1)
    with pytest.raises(ConfigError, match="sigma"):
        decoder_for(GAN(hidden=8, depth=1).build(3))
    with pytest.raises(ConfigError, match="model must be a VAE, GAN or WGAN"):
        decoder_for(KDE())


def test_seeded_and_deterministic():
    _, _, decoder, _ = linear_gaussian()
    x = decoder.sample(torch.randn(30, 10, generator=torch.Generator().manual_seed(0)), None)
    settings = AISSettings(n_steps=100)
    first = ais_log_likelihood(decoder, x, settings, torch.Generator().manual_seed(7))["per_point"]
    second = ais_log_likelihood(decoder, x, settings, torch.Generator().manual_seed(7))["per_point"]
    assert torch.equal(first, second)
