"""Langevin dynamics: sampling a density from its score alone.

The unadjusted chain (ULA) x <- x + eps * grad log p(x) + sqrt(2 eps) * xi, xi ~ N(0, I),
is the Euler step of the Langevin diffusion, whose stationary law is p; the step itself
biases it (for N(0, 1) the chain's variance is 1 / (1 - eps / 2), not 1). With
`metropolis`, each step is a proposal accepted with the Metropolis-Hastings probability
(MALA, Roberts & Tweedie 1996), which makes p exactly stationary at any step size, at
the price of rejected moves. The score comes from autograd, so any differentiable
log-density works.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from genlab.errors import ConfigError, check_choice, check_positive

INITS = ("noise", "data")  # uniform over the data's box, or training points drawn at random


@dataclass(frozen=True)
class LangevinSettings:
    """How a Langevin run is set up; checked on construction so bad values fail before any fit.

    step_size: eps, a positive number, or "auto": a tenth of the model's smallest
        variance (see genlab.sampling.log_density.smallest_variance), where ULA's bias
        on the narrowest component stays near 5%.
    """

    step_size: float | str
    n_steps: int
    metropolis: bool = False
    init: str = "noise"

    def __post_init__(self):
        if self.step_size != "auto":
            try:
                object.__setattr__(self, "step_size", check_positive("step_size", self.step_size))
            except ConfigError:
                raise ConfigError(f"step_size must be a positive number or auto (got {self.step_size!r})") from None
        object.__setattr__(self, "n_steps", check_positive("n_steps", self.n_steps, integer=True))
        check_choice("init", self.init, INITS)

    @property
    def name(self) -> str:
        return "mala" if self.metropolis else "langevin"


def langevin_sample(log_prob, x0: torch.Tensor, step_size: float, n_steps: int, metropolis: bool = False, generator: torch.Generator | None = None):
    """Run one chain per row of x0 for n_steps and return (final points, info).

    log_prob maps (n, d) points to (n,) differentiable log-densities (up to a constant).
    info holds step_size, n_steps, seconds and, with metropolis, acceptance_rate (the
    share of accepted proposals over all chains and steps). A ULA chain whose step is
    too large for the density runs away to infinity; that is refused, naming step_size.
    """
    step_size = check_positive("step_size", step_size)
    n_steps = check_positive("n_steps", n_steps, integer=True)
    start = time.perf_counter()
    x = x0.detach().clone()
    log_p, score = _log_prob_and_score(log_prob, x)
    noise_scale = math.sqrt(2 * step_size)
    accepted = torch.zeros((), dtype=torch.float64, device=x.device)
    for _ in range(n_steps):
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        proposal = x + step_size * score + noise_scale * noise
        if not metropolis:
            x = proposal
            log_p, score = _log_prob_and_score(log_prob, x)
            continue
        log_p_new, score_new = _log_prob_and_score(log_prob, proposal)
        log_ratio = (
            log_p_new
            - log_p
            + _log_proposal(x, proposal, score_new, step_size)  # back from the proposal
            - _log_proposal(proposal, x, score, step_size)  # there from x
        )
        finite = torch.isfinite(log_ratio) & torch.isfinite(score_new).all(1)
        uniform = torch.rand(len(x), generator=generator, dtype=x.dtype, device=x.device)
        accept = finite & (uniform.log() < log_ratio)
        x = torch.where(accept[:, None], proposal, x)
        log_p = torch.where(accept, log_p_new, log_p)
        score = torch.where(accept[:, None], score_new, score)
        accepted += accept.sum()
    runaway = int((~torch.isfinite(x).all(1)).sum())
    if runaway:
        raise ConfigError(f"step_size={step_size:g} is too large for this density: {runaway} of {len(x)} Langevin chains ran away to infinity; take a smaller one")
    info = {"step_size": step_size, "n_steps": n_steps, "seconds": time.perf_counter() - start}
    if metropolis:
        info["acceptance_rate"] = accepted.item() / (n_steps * len(x))
    return x, info


def _log_prob_and_score(log_prob, x: torch.Tensor):
    """log p(x) and grad log p(x) of every row, detached (the chain keeps no graph)."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        log_p = log_prob(x)
        (score,) = torch.autograd.grad(log_p.sum(), x)
    return log_p.detach(), score


def _log_proposal(to: torch.Tensor, frm: torch.Tensor, score_frm: torch.Tensor, step_size: float) -> torch.Tensor:
    """log q(to | frm) up to a constant: the Gaussian N(frm + eps * score(frm), 2 eps I)."""
    return -((to - frm - step_size * score_frm) ** 2).sum(1) / (4 * step_size)
