"""Fit a density, then sample it by Langevin dynamics: the lecture's aside, drawn.

A GMM and a Gaussian KDE (bandwidth 0.1: Scott's rule blurs the moons into one
cloud) are fitted to the two moons; each is then sampled three ways:
directly (its own exact sampler), by unadjusted Langevin dynamics (ULA) and by MALA,
the chains started from uniform noise over the data's box and driven by the autograd
score of the fitted log-density. The step is `step_fraction` times the model's smallest
variance: near 1 and above, ULA's samples are visibly over-dispersed (its stationary law
is not the model: for N(0, s^2) its variance is s^2 / (1 - eps / (2 s^2))), while MALA's
accept/reject step removes that bias at the price of the rejected moves. Each panel's
title holds the unbiased MMD^2 to held-out data, at 0.3 times their median distance.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from genlab.data import Moons
from genlab.metrics.samples import mmd_bandwidths, mmd_rbf
from genlab.models import GMM, KDE
from genlab.plots import style
from genlab.sampling import langevin_sample, log_density, smallest_variance, starting_points
from genlab.sampling.chains import DISPLAY_NAMES

TITLE_BANDWIDTH = 1  # index into the MMD bandwidths (0.1, 0.3, 1, 3 x median) shown in titles


def draw(
    run_dir: Path,
    device,
    seed: int,
    n_train: int = 1000,
    n_test: int = 2000,
    n_components: int = 8,
    kde_bandwidth: float = 0.1,
    n_chains: int = 1000,
    n_steps: int = 300,
    step_fraction: float = 1.5,
    init: str = "noise",
) -> dict:
    """Both models, each sampled directly, by ULA and by MALA from `n_chains` chains of
    `n_steps` steps; figure.png and the MMD of every sample to the held-out points."""
    start = time.perf_counter()
    data = Moons(n_train=n_train, n_test=n_test, seed=seed)
    train = data.train.to(device)
    bandwidths = mmd_bandwidths(data.test)
    generator = torch.Generator(train.device).manual_seed(seed)
    real = data.sample(n_chains, torch.Generator().manual_seed(seed + 1))
    numbers = {"real_data": {"mmd": mmd_rbf(real, data.test, bandwidths)}}
    models = {"gmm": GMM(n_components, seed=seed).fit(train), "kde": KDE("gaussian", kde_bandwidth).fit(train)}

    with plt.rc_context(style.RC):
        fig, axes = plt.subplots(len(models), 1 + len(DISPLAY_NAMES), figsize=(3.3 * (1 + len(DISPLAY_NAMES)), 3.3 * len(models)), sharex=True, sharey=True, squeeze=False)
    for row, (name, model) in zip(axes, models.items()):
        step_size = step_fraction * smallest_variance(model)
        x0 = starting_points(init, data, n_chains, generator, train.device)
        samples = {"direct": model.sample(n_chains, generator)}
        info = {}
        for sampler, metropolis in (("langevin", False), ("mala", True)):
            samples[sampler], info[sampler] = langevin_sample(log_density(model), x0, step_size, n_steps, metropolis, generator)
        mmd = {sampler: mmd_rbf(points, data.test, bandwidths) for sampler, points in samples.items()}
        numbers[name] = {
            "label": model.label,
            "step_size": step_size,
            "mmd": mmd,
            "acceptance_rate": info["mala"]["acceptance_rate"],
            "seconds": {sampler: run["seconds"] for sampler, run in info.items()},
        }
        _scatter(row[0], real, style.SAMPLE_COLOR, "data (fresh)", numbers["real_data"]["mmd"])
        for ax, (sampler, points) in zip(row[1:], samples.items()):
            title = f"{name.upper()}: {DISPLAY_NAMES[sampler]}"
            if sampler == "mala":
                title += f", {100 * numbers[name]['acceptance_rate']:.0f}% accepted"
            _scatter(ax, points, style.MODEL_COLOR, title, mmd[sampler])
        row[0].set_ylabel(f"{name.upper()}, ε = {step_size:.2g}\n$x_2$")
    lo, hi = (bound.tolist() for bound in data.bounds())
    axes[0][0].set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    fig.suptitle(f"Fit a density, then sample it by Langevin: {n_chains} chains × {n_steps} steps from {init}, ε = {step_fraction:g} × the model's smallest variance", fontsize=10)
    style.save(fig, run_dir / "figure.png")
    return {
        "data": data.name,
        "n_train": n_train,
        "n_test": n_test,
        "n_chains": n_chains,
        "n_steps": n_steps,
        "step_fraction": step_fraction,
        "init": init,
        "mmd_bandwidths": bandwidths,
        **numbers,
        "seconds": time.perf_counter() - start,
    }


def _scatter(ax, points: torch.Tensor, color: str, title: str, mmd: dict) -> None:
    shown = list(mmd.items())[TITLE_BANDWIDTH]
    points = points.detach().float().cpu().numpy()
    ax.scatter(points[:, 0], points[:, 1], s=2, color=color, alpha=0.5, linewidths=0)
    ax.set_title(f"{title}\nMMD² (bandwidth {shown[0]}) = {shown[1]:.1e}", fontsize=9)
    ax.set_xlabel("$x_1$")
