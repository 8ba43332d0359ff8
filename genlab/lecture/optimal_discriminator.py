"""The optimal discriminator and the Jensen-Shannon value (Goodfellow et al. 2014, Prop. 1, Thm. 1).

With the generator held fixed, V(f, g) = E_p ln f(x) + E_pg ln(1 − f(x)) is maximized
pointwise by f*(x) = p(x) / (p(x) + p_g(x)) ("r ↦ a ln r + b ln(1 − r) peaks at
a/(a + b)"), and V(f*, g) = 2·JS(p, p_g) − ln 4. Here p is genlab's mixture1d density
and the generator is the fixed map g(z) = μ + σz of z ~ N(0, 1), so p_g = N(μ, σ²)
is known. genlab's GAN discriminator (its MLP and its loss, −V computed from the
logit) is trained on fresh draws of both, full-sized batches, Adam with a cosine
decay: the lecture's step 1, "hold g fixed and optimize f", run to the end.

V is then computed without sampling noise, by the trapezoid rule on a fine grid
that holds both densities' mass to ~1e-12: at the trained f, at f*, and 2·JS − ln 4
from KL(p, m) + KL(p_g, m) with m = (p + p_g)/2. V(f*) and 2·JS − ln 4 are equal
in exact arithmetic (they differ by ln 2 (∫p + ∫p_g − 2)), so their difference is
the quadrature error (~1e-8); V(trained f) ≤ V(f*) always, its gap
∫ (p + p_g) KL(Bern f* ‖ Bern f) is how far training is from optimal.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch.nn.functional import softplus

from genlab.data import Mixture1D
from genlab.models import GAN
from genlab.plots import style
from genlab.plots.critic import CRITIC_COLOR

GRID = (-10.0, 12.0, 20001)  # integration grid: past 7 standard deviations of every component
SHOWN = (-5.0, 7.0)  # the x range drawn
CURVE_POINTS = 50  # integrated V recorded this many times during training


def draw(
    run_dir: Path,
    device,
    seed: int,
    generator_mean: float = 0.5,
    generator_std: float = 1.5,
    steps: int = 1500,
    batch_size: int = 2048,
    hidden: int = 64,
    depth: int = 2,
    lr: float = 3e-3,
) -> dict:
    """Train the discriminator for `steps` Adam steps on `batch_size` fresh draws of p and
    of p_g = N(generator_mean, generator_std²) each, then compare V(f) with V(f*) and 2·JS − ln 4."""
    data = Mixture1D(n_train=1, n_test=1, seed=seed)
    grid = torch.linspace(*GRID, dtype=torch.float64)
    log_p = data.log_prob(grid[:, None]).double()
    log_pg = torch.distributions.Normal(generator_mean, generator_std).log_prob(grid)

    gan, batch_values, curve = train_discriminator(data, generator_mean, generator_std, grid, log_p, log_pg, device, seed, steps, batch_size, hidden, depth, lr)
    log_f, log_1mf = log_discriminator(gan, grid)
    log_mixture = torch.logaddexp(log_p, log_pg)
    numbers = {
        "value_trained": value(log_p, log_pg, log_f, log_1mf, grid),
        "value_optimal": value(log_p, log_pg, log_p - log_mixture, log_pg - log_mixture, grid),
        "two_js_minus_ln4": two_js_minus_ln4(log_p, log_pg, grid),
    }
    numbers["optimal_minus_js"] = numbers["value_optimal"] - numbers["two_js_minus_ln4"]
    numbers["trained_gap"] = numbers["value_optimal"] - numbers["value_trained"]

    fig, axes = style.figure(ncols=3, width=4.4, height=3.7)
    shown = (grid >= SHOWN[0]) & (grid <= SHOWN[1])
    x = grid[shown].numpy()
    axes[0].plot(x, log_p[shown].exp().numpy(), "--", color=style.TRUE_COLOR, lw=1.4, label="data p (mixture1d)")
    axes[0].plot(x, log_pg[shown].exp().numpy(), color=style.MODEL_COLOR, lw=1.8, label=f"generator p_g = N({generator_mean:g}, {generator_std:g}²)")
    axes[0].set(title="The data and the fixed generator", xlabel="x", ylabel="density", xlim=SHOWN, ylim=(0, 1.4 * log_p.exp().max().item()))
    axes[0].legend(fontsize=8, loc="upper right")
    axes[1].plot(x, log_f[shown].exp().numpy(), color=CRITIC_COLOR, lw=2.5, label="trained discriminator f")
    axes[1].plot(x, (log_p - log_mixture)[shown].exp().numpy(), "--", color=style.TRUE_COLOR, lw=1.4, label="f* = p / (p + p_g)")
    axes[1].set(title="Trained f and the optimal f*", xlabel="x", ylabel="f(x) = P(real)", xlim=SHOWN, ylim=(0, 1.15))
    axes[1].legend(fontsize=8, loc="upper left")
    axes[2].plot(range(1, steps + 1), batch_values, color=style.REFERENCE_COLOR, lw=0.6, alpha=0.7, label=f"V on each batch ({batch_size:,} + {batch_size:,})")
    axes[2].plot(*zip(*curve), "o-", ms=3, color=CRITIC_COLOR, label="V(f) integrated")
    axes[2].axhline(numbers["two_js_minus_ln4"], ls="--", color=style.TRUE_COLOR, lw=1.2, label="2·JS(p, p_g) − ln 4")
    axes[2].axhline(-math.log(4), ls=":", color=style.TRUE_COLOR, lw=1, label="−ln 4 (JS = 0, p_g = p)")
    spread = abs(numbers["two_js_minus_ln4"] + math.log(4))
    axes[2].set(title="V(f, g) while f trains", xlabel="discriminator step", ylabel="nats", ylim=(-math.log(4) - 0.4 * spread, numbers["two_js_minus_ln4"] + 0.4 * spread))
    axes[2].legend(fontsize=7.5, loc="center right")
    rows = (("V(trained f)", "value_trained"), ("V(f*)", "value_optimal"), ("2·JS − ln 4", "two_js_minus_ln4"))
    table = "\n".join(f"{label:<13}= {numbers[key]:.6f}" for label, key in rows)
    axes[2].text(0.97, 0.05, table, transform=axes[2].transAxes, ha="right", va="bottom", family="monospace", fontsize=8, bbox=dict(facecolor="white", edgecolor="#cccccc"))
    style.save(fig, run_dir / "figure.png")
    return {"generator": {"mean": generator_mean, "std": generator_std}, "steps": steps, "batch_size": batch_size, **numbers}


def train_discriminator(data, generator_mean, generator_std, grid, log_p, log_pg, device, seed, steps, batch_size, hidden, depth, lr):
    """genlab's GAN discriminator trained alone; returns it, V on every batch and
    [(step, integrated V)] at CURVE_POINTS steps. Adam with its usual betas (0.9, 0.999),
    not the GAN's 0.5: with g fixed there is no adversarial oscillation to damp."""
    with torch.random.fork_rng(devices=[]):  # seeded weights, global RNG left as it was
        torch.manual_seed(seed)
        gan = GAN(hidden=hidden, depth=depth, lr=lr, betas=(0.9, 0.999)).build(1, device)
    optimizer, _ = gan.make_optimizers()
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    rng = torch.Generator().manual_seed(seed)
    batch_values, curve = [], []
    for step in range(steps):
        real = data.sample(batch_size, rng).to(device)
        fake = (generator_mean + generator_std * torch.randn(batch_size, 1, generator=rng)).to(device)
        loss, stats = gan.critic_loss(real, fake)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        batch_values.append(stats["value"].item())
        if (step + 1) % max(1, steps // CURVE_POINTS) == 0:
            curve.append((step + 1, value(log_p, log_pg, *log_discriminator(gan, grid), grid)))
    return gan, batch_values, curve


@torch.no_grad()
def log_discriminator(gan: GAN, grid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ln f and ln(1 − f) on the grid, from the logit as GAN's loss takes them."""
    logits = gan.critic(grid[:, None].to(gan.device, torch.float32))[:, 0].double().cpu()
    return -softplus(-logits), -softplus(logits)


def value(log_p, log_pg, log_f, log_1mf, grid) -> float:
    """V(f, g) = ∫ p ln f + p_g ln(1 − f) dx by the trapezoid rule."""
    return torch.trapezoid(log_p.exp() * log_f + log_pg.exp() * log_1mf, grid).item()


def two_js_minus_ln4(log_p, log_pg, grid) -> float:
    """2·JS(p, p_g) − ln 4 = KL(p, m) + KL(p_g, m) − ln 4, m = (p + p_g)/2, by the trapezoid rule."""
    log_m = torch.logaddexp(log_p, log_pg) - math.log(2)
    kl = torch.trapezoid(log_p.exp() * (log_p - log_m), grid) + torch.trapezoid(log_pg.exp() * (log_pg - log_m), grid)
    return kl.item() - math.log(4)
