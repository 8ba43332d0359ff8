"""Pushforwards g#μ of μ = Uniform([0, 1]) (the lecture's first slides on generative networks).

Three maps of z ~ μ: the identity (μ to itself), z² (density 1/(2√x) on (0, 1]) and
the inverse Gaussian CDF Φ⁻¹ (the standard normal). Each panel is a histogram of
g(z) over the analytic density. Agreement is measured per panel as the total
variation between the histogram's bin shares and the exact bin probabilities
(differences of the pushforward's CDF), which stays finite at the 1/(2√x)
singularity, beside the TV that multinomial sampling noise alone gives on average.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from genlab.plots import style

# name -> (title, map g, exact density, exact CDF, histogram range)
PUSHFORWARDS = {
    "identity": ("g(z) = z: Uniform([0,1]) to itself", lambda z: z, lambda x: torch.ones_like(x), lambda x: x.clamp(0, 1), (0.0, 1.0)),
    "square": ("g(z) = z²: density 1/(2√x)", torch.square, lambda x: 0.5 / x.sqrt(), lambda x: x.clamp(0, 1).sqrt(), (0.0, 1.0)),
    "inverse_gaussian_cdf": (
        "g = Φ⁻¹: Uniform([0,1]) to N(0, 1)",
        torch.special.ndtri,
        lambda x: torch.exp(-0.5 * x**2) / math.sqrt(2 * math.pi),
        torch.special.ndtr,
        (-4.0, 4.0),
    ),
}


def draw(run_dir: Path, device, seed: int, n_samples: int = 200_000, bins: int = 50) -> dict:
    """Histograms of g(z) for `n_samples` draws z ~ Uniform([0, 1]) against g#μ's density."""
    z = torch.rand(n_samples, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    fig, axes = style.figure(ncols=len(PUSHFORWARDS), width=4.2, height=3.6)
    numbers = {}
    for ax, (name, (title, g, density, cdf, (lo, hi))) in zip(axes, PUSHFORWARDS.items()):
        x = g(z)
        edges = torch.linspace(lo, hi, bins + 1, dtype=torch.float64)
        shares = torch.histc(x, bins, lo, hi) / n_samples
        exact = cdf(edges).diff()
        numbers[name] = {
            "total_variation": total_variation(shares, exact),
            "expected_total_variation_from_sampling": expected_sampling_total_variation(exact, n_samples),
        }
        ax.stairs((shares * bins / (hi - lo)).numpy(), edges.numpy(), fill=True, color=style.SAMPLE_COLOR, alpha=0.45, label=f"histogram of g(z), n = {n_samples:,}")
        curve = torch.linspace(lo + 1e-4, hi, 600, dtype=torch.float64)
        ax.plot(curve.numpy(), density(curve).numpy(), "--", color=style.TRUE_COLOR, lw=1.4, label="density of g#μ")
        ax.set(title=title, xlabel="x = g(z)", ylabel="density", xlim=(lo, hi))
        ax.text(0.97, 0.74, f"TV = {numbers[name]['total_variation']:.4f}\n(noise ≈ {numbers[name]['expected_total_variation_from_sampling']:.4f})", transform=ax.transAxes, ha="right", fontsize=8)
    axes[1].set_ylim(0, 4.0)  # the z² histogram's first bar (≈ 7) is cut: 1/(2√x) is unbounded at 0
    axes[0].set_ylim(0, 1.6)
    axes[0].legend(fontsize=8, loc="upper left")
    style.save(fig, run_dir / "figure.png")
    return {"n_samples": n_samples, "bins": bins, **numbers}


def total_variation(shares: torch.Tensor, exact: torch.Tensor) -> float:
    """½ Σ |histogram share − exact bin probability|, the mass outside the bins counted as one more bin."""
    return 0.5 * ((shares - exact).abs().sum() + (exact.sum() - shares.sum()).abs()).item()


def expected_sampling_total_variation(exact: torch.Tensor, n: int) -> float:
    """E ½ Σ |N_i/n − p_i| for multinomial counts, by the normal approximation
    E|N_i/n − p_i| ≈ √(2 p_i (1 − p_i) / (π n)): the TV a perfect match still shows."""
    return 0.5 * (2 * exact * (1 - exact) / (math.pi * n)).sqrt().sum().item()
