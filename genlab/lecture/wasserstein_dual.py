"""The Wasserstein dual in 1D: critics under each of genlab's Lipschitz methods against the exact W1.

Kantorovich-Rubinstein: W1(p, q) = sup over 1-Lipschitz f of E_p f − E_q f (the WGAN
objective, Arjovsky et al. 2017, eq. 3). In 1D it is also ∫ |F_p − F_q| dx, exact
from the sorted samples (genlab.metrics.samples.wasserstein_1d), and an optimal
critic is f*(x) = ∫^x sign(F_q − F_p) dt. genlab's WGAN critic (its MLP and loss) is
trained on two fixed samples, the generator held fixed, once per method:

  clip: weights clamped to [−c, c] bound the Lipschitz constant far below 1, so the
        critic estimates K·W1 with an unknown K ≪ 1: clipping underestimates, by
        orders of magnitude here (the lecture's "‖f‖_Lip ≤ 1 only approximately
        enforced"); its shape can still be right, so it is also drawn rescaled;
  gp:   a soft penalty λ E(|f'| − 1)², which a steeper critic can pay for, so it
        overestimates by about W1²/(4λ) (slope s pays λ(s − 1)² to earn s·W1);
        λ = 10, the paper's, here: genlab's toy default 0.1 overestimates ~10×;
  sn:   each layer divided by its spectral norm, a true 1-Lipschitz bound.

q is N(2, 1), p's right component: a generator that has collapsed onto one mode, so
W1 = 0.4 × 3.5 (the lost mode's mass times its distance) and the optimal critic is a
line (F_q ≤ F_p everywhere). Where the optimal critic has to turn (q inside p, e.g.
generator_mean=0.5 generator_std=0.8, a V-shaped f*), gp's penalty is non-convex in
the slope: from a small random start the critic often keeps its initial slope's
sign and stays near 0, and sn's layer-wise bound is loose for a bent critic.
"""

from __future__ import annotations

from pathlib import Path

import numpy
import torch

from genlab.data import Mixture1D
from genlab.metrics.samples import wasserstein_1d
from genlab.models import WGAN
from genlab.models.wgan import LIPSCHITZ
from genlab.plots import style
from genlab.plots.critic import CRITIC_COLOR

METHOD_COLORS = {"clip": style.REFERENCE_COLOR, "gp": style.MODEL_COLOR, "sn": CRITIC_COLOR}
SECOND_SAMPLE_STREAM = 7919  # q's draws come from seed + this, a stream apart from p's


def draw(
    run_dir: Path,
    device,
    seed: int,
    n_samples: int = 2000,
    generator_mean: float = 2.0,
    generator_std: float = 1.0,
    steps: int = 1000,
    hidden: int = 64,
    depth: int = 2,
    gp_weight: float = 10.0,
    clip_value: float = 0.01,
    eval_every: int = 10,
) -> dict:
    """Train one critic per Lipschitz method for `steps` full-batch updates on the two fixed
    samples (each method's own optimizer and learning rate, as genlab's WGAN sets them)."""
    p = Mixture1D(n_train=n_samples, n_test=1, seed=seed).train
    q = generator_mean + generator_std * torch.randn(n_samples, 1, generator=torch.Generator().manual_seed(seed + SECOND_SAMPLE_STREAM))
    exact = wasserstein_1d(p, q)
    lo, hi = min(p.min(), q.min()).item(), max(p.max(), q.max()).item()
    grid = torch.linspace(lo, hi, 600)[:, None]

    critics, curves = {}, {}
    for method in LIPSCHITZ:
        critics[method], curves[method] = train_critic(method, p.to(device), q.to(device), seed, steps, hidden, depth, gp_weight, clip_value, eval_every)
    estimates = {method: curve[-1][1] for method, curve in curves.items()}

    fig, axes = style.figure(ncols=3, width=4.4, height=3.7)
    axes[0].hist(p[:, 0].numpy(), bins=60, range=(lo, hi), density=True, color=style.SAMPLE_COLOR, alpha=0.4, label=f"p: mixture1d, n = {n_samples}")
    axes[0].hist(q[:, 0].numpy(), bins=60, range=(lo, hi), density=True, color=style.MODEL_COLOR, alpha=0.35, label=f"q: N({generator_mean:g}, {generator_std:g}²), n = {n_samples}")
    axes[0].set(title=f"Two fixed samples, exact W1 = {exact:.3f}", xlabel="x", ylabel="density", xlim=(lo, hi))
    axes[0].legend(fontsize=8, loc="upper left")

    for method, curve in curves.items():
        shortfall = f" ≈ W1 / {exact / estimates[method]:.0f}" if method == "clip" else ""
        axes[1].plot(*zip(*curve), color=METHOD_COLORS[method], lw=1.5, label=f"{method}: {estimates[method]:.4g}{shortfall}")
    axes[1].axhline(exact, ls="--", color=style.TRUE_COLOR, lw=1.2, label=f"exact W1 = {exact:.4g}")
    axes[1].set(title="Critic's estimate E_p f − E_q f", xlabel="critic step", ylabel="estimate of W1", ylim=(-0.05 * exact, 1.35 * exact))
    axes[1].legend(fontsize=8, loc="center right")

    pooled = torch.cat([p, q])
    optimal = optimal_critic(p, q, grid)
    optimal_estimate = (optimal_critic(p, q, p).mean() - optimal_critic(p, q, q).mean()).item()  # = W1: the dual is attained
    axes[2].plot(grid[:, 0].numpy(), (optimal - optimal_critic(p, q, pooled).mean()).numpy(), "--", color=style.TRUE_COLOR, lw=1.4, zorder=5, label="exact f* = ∫ sign(F_q − F_p)")
    for method, critic in critics.items():
        values = critic.critic_value(grid.to(device)).cpu() - critic.critic_value(pooled.to(device)).mean().cpu()
        scale = exact / estimates[method] if method == "clip" else 1.0
        label = f"clip × {scale:.0f} (rescaled)" if method == "clip" else method
        axes[2].plot(grid[:, 0].numpy(), (scale * values).numpy(), color=METHOD_COLORS[method], lw=1.5, label=label)
    axes[2].set(title="Critics f(x), centred", xlabel="x", ylabel="f(x) − mean over both samples", xlim=(lo, hi))
    axes[2].legend(fontsize=8, loc="upper right")
    style.save(fig, run_dir / "figure.png")
    return {
        "exact_w1": exact,
        "optimal_critic_estimate": optimal_estimate,
        "estimates": estimates,
        "relative_error": {method: estimate / exact - 1 for method, estimate in estimates.items()},
        "gp_weight": gp_weight,
        "clip_value": clip_value,
        "steps": steps,
    }


def train_critic(method, p, q, seed, steps, hidden, depth, gp_weight, clip_value, eval_every):
    """A WGAN critic trained on the fixed samples; returns it and [(step, E_p f − E_q f)]."""
    with torch.random.fork_rng(devices=[]):  # seeded weights, global RNG left as it was
        torch.manual_seed(seed)
        wgan = WGAN(lipschitz=method, hidden=hidden, depth=depth, gp_weight=gp_weight, clip_value=clip_value).build(1, p.device)
    optimizer, _ = wgan.make_optimizers()
    rng = torch.Generator(p.device).manual_seed(seed)  # the penalty's interpolation weights
    curve = []
    for step in range(1, steps + 1):
        loss, _ = wgan.critic_loss(p, q, rng)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        wgan.after_critic_step()
        if step % eval_every == 0 or step == steps:
            curve.append((step, (wgan.critic_value(p).mean() - wgan.critic_value(q).mean()).item()))
    return wgan, curve


def optimal_critic(p: torch.Tensor, q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """f*(x) = ∫_{min}^{x} sign(F_q − F_p) dt with the empirical CDFs (exact: piecewise constant)."""
    knots = torch.cat([p[:, 0], q[:, 0]]).double().sort().values
    sign = torch.sign(empirical_cdf(q, knots[:-1]) - empirical_cdf(p, knots[:-1]))
    integral = torch.cat([torch.zeros(1, dtype=torch.float64), (sign * knots.diff()).cumsum(0)])
    return torch.from_numpy(numpy.interp(x[:, 0].double().numpy(), knots.numpy(), integral.numpy()))


def empirical_cdf(sample: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Share of the sample at or below each x."""
    return torch.searchsorted(sample[:, 0].double().sort().values, x, right=True) / len(sample)
