"""Kernel density estimates with the lecture's two kernels at several bandwidths.

p̂(x) = 1/(n h) Σ k((x − x_i)/h) ("place bumps at every x_i"), with the Gaussian
k(u) ∝ exp(−u²/2) and the Epanechnikov k(u) ∝ max{0, 1 − u²}, fitted to one sample
of the mixture1d set and scored by the held-out log-likelihood (nats per point) of
a separate test sample, beside the true density's. genlab's bandwidth h is the
kernel's scale as written above (as scikit-learn's): the Epanechnikov's support
radius, so at equal h it is narrower than the Gaussian (its standard deviation is
h/√5). A compact kernel gives test points farther than h from every training point
density 0: their held-out log-likelihood is −inf, counted in `outside_support`.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import torch

from genlab.data import Mixture1D
from genlab.models import KDE
from genlab.plots import style

KERNEL_NAMES = {"gaussian": "Gaussian", "epanechnikov": "Epanechnikov"}
SWEEP_MARKERS = {"gaussian": ("-", "o"), "epanechnikov": ("-.", "s")}


def draw(
    run_dir: Path,
    device,
    seed: int,
    n_train: int = 500,
    n_test: int = 2000,
    bandwidths=(0.03, 0.3, 3.0),
    sweep_points: int = 30,
) -> dict:
    """KDEs at each of `bandwidths` and Scott's rule, and the held-out log-likelihood over
    a geometric sweep of `sweep_points` bandwidths spanning the ones drawn."""
    data = Mixture1D(n_train=n_train, n_test=n_test, seed=seed)
    train, test = data.train.to(device), data.test.to(device)
    true_ll = data.log_prob(data.test).double().mean().item()
    lo, hi = (float(v) for v in data.bounds())
    grid = torch.linspace(lo, hi, 800)[:, None]

    fig, axes = style.figure(ncols=3, width=4.6, height=3.8)
    colours = matplotlib.colormaps["viridis"]([0.1, 0.45, 0.8])
    numbers = {}
    for ax, kernel in zip(axes, KERNEL_NAMES):
        ax.hist(data.train[:, 0].numpy(), bins=60, range=(lo, hi), density=True, color=style.SAMPLE_COLOR, alpha=0.25, label=f"sample, n = {n_train}")
        true_density = data.log_prob(grid).exp()
        ax.plot(grid[:, 0].numpy(), true_density.numpy(), "--", color=style.TRUE_COLOR, lw=1.3, label="true density")
        scored = {}
        for h, colour in zip([*bandwidths, "scott"], [*colours, style.MODEL_COLOR]):
            kde = KDE(kernel=kernel, bandwidth=h).fit(train)
            h_value = kde.bandwidth_matrix_[0, 0].item() if h == "scott" else float(h)
            scored[str(h)] = {**held_out(kde, test), "bandwidth": h_value}
            label = f"Scott, h = {h_value:.2f}" if h == "scott" else f"h = {h_value:g}"
            ax.plot(grid[:, 0].numpy(), kde.log_prob(grid.to(device)).double().exp().cpu().numpy(), color=colour, lw=2.0 if h == "scott" else 1.0, label=label)
        numbers[kernel] = scored
        # Room above the true density for the legend; the smallest bandwidth's spikes may be cut.
        ax.set(title=f"Univariate sample, {KERNEL_NAMES[kernel]} kde", xlabel="x", ylabel="density", xlim=(lo, hi), ylim=(0, 1.9 * true_density.max().item()))
        ax.legend(fontsize=7.5, loc="upper right")

    sweep = torch.logspace(math.log10(min(bandwidths)), math.log10(max(bandwidths)), sweep_points).tolist()
    ax = axes[2]
    sweep_scores = {}
    for kernel in KERNEL_NAMES:
        sweep_scores[kernel] = [held_out(KDE(kernel=kernel, bandwidth=h).fit(train), test)["log_likelihood"] for h in sweep]
        line, marker = SWEEP_MARKERS[kernel]
        ax.plot(sweep, sweep_scores[kernel], line, marker=marker, ms=3, color=style.MODEL_COLOR, label=f"{KERNEL_NAMES[kernel]} (−inf not drawn)" if kernel == "epanechnikov" else KERNEL_NAMES[kernel])
        ax.plot(numbers[kernel]["scott"]["bandwidth"], numbers[kernel]["scott"]["log_likelihood"], marker="*", ms=12, color=style.MODEL_COLOR, ls="none")
    ax.axhline(true_ll, ls="--", color=style.TRUE_COLOR, lw=1.2, label="true density")
    ax.plot([], [], marker="*", ms=10, color=style.MODEL_COLOR, ls="none", label="Scott's rule")
    finite = [v for scores in sweep_scores.values() for v in scores if math.isfinite(v)]
    ax.set(xscale="log", title="Held-out log-likelihood vs bandwidth", xlabel="bandwidth h", ylabel="nats per test point", ylim=(min(finite) - 0.05, true_ll + 0.1))
    ax.legend(fontsize=8, loc="lower center")
    style.save(fig, run_dir / "figure.png")
    return {
        "n_train": n_train,
        "n_test": n_test,
        "true_held_out_log_likelihood": true_ll,
        "held_out": numbers,
        "sweep": {"bandwidths": sweep, **sweep_scores},
    }


def held_out(kde: KDE, test: torch.Tensor) -> dict:
    """Mean test log-likelihood in nats per point (−inf if any point is outside the support)."""
    values = kde.log_prob(test).double()
    return {"log_likelihood": values.mean().item(), "outside_support": torch.isneginf(values).double().mean().item()}
