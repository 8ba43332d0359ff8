"""The log-likelihood of a decoder model by annealed importance sampling (AIS), and its
accuracy by bidirectional Monte Carlo (BDMC).

A decoder model is a prior p(z) = N(0, I) and a likelihood p(x | z): a GAN or WGAN
generator g with Gaussian observation noise, ln p(x | z) = ln N(x; g(z), sigma^2 I)
(Wu et al. 2017, "On the quantitative analysis of decoder-based generative models"), or
the VAE's decoder with its own likelihood. AIS (Neal 2001) walks K chains per point
along the geometric path

    f_t(z) = q(z)^(1 - beta_t) (p(z) p(x | z))^beta_t,   0 = beta_0 < ... < beta_T = 1,

from the initial distribution q (the prior; for the VAE its encoder q(z | x)) to the
unnormalized posterior, with one Hamiltonian Monte Carlo transition per step. Chain k's
weight ln w_k = sum_t (beta_t - beta_{t-1}) [ln p(z) + ln p(x | z) - ln q(z)] at its state
z_{t-1} has E[w_k] = p(x), so ln (1/K) sum_k w_k is a stochastic lower bound on ln p(x)
(Jensen: its expectation is at most ln p(x), and it is rarely far above it).

BDMC (Grosse et al. 2015) measures how loose the bound is, on data simulated from the
model: x ~ p(x | z), z ~ p(z). That z is an exact sample of the posterior, so the chain
can also run backwards, from beta = 1 to 0, and -ln (1/K) sum_k w_rev_k is a stochastic
UPPER bound. The true ln p(x) lies between the two; their gap bounds the error of either.

Everything is batched: all points and chains of a block move at once, float32 on the
decoder's device, the log-weights accumulated in float64; autograd gives the gradients.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import torch

from genlab.errors import ConfigError, check_choice, check_positive
from genlab.metrics.standard_error import standard_error

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
SCHEDULES = ("sigmoid", "linear")
MAX_ROWS = 2048  # chains x points moved at once: MNIST decoders run fastest near this batch on 2 cores
# How each point's leapfrog step is set (see _log_weights): WARM_UP transitions at beta = 0,
# on q alone (no decoder), adapt it to q; a pilot chain on every PILOT_STRIDE-th beta then
# adapts it along the path, ln(step) += ADAPT_RATE (average - target) after each
# transition, `average` the moving average (ACCEPTANCE_SLOWNESS) of its acceptance
# probability, within STEP_SIZE_RANGE (Wu et al.'s bounds). The K chains reuse the pilot's
# steps, each transition's times U(1 - STEP_JITTER, 1 + STEP_JITTER) (Neal 2011: random
# step sizes break the periodic trajectories that a fixed one gives on near-Gaussian
# posteriors). Measured on the linear-Gaussian check: without the jitter the log-weights'
# variance is about 1.6x, and Wu et al.'s slower x1.02 / x0.98 rule, on a path of a few
# thousand steps, lags behind the posterior's narrowing (3x the variance from a poor first step).
STEP_SIZE_RANGE = (1e-4, 0.5)
ACCEPTANCE_SLOWNESS = 0.9
ADAPT_RATE = 0.5
PILOT_STRIDE = 5  # a fifth of one chain's cost
WARM_UP = 100
STEP_JITTER = 0.5


@dataclass(frozen=True)
class AISSettings:
    """One AIS schedule: what every call uses unless given another.

    Args:
        n_steps: T, the intermediate distributions (and HMC transitions) per chain.
        n_chains: K, independent chains per point; the bound is ln of their mean weight.
        leapfrog_steps: L, leapfrog steps per HMC transition (Wu et al.: 10).
        step_size: where each point's step starts, before it is adapted to its initial
            distribution and then along the path by a pilot chain (see STEP_SIZE_RANGE's
            comment); the result barely depends on it.
        target_acceptance: the HMC acceptance the steps are adapted to.
        schedule: sigmoid (Grosse et al. 2015: beta_t = s(delta (2t/T - 1)) rescaled to
            [0, 1], dense at both ends, where the distributions change fastest) | linear.
        sigmoid_delta: delta of the sigmoid schedule (Grosse et al.: 4).

    Why these defaults. The cost is n_chains x n_steps x leapfrog_steps decoder passes with
    gradients per point, plus a fifth of one chain for the pilot: 11,000 here. That is what
    fits 1,000 MNIST test images of the default GAN generator (100-256-512-1024-784) in
    10 CPU-minutes on the machine it was sized on (9.3 there; 14.5 on a slower machine of the
    same kind, where every cheaper schedule tried broke the 0.05-nat accuracy: docs/ais.md;
    the VAE's decoder is 4x cheaper). Within that budget, measured on the linear-Gaussian
    check (10-dim latent, 50-dim data; docs/ais.md), mean error from the exact ln p(x) on
    2,000 points (standard error 0.007): acceptance 0.8, -0.044 (-0.050 on another seeded
    model); Wu et al.'s 0.65 (optimal for long trajectories), -0.058; 0.9, -0.048; with
    0.65, 5,000 steps of 1 leapfrog step -0.049, and 3,750 x 2 (1.5x the cost) -0.030. Wu
    et al. run far longer schedules (up to 10,000 steps x 16 chains of 10 leapfrog steps,
    on a GPU); pass an AISSettings with more n_steps for a tighter bound where time allows.
    """

    n_steps: int = 2500
    n_chains: int = 2
    leapfrog_steps: int = 2
    step_size: float = 0.1
    target_acceptance: float = 0.8
    schedule: str = "sigmoid"
    sigmoid_delta: float = 4.0

    def __post_init__(self):
        for name in ("n_steps", "n_chains", "leapfrog_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1 (got {value!r})")
        check_positive("step_size", self.step_size)
        check_positive("sigmoid_delta", self.sigmoid_delta)
        check_choice("schedule", self.schedule, SCHEDULES)
        t = self.target_acceptance
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t < 1:
            raise ConfigError(f"target_acceptance must be a number in (0, 1) (got {t!r})")

    def betas(self) -> torch.Tensor:
        """beta_0 = 0, ..., beta_T = 1, float64."""
        t = torch.linspace(0, 1, self.n_steps + 1, dtype=torch.float64)
        if self.schedule == "linear":
            return t
        delta = self.sigmoid_delta
        s = torch.sigmoid(delta * (2 * t - 1))
        lo, hi = 1 / (1 + math.exp(delta)), 1 / (1 + math.exp(-delta))
        betas = (s - lo) / (hi - lo)
        betas[0], betas[-1] = 0.0, 1.0
        return betas


DEFAULT = AISSettings()
# sigma of a GAN generator's noise is picked by a short schedule on a few validation images
SIGMA_GRID = tuple(torch.logspace(-2, 0, 7, dtype=torch.float64).tolist())  # 0.01 ... 1, x2.15 apart
SELECTION = AISSettings(n_steps=100, n_chains=1)
N_SELECTION = 100  # validation images behind the choice


@dataclass(frozen=True)
class Decoder:
    """p(x | z) under the prior z ~ N(0, I), as AIS needs it.

    Args:
        latent_dim, dim: sizes of z and of x (flattened pixels for images).
        log_likelihood: (x (rows, dim), z (rows, latent_dim)) -> ln p(x | z) per row,
            differentiable in z.
        sample: (z (rows, latent_dim), torch.Generator | None) -> x ~ p(x | z), for BDMC.
        encoder: None (AIS starts from the prior), or x -> (mean, log variance) of a
            diagonal Gaussian q(z | x) to start from (the VAE's encoder).
        name: what it is, for reports; sigma: the observation noise of a generator, and
            sigma_selection the grid's validation bounds behind it, when it was chosen.
        device: where its networks live; images are moved there.
    """

    latent_dim: int
    dim: int
    log_likelihood: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    sample: Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]
    encoder: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None
    name: str = "decoder"
    sigma: float | None = None
    sigma_selection: dict = field(default_factory=dict)
    device: torch.device | str = "cpu"


def gaussian_decoder(mean: Callable[[torch.Tensor], torch.Tensor], latent_dim: int, dim: int, sigma: float,
                     name: str = "generator", device="cpu") -> Decoder:
    """z -> g(z) with isotropic Gaussian noise: ln p(x | z) = ln N(x; g(z), sigma^2 I)."""
    sigma = check_positive("sigma", sigma)
    constant = dim * (math.log(sigma) + HALF_LOG_2PI)

    def log_likelihood(x, z):
        return -0.5 * ((x - mean(z).float()) / sigma).square().sum(-1) - constant

    def sample(z, generator=None):
        with torch.no_grad():
            out = mean(z).float()
            return out + sigma * torch.randn(out.shape, device=out.device, generator=generator)

    return Decoder(latent_dim, dim, log_likelihood, sample, name=name, sigma=sigma, device=device)


def linear_gaussian_decoder(weight: torch.Tensor, bias: torch.Tensor, sigma: float) -> Decoder:
    """x = W z + b + sigma eps, the model whose ln p(x) is known: see `linear_gaussian_log_prob`."""
    weight, bias = weight.float(), bias.float()
    return gaussian_decoder(lambda z: z @ weight.T + bias, weight.shape[1], weight.shape[0], sigma, name="linear-Gaussian")


def linear_gaussian_log_prob(weight: torch.Tensor, bias: torch.Tensor, sigma: float, x: torch.Tensor) -> torch.Tensor:
    """The exact ln p(x) = ln N(x; b, W W^T + sigma^2 I) per row, in float64."""
    weight, bias = weight.double(), bias.double()
    covariance = weight @ weight.T + sigma**2 * torch.eye(len(weight), dtype=torch.float64)
    return torch.distributions.MultivariateNormal(bias, covariance).log_prob(x.double())


def decoder_for(model, sigma: float | None = None, validation: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> Decoder:
    """The decoder of a fitted genlab model.

    VAE: its decoder's own likelihood (`decoder_log_prob`: Bernoulli for images, Gaussian
    for points) and its encoder as AIS's initial distribution. GAN/WGAN: the generator the
    model samples from (the moving average where there is one; batch norm with its running
    statistics) with Gaussian noise sigma; without sigma, the SIGMA_GRID value with the best
    bound on `validation` (see `choose_sigma`). A uniform latent on [-1, 1] is reached from
    N(0, I) by u -> 2 Phi(u) - 1, which leaves p(x) unchanged.
    """
    from genlab.models.adversarial import AdversarialModel  # lazily: the registry imports this module
    from genlab.models.vae import VAE

    if isinstance(model, VAE):
        if sigma is not None:
            raise ConfigError("sigma is for GAN/WGAN generators: the VAE's decoder has its own likelihood")
        model._check_fitted()
        return Decoder(model.latent_dim, model.dim, model.decoder_log_prob, _vae_sampler(model),
                       encoder=lambda x: tuple(t.detach() for t in model.encode(x)), name=f"VAE ({model.likelihood})",
                       device=model.device)
    if not isinstance(model, AdversarialModel):
        raise ConfigError(f"model must be a VAE, GAN or WGAN for AIS (got {type(model).__name__})")
    model.sample(1, torch.Generator(model.device).manual_seed(0))  # fitted, and the averaged generator's batch-norm statistics fresh
    mean = _generator_mean(model)
    if sigma is not None:
        return gaussian_decoder(mean, model.prior.dim, model.dim, sigma, name=model.label, device=model.device)
    if validation is None:
        raise ConfigError(f"sigma: the {model.label} generator needs an observation noise; pass sigma, or validation images to choose it")
    sigma, means = choose_sigma(mean, model.prior.dim, model.dim, validation, generator=generator, device=model.device)
    decoder = gaussian_decoder(mean, model.prior.dim, model.dim, sigma, name=model.label, device=model.device)
    return replace(decoder, sigma_selection=means)


def choose_sigma(mean: Callable[[torch.Tensor], torch.Tensor], latent_dim: int, dim: int, validation: torch.Tensor,
                 sigmas=SIGMA_GRID, settings: AISSettings = SELECTION, n: int = N_SELECTION,
                 generator: torch.Generator | None = None, device="cpu") -> tuple[float, dict]:
    """The sigma of the grid whose AIS bound on the first `n` validation images is highest
    (a short schedule: the ranking, not the value, matters), and each sigma's mean bound.
    Ties go to the first; only validation images are passed in, so the test split cannot
    influence the choice."""
    sigmas = [check_positive("sigma", float(s)) for s in sigmas]
    if not sigmas:
        raise ConfigError("sigmas must hold at least one noise level")
    images = torch.as_tensor(validation)[:check_positive("n", n, integer=True)]
    means = {}
    for s in sigmas:
        decoder = gaussian_decoder(mean, latent_dim, dim, s, device=device)
        means[s] = ais_log_likelihood(decoder, images, settings, generator)["mean"]
    best = max(sigmas, key=lambda s: (means[s], -sigmas.index(s)))
    return best, means


# -- the estimates -----------------------------------------------------------------------


def ais_log_likelihood(decoder: Decoder, images: torch.Tensor, settings: AISSettings = DEFAULT,
                       generator: torch.Generator | None = None) -> dict:
    """Forward AIS: a stochastic lower bound on ln p(x) of each image, in nats.

    `images`: (n, dim), or (n, c, h, w) with c h w = dim, finite. Returns mean and
    standard_error over the points, per_point (float64 CPU tensor, ln of the mean of the
    K chains' weights), the chains' mean acceptance rate and final step size, and the
    settings and seconds it took.
    """
    x = _check_images(decoder, images)
    _check_settings(settings)
    start = time.perf_counter()
    stats = _Stats()
    per_point = torch.cat([_log_mean_exp(_log_weights(decoder, block, settings, generator, stats)) for block in _blocks(x, settings)])
    return _report(per_point, settings, decoder, stats, time.perf_counter() - start)


def bdmc_gap(decoder: Decoder, n_points: int = 100, settings: AISSettings = DEFAULT,
             generator: torch.Generator | None = None) -> dict:
    """BDMC on `n_points` points simulated from the model (z ~ N(0, I), x ~ p(x | z)).

    Forward AIS gives the lower bound on each ln p(x); AIS run backwards from the
    simulating z (an exact posterior sample) gives an upper bound. Returns both reports
    ("lower", "upper", as `ais_log_likelihood`'s) and the gap upper - lower: its mean over
    points and standard error. A gap near 0 means that, on data like the model's own,
    the schedule's lower bound is tight.
    """
    n_points = check_positive("n_points", n_points, integer=True)
    _check_settings(settings)
    z = torch.randn(n_points, decoder.latent_dim, generator=generator).to(decoder.device)
    x = decoder.sample(z, generator).detach().float()
    start = time.perf_counter()
    lower_stats, upper_stats, lower, upper = _Stats(), _Stats(), [], []
    for rows in _blocks(torch.arange(n_points), settings):
        lower.append(_log_mean_exp(_log_weights(decoder, x[rows], settings, generator, lower_stats)))
        upper.append(-_log_mean_exp(_log_weights(decoder, x[rows], settings, generator, upper_stats, posterior=z[rows])))
    lower, upper = torch.cat(lower), torch.cat(upper)
    seconds = time.perf_counter() - start
    gap = upper - lower
    return {
        "lower": _report(lower, settings, decoder, lower_stats, None),
        "upper": _report(upper, settings, decoder, upper_stats, None),
        "gap": gap.mean().item(),
        "gap_standard_error": standard_error(gap),
        "per_point_gap": gap,
        "n_points": n_points,
        "simulated": x.cpu(),
        "seconds": seconds,
    }


# -- the chains --------------------------------------------------------------------------


class _Stats:
    """Acceptance rates and final step sizes over the blocks of one estimate."""

    def __init__(self):
        self.acceptance, self.step_size, self.rows = 0.0, 0.0, 0

    def add(self, acceptance: float, step_size: torch.Tensor) -> None:
        self.acceptance += acceptance * len(step_size)
        self.step_size += step_size.sum().item()
        self.rows += len(step_size)


def _log_weights(decoder: Decoder, x: torch.Tensor, settings: AISSettings, generator, stats: _Stats,
                 posterior: torch.Tensor | None = None) -> torch.Tensor:
    """The (K, n) float64 log-weights of K chains per row of x: forward from q, or, given an
    exact posterior sample per row, backward from it (the weights then estimate 1 / p(x)).

    A pilot chain per point first walks the path forward on every PILOT_STRIDE-th beta,
    adapting its step size to the target acceptance; the K chains then use the pilot's step
    sizes (jittered), fixed in advance. Adapting the K chains themselves, on their own
    acceptance, makes each transition depend on the chain's past, which biases the weights:
    measured on the linear-Gaussian model, +0.016 nats above ln p(x) on average, a "lower
    bound" above the truth. With the pilot every chain is an exact AIS chain.
    """
    q = _initial(decoder, x)
    betas = settings.betas()
    grid = list(range(0, settings.n_steps, PILOT_STRIDE)) + [settings.n_steps]
    first = _warm_up(decoder, x, q, settings, generator)
    _, pilot_steps, _ = _anneal(decoder, x, betas[grid].tolist(), q, settings, generator, steps=first, adapt=True)
    # the step of transition t (at beta_t): the pilot's nearest one
    lookup = torch.tensor([min(round(t / PILOT_STRIDE), len(pilot_steps) - 1) for t in range(settings.n_steps + 1)])
    steps = pilot_steps[lookup].repeat(1, settings.n_chains, 1)  # (T + 1, K n, 1)
    chains = settings.n_chains
    q = tuple(t.repeat(chains, 1) for t in q) if q is not None else None
    x = x.repeat(chains, 1)  # chain-major rows: row c n + i is chain c of point i
    betas = betas.tolist()
    if posterior is None:
        log_w, _, acceptance = _anneal(decoder, x, betas, q, settings, generator, steps=steps)
    else:  # transition t of the reversed path is at beta_{T - t}: the same step sizes, reversed
        log_w, _, acceptance = _anneal(decoder, x, betas[::-1], q, settings, generator, steps=steps.flip(0),
                                       start=posterior.repeat(chains, 1))
    stats.add(acceptance, steps[-1, :, 0])
    return log_w.view(chains, -1)


def _warm_up(decoder: Decoder, x: torch.Tensor, q, settings: AISSettings, generator) -> torch.Tensor:
    """Each point's step size for the initial distribution (beta = 0), from `settings.step_size`
    adapted over WARM_UP transitions that need no decoder: where q is the encoder's
    narrow Gaussian, the first steps start at its scale, not the prior's."""
    target = _Target(None, x, *(q if q is not None else (None, None)))
    z = torch.randn(len(x), decoder.latent_dim, generator=generator).to(x.device)
    state = target.evaluate(z if q is None else q[0] + q[1] * z)
    step = torch.full((len(x), 1), settings.step_size, device=x.device)
    average = torch.full((len(x),), settings.target_acceptance, device=x.device)
    for _ in range(WARM_UP):
        state, probability = _hmc(target, state, 0.0, step, settings.leapfrog_steps, generator)
        average = ACCEPTANCE_SLOWNESS * average + (1 - ACCEPTANCE_SLOWNESS) * probability
        step = (step * torch.exp(ADAPT_RATE * (average - settings.target_acceptance))[:, None]).clamp(*STEP_SIZE_RANGE)
    return step


def _initial(decoder: Decoder, x: torch.Tensor):
    """None for the prior, or (mean, std) of the encoder's q(z | x), float32."""
    if decoder.encoder is None:
        return None
    with torch.no_grad():
        mean, log_var = decoder.encoder(x)
    return mean.detach().float(), torch.exp(0.5 * log_var.detach().float())


def _anneal(decoder: Decoder, x: torch.Tensor, betas: list[float], q, settings: AISSettings, generator,
            steps: torch.Tensor | None = None, adapt: bool = False, start: torch.Tensor | None = None):
    """One AIS run per row of x along `betas` (increasing from q, or decreasing from the
    posterior sample `start`): its float64 log-weights, and the (len(betas), rows, 1) step
    sizes of its transitions (row t: at betas[t]), given as `steps` or adapted, and the
    transitions' mean acceptance probability."""
    rows = len(x)
    if start is None:
        z = torch.randn(rows, decoder.latent_dim, generator=generator).to(x.device)
        if q is not None:
            z = q[0] + q[1] * z
    else:
        z = start.float()
    target = _Target(decoder, x, *(q if q is not None else (None, None)))
    state = target.evaluate(z)
    if adapt:  # `steps` holds the first transition's (rows, 1) step sizes
        steps = steps.expand(len(betas), rows, 1).clone()
        average = torch.full((rows,), settings.target_acceptance, device=x.device)
    log_w, accepted = torch.zeros(rows, dtype=torch.float64, device=x.device), 0.0
    for t in range(1, len(betas)):
        log_w += (betas[t] - betas[t - 1]) * target.log_ratio(state).double()
        if t == len(betas) - 1:
            break  # the last transition would not change any weight
        state, probability = _hmc(target, state, betas[t], steps[t], settings.leapfrog_steps, generator)
        if adapt:
            average = ACCEPTANCE_SLOWNESS * average + (1 - ACCEPTANCE_SLOWNESS) * probability
            factor = torch.exp(ADAPT_RATE * (average - settings.target_acceptance))
            steps[t + 1] = (steps[t] * factor[:, None]).clamp(*STEP_SIZE_RANGE)
        accepted += probability.mean().item()
    return log_w, steps, accepted / max(1, len(betas) - 2)


class _State:
    """A chain's position, ln p(x | z) there and its gradient in z (kept from step to step)."""

    __slots__ = ("z", "log_likelihood", "gradient")

    def __init__(self, z, log_likelihood, gradient):
        self.z, self.log_likelihood, self.gradient = z, log_likelihood, gradient


class _Target:
    """ln f_beta(z) = (1 - beta) ln q(z) + beta (ln p(z) + ln p(x | z)), for q the prior or the encoder's Gaussian."""

    def __init__(self, decoder, x, q_mean, q_std):
        self.decoder, self.x, self.q_mean, self.q_std = decoder, x, q_mean, q_std

    def evaluate(self, z: torch.Tensor) -> _State:
        if self.decoder is None:  # beta = 0 only: the decoder is not needed
            return _State(z.detach(), torch.zeros(len(z), device=z.device), torch.zeros_like(z))
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            log_likelihood = self.decoder.log_likelihood(self.x, z)
            (gradient,) = torch.autograd.grad(log_likelihood.sum(), z)
        return _State(z.detach(), log_likelihood.detach().float(), gradient.float())

    def _log_prior(self, z):
        return -0.5 * z.square().sum(-1)  # without -k/2 ln 2 pi, which ln q leaves out too: they cancel

    def _log_q(self, z):
        if self.q_mean is None:
            return self._log_prior(z)
        return (-0.5 * ((z - self.q_mean) / self.q_std).square() - self.q_std.log()).sum(-1)

    def log_ratio(self, state: _State) -> torch.Tensor:
        """ln p(z) + ln p(x | z) - ln q(z): the weight's increment per unit of beta."""
        if self.q_mean is None:
            return state.log_likelihood
        return self._log_prior(state.z) + state.log_likelihood - self._log_q(state.z)

    def potential(self, state: _State, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
        """U = -ln f_beta(z) and its gradient in z."""
        z = state.z
        if self.q_mean is None:
            return 0.5 * z.square().sum(-1) - beta * state.log_likelihood, z - beta * state.gradient
        u = -(1 - beta) * self._log_q(z) - beta * (self._log_prior(z) + state.log_likelihood)
        gradient = (1 - beta) * (z - self.q_mean) / self.q_std.square() + beta * (z - state.gradient)
        return u, gradient


def _hmc(target: _Target, state: _State, beta: float, step: torch.Tensor, leapfrog_steps: int, generator):
    """One HMC transition leaving f_beta invariant (unit mass, L leapfrog steps of each
    chain's own size), and each chain's acceptance probability."""
    momentum = torch.randn(state.z.shape, generator=generator).to(state.z.device)
    if STEP_JITTER:
        step = step * (1 + STEP_JITTER * (2 * torch.rand(step.shape, generator=generator).to(step.device) - 1))
    u0, gradient = target.potential(state, beta)
    h0 = u0 + 0.5 * momentum.square().sum(-1)
    p = momentum - 0.5 * step * gradient
    proposal = state
    for l in range(leapfrog_steps):
        proposal = target.evaluate(proposal.z + step * p)
        u, gradient = target.potential(proposal, beta)
        p = p - (step if l < leapfrog_steps - 1 else 0.5 * step) * gradient
    h = u + 0.5 * p.square().sum(-1)
    probability = torch.exp((h0 - h).clamp(max=0)).nan_to_num(0.0)  # a diverged proposal (NaN, inf) is refused
    accept = torch.rand(probability.shape, generator=generator).to(probability.device) < probability
    take = accept[:, None]
    new = _State(torch.where(take, proposal.z, state.z), torch.where(accept, proposal.log_likelihood, state.log_likelihood),
                 torch.where(take, proposal.gradient, state.gradient))
    return new, probability


# -- helpers -------------------------------------------------------------------------------


def _blocks(x: torch.Tensor, settings: AISSettings) -> list[torch.Tensor]:
    return list(x.split(max(1, MAX_ROWS // settings.n_chains)))


def _log_mean_exp(log_w: torch.Tensor) -> torch.Tensor:
    """ln (1/K) sum_k w_k over the chains (dim 0), float64 on the CPU."""
    return (torch.logsumexp(log_w, 0) - math.log(len(log_w))).cpu()


def _report(per_point: torch.Tensor, settings: AISSettings, decoder: Decoder, stats: _Stats, seconds) -> dict:
    report = {
        "mean": per_point.mean().item(),
        "standard_error": standard_error(per_point),
        "per_point": per_point,
        "n_points": len(per_point),
        "initial": "encoder" if decoder.encoder is not None else "prior",
        "acceptance": stats.acceptance / max(1, stats.rows),
        "step_size": stats.step_size / max(1, stats.rows),
        "settings": dict(settings.__dict__),
    }
    if decoder.sigma is not None:
        report["sigma"] = decoder.sigma
    if seconds is not None:
        report["seconds"] = seconds
    return report


def _check_settings(settings) -> None:
    if not isinstance(settings, AISSettings):
        raise ConfigError(f"settings must be an AISSettings (got {type(settings).__name__})")


def _check_images(decoder: Decoder, images) -> torch.Tensor:
    """(n, dim) float32 on the decoder's device; refuses other shapes, integers and NaN."""
    x = torch.as_tensor(images).detach()
    if x.dim() > 2 and math.prod(x.shape[1:]) == decoder.dim:
        x = x.reshape(len(x), -1)
    if x.dim() != 2 or len(x) == 0 or x.shape[1] != decoder.dim:
        raise ConfigError(f"images must be a non-empty (n, {decoder.dim}) tensor, or images of {decoder.dim} pixels "
                          f"(got shape {tuple(x.shape)})")
    if not x.is_floating_point():
        raise ConfigError(f"images must hold floating-point values (got {x.dtype})")
    if not torch.isfinite(x).all():
        raise ConfigError(f"images contains NaN or infinite values ({int((~torch.isfinite(x)).any(1).sum())} rows)")
    return x.float().to(decoder.device)


def _vae_sampler(model):
    def sample(z, generator=None):
        with torch.no_grad():
            out = model.decoder(z.to(model.dtype)).float()
            if model.likelihood == "bernoulli":
                return torch.bernoulli(torch.sigmoid(out), generator=generator)
            return out + torch.exp(model.decoder.log_std) * torch.randn(out.shape, device=out.device, generator=generator)
    return sample


def _generator_mean(model) -> Callable[[torch.Tensor], torch.Tensor]:
    """z ~ N(0, I) -> the sampling generator's output, in eval mode (batch norm's running statistics)."""
    network = model.generator if model.generator_ema is None else model.generator_ema
    uniform = model.prior.distribution == "uniform"

    def mean(z):
        if uniform:
            z = torch.special.ndtr(z) * 2 - 1
        was_training = network.training
        network.eval()
        try:
            return network(z.to(model.dtype)).reshape(len(z), -1)
        finally:
            network.train(was_training)

    return mean
