"""Langevin dynamics and MALA on fitted densities: the chains' laws, the CLI's sampler
group, its refusals, and the lecture figure. Every chain is seeded, so the numbers in
the comments are what these exact runs give."""

import json
import math

import pytest
import torch

from helpers import run_cli
from genlab.data import Moons
from genlab.errors import ConfigError
from genlab.lecture.langevin import draw
from genlab.metrics import mmd_bandwidths, mmd_rbf
from genlab.models import GMM, KDE
from genlab.models.registry import model_classes
from genlab.sampling import LangevinSettings, langevin_sample, log_density, smallest_variance

_EXACT = [name.lower() for name, cls in model_classes().items() if cls.has_log_prob and cls.log_prob_is_exact]
EXACT = ", ".join(_EXACT[:-1]) + " and " + _EXACT[-1]  # the models with an exact log-density, as the refusal lists them

F64 = torch.float64
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # as _one_thread below, for runs in a subprocess


@pytest.fixture(autouse=True)
def _one_thread():
    """Chains are many small tensor operations, which a second thread only slows down
    (by tens of times on a loaded machine); the numbers do not depend on it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def known_gmm() -> GMM:
    """Three overlapping Gaussians, set directly (no fit), so the target is exactly known."""
    return GMM(3).load_state_dict({
        "weights_": torch.tensor([0.5, 0.3, 0.2], dtype=F64),
        "means_": torch.tensor([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.5]], dtype=F64),
        "covariances_": torch.tensor([[[0.3, 0.1], [0.1, 0.2]], [[0.25, -0.05], [-0.05, 0.3]], [[0.4, 0.0], [0.0, 0.15]]], dtype=F64),
        "log_likelihood_history_": torch.zeros(1, dtype=F64),
        "n_iter_": 0,
        "converged_": True,
    })


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def standard_normal(x: torch.Tensor) -> torch.Tensor:
    return -0.5 * x.square().sum(1)


# -- the differentiable densities ----------------------------------------------------------


@pytest.mark.parametrize("model", [
    KDE("gaussian", "scott"), KDE("gaussian", 0.05), KDE("exponential", 0.1), KDE("gaussian", "silverman"),
    GMM(4, seed=0), GMM(4, covariance_type="diag", seed=0), GMM(4, covariance_type="spherical", seed=0), GMM(4, covariance_type="tied", seed=0),
], ids=lambda m: f"{type(m).__name__}-{getattr(m, 'kernel', getattr(m, 'covariance_type', ''))}-{getattr(m, 'bandwidth', '')}")
def test_log_density_is_the_models_log_prob_with_a_finite_gradient(model):
    data = Moons(n_train=800, n_test=300, seed=1)
    model.fit(data.train)
    x = torch.cat([data.test, data.train[:50], 3 * torch.randn(50, 2, generator=gen(0))])  # near, on and far from the data
    expected = model.log_prob(x).double()
    x.requires_grad_(True)
    got = log_density(model)(x)
    (score,) = torch.autograd.grad(got.sum(), x)
    assert torch.allclose(got.double(), expected, rtol=1e-5, atol=1e-4)
    assert torch.isfinite(score).all()


def test_the_score_is_the_exact_gradient_of_a_gmm():
    gmm = known_gmm()
    x = torch.randn(20, 2, generator=gen(1), dtype=F64, requires_grad=True)
    (score,) = torch.autograd.grad(log_density(gmm)(x).sum(), x)
    step = 1e-6
    for k in range(2):
        shift = torch.zeros(2, dtype=F64)
        shift[k] = step
        numeric = (gmm.log_prob(x.detach() + shift) - gmm.log_prob(x.detach() - shift)) / (2 * step)
        assert torch.allclose(score[:, k], numeric, atol=1e-6)


def test_smallest_variance_is_the_narrowest_direction():
    # the first component's minor axis: eigenvalues of [[0.3, 0.1], [0.1, 0.2]] are 0.25 ± sqrt(0.0125)
    assert smallest_variance(known_gmm()) == pytest.approx(0.25 - math.sqrt(0.0125))
    kde = KDE("gaussian", 0.2).fit(torch.randn(100, 2, generator=gen(0)))
    assert smallest_variance(kde) == pytest.approx(0.04)


# -- the chains' laws ----------------------------------------------------------------------


def test_ula_on_a_standard_gaussian_has_the_known_variance_bias_and_mala_removes_it():
    """ULA on N(0, 1) is x' = (1 - eps) x + sqrt(2 eps) xi, whose stationary variance is
    1 / (1 - eps / 2): 1.4286 at eps = 0.6. MALA's correction brings it back to 1.
    40,000 chains from 0: the variance's standard error is about 1%."""
    x0 = torch.zeros(40_000, 1, dtype=F64)
    ula, _ = langevin_sample(standard_normal, x0, 0.6, 100, metropolis=False, generator=gen(0))
    mala, info = langevin_sample(standard_normal, x0, 0.6, 100, metropolis=True, generator=gen(0))
    assert ula.var().item() == pytest.approx(1 / (1 - 0.3), rel=0.03)  # measured 1.4353
    assert mala.var().item() == pytest.approx(1.0, rel=0.03)  # measured 0.99994
    assert abs(ula.mean().item()) < 0.025 and abs(mala.mean().item()) < 0.025  # 4 standard errors; measured 0.015, 0.002
    assert 0.8 < info["acceptance_rate"] < 1  # measured 0.896


def test_langevin_and_mala_from_noise_match_a_known_gmm_in_mmd():
    """1,000 chains of 1,000 steps from uniform noise on [-3, 3]^2, against 5,000 direct
    draws. Equally sized direct samples score up to 4.5e-4 (the largest over the four
    MMD bandwidths; seeds 0-8); the bound 1.5e-3 leaves room for the chains' unfinished
    mixing between modes (measured here: ULA 4e-6, MALA 1e-7; up to 7.4e-4 with other
    seeds). ULA with a step twice the smallest variance fails it 20 times over (0.032)."""
    gmm = known_gmm()
    reference = gmm.sample(5000, gen(100))
    bandwidths = mmd_bandwidths(reference)

    def worst_mmd(x):
        return max(mmd_rbf(x, reference, bandwidths).values())

    x0 = -3 + 6 * torch.rand(1000, 2, generator=gen(0), dtype=F64)
    direct = worst_mmd(gmm.sample(1000, gen(0)))
    ula, _ = langevin_sample(log_density(gmm), x0, 0.03, 1000, metropolis=False, generator=gen(1))
    mala, info = langevin_sample(log_density(gmm), x0, 0.15, 1000, metropolis=True, generator=gen(1))
    biased, _ = langevin_sample(log_density(gmm), x0, 0.3, 300, metropolis=False, generator=gen(1))
    assert direct < 1e-3
    assert worst_mmd(ula) < 1.5e-3, (worst_mmd(ula), direct)
    assert worst_mmd(mala) < 1.5e-3, (worst_mmd(mala), direct)
    assert worst_mmd(biased) > 3e-2  # measured 0.032 (0.031-0.036 over seeds)
    assert 0.7 < info["acceptance_rate"] < 0.9  # measured 0.786


def test_mala_acceptance_falls_as_the_step_grows():
    gmm = known_gmm()
    x0 = gmm.sample(500, gen(3))  # already at the target: the rate of the stationary chain
    rates = [langevin_sample(log_density(gmm), x0, eps, 100, metropolis=True, generator=gen(4))[1]["acceptance_rate"] for eps in (0.01, 0.03, 0.1, 0.3, 1.0)]
    assert all(later < earlier for earlier, later in zip(rates, rates[1:])), rates
    assert rates[0] > 0.97 and rates[-1] < 0.3, rates  # measured 0.996, 0.979, 0.878, 0.549, 0.150


def test_the_chain_is_reproducible_from_its_generator():
    gmm = known_gmm()
    x0 = torch.zeros(50, 2, dtype=F64)
    first, _ = langevin_sample(log_density(gmm), x0, 0.1, 20, metropolis=True, generator=gen(7))
    again, _ = langevin_sample(log_density(gmm), x0, 0.1, 20, metropolis=True, generator=gen(7))
    assert torch.equal(first, again)


def test_a_step_too_large_for_the_density_is_refused_by_name():
    with pytest.raises(ConfigError, match=r"step_size=3 is too large for this density: 100 of 100 Langevin chains ran away"):
        langevin_sample(standard_normal, torch.ones(100, 1, dtype=F64), 3.0, 2000, generator=gen(0))


@pytest.mark.parametrize("args,message", [
    ((-1, 10), "step_size must be a positive number or auto (got -1)"),
    (("big", 10), "step_size must be a positive number or auto (got 'big')"),
    ((0.1, 0), "n_steps must be a positive integer (got 0)"),
    ((0.1, 2.5), "n_steps must be a positive integer (got 2.5)"),
])
def test_settings_refuse_bad_values(args, message):
    with pytest.raises(ConfigError, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        LangevinSettings(*args)
    with pytest.raises(ConfigError, match="init must be one of noise, data"):
        LangevinSettings(0.1, 10, init="zeros")


# -- the command line ----------------------------------------------------------------------


def test_a_mala_run_writes_the_langevin_and_the_direct_samples(tmp_path):
    result = run_cli("model=gmm", "data=8gaussians", "model.n_components=8", "sampler=mala", "sampler.n_steps=50", "n_eval=500", "n_fresh=1000", cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    samples = json.loads((run_dir / "metrics.json").read_text())["samples"]
    assert set(samples) == {"n", "model", "langevin", "real_data", "memorizer", "mode_dropped", "blurred", "noise", "sampler"}
    sampler = samples["sampler"]
    assert sampler["name"] == "mala" and sampler["init"] == "noise" and sampler["auto_step_size"] is True and sampler["n_steps"] == 50
    # auto: a tenth of the narrowest component's variance, (0.02 / 1.414)^2 = 2e-4 as fitted
    assert 1e-5 < sampler["step_size"] < 3e-5 and 0.9 < sampler["acceptance_rate"] <= 1
    for quality in (samples["model"], samples["langevin"]):
        assert quality["mode_coverage"]["modes_captured"] == 8 and all(math.isfinite(v) for v in quality["mmd"].values())
    assert (run_dir / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("overrides,message", [
    (["sampler=langevin", "sampler.step_size=-1"], "sampler.step_size must be a positive number or auto (got -1)"),
    (["sampler=mala", "sampler.n_steps=0"], "sampler.n_steps must be a positive integer (got 0)"),
    (["sampler=langevin", "sampler.init=zeros"], "sampler.init must be one of noise, data (got 'zeros')"),
    (["sampler=mala", "sampler.name=hmc"], "sampler.name must be one of direct, langevin, mala (got 'hmc')"),
    (["model=wgan", "sampler=langevin"], "sampler must be direct for wgan (got 'langevin'): langevin and mala follow the gradient of an exact log-density, which only "
     + EXACT + " have"),
    (["model.kernel=tophat", "sampler=mala"], "model.kernel must be one of gaussian, exponential for sampler=mala (got 'tophat'): a compact kernel's density is 0 beyond its reach, where a Langevin chain has no gradient to follow"),
    # 8 components of variance 2e-4: each ULA step of 1 multiplies the distance to a mode by 5,000, to float32's overflow
    (["model=gmm", "data=8gaussians", "model.n_components=8", "sampler=langevin", "sampler.step_size=1", "sampler.n_steps=50", "n_eval=100", "n_fresh=100"],
     "sampler.step_size=1 is too large for this density: 100 of 100 Langevin chains ran away to infinity; take a smaller one"),
])
def test_bad_sampler_input_gets_one_line_exit_2_and_no_folder(tmp_path, overrides, message):
    result = run_cli(*overrides, cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [f"genlab: error: {message}"]
    assert list((tmp_path / "outputs" / "runs").iterdir()) == []


def test_unknown_sampler_lists_the_choices(tmp_path):
    result = run_cli("sampler=nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["genlab: error: sampler=nope: no such option; sampler is one of direct, langevin, mala"]


# -- the lecture figure --------------------------------------------------------------------


def test_the_lecture_figure_runs_small_and_returns_finite_numbers(tmp_path):
    numbers = draw(tmp_path, "cpu", 0, n_train=200, n_test=300, n_components=4, n_chains=200, n_steps=40)
    assert (tmp_path / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for model in ("gmm", "kde"):
        assert set(numbers[model]["mmd"]) == {"direct", "langevin", "mala"}
        assert all(math.isfinite(v) for mmd in numbers[model]["mmd"].values() for v in mmd.values())
        assert 0 < numbers[model]["acceptance_rate"] <= 1 and numbers[model]["step_size"] > 0
    assert numbers["n_steps"] == 40 and numbers["n_chains"] == 200
    json.dumps(numbers)  # plain numbers, ready for metrics.json
