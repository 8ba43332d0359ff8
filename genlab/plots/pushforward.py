"""The lecture's VAE figure: data points x_i and draws x^_i ~ g#mu_i from their encoded
distributions, so one sees how far the model's "reconstructions" stray from the data
(near each x_i for small lambda, spread out towards the prior's image at lambda = 1)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from genlab.errors import ConfigError
from genlab.plots import style

# Hollow, so draws that stay on their x_i (small lambda) show inside the circle.
DATA_MARKER = dict(s=22, facecolors="none", edgecolors=style.TRUE_COLOR, linewidths=0.7, label="data $x_i$", zorder=3)


def plot_pushforward(model, data, path: Path, n_points: int = 150, n_draws: int = 20, seed: int = 0) -> Path:
    """Write the figure for 1D or 2D data; images get reconstructions instead."""
    if data.dim not in (1, 2):
        raise ConfigError(f"the pushforward figure needs 1D or 2D points (data {data.name} has dim {data.dim})")
    rng = torch.Generator().manual_seed(seed)
    x = data.train[torch.randperm(len(data.train), generator=rng)[:n_points]]
    if data.dim == 1:
        x = x[x[:, 0].argsort()]
    draws = model.pushforward(x, n_draws, torch.Generator(model.device).manual_seed(seed)).cpu().numpy()
    colors = plt.get_cmap("viridis")(np.linspace(0, 1, len(x)))
    fig, (ax,) = style.figure(width=5.6, height=4.6)
    lo, hi = (b.numpy() for b in data.bounds())
    if data.dim == 2:
        for i, color in enumerate(colors):
            ax.scatter(draws[:, i, 0], draws[:, i, 1], s=4, color=color, alpha=0.45, linewidths=0)
        ax.scatter(x[:, 0], x[:, 1], **DATA_MARKER)
        ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="$x_1$", ylabel="$x_2$")
    else:
        rows = np.arange(len(x))
        for i, color in enumerate(colors):
            ax.scatter(draws[:, i, 0], np.full(n_draws, i), s=4, color=color, alpha=0.45, linewidths=0)
        ax.scatter(x[:, 0], rows, **DATA_MARKER)
        ax.set(xlim=(lo[0], hi[0]), xlabel="x", ylabel="point i (sorted by $x_i$)")
    ax.scatter([], [], s=8, color=colors[len(colors) // 2], label=r"$\hat x_i \sim g\#\mu_i$")
    ax.set_title(rf"{model.label}, $\lambda$ = {model.kl_weight:g}: $x_i$ and {n_draws} draws $\hat x_i \sim g\#\mu_i$")
    ax.legend(fontsize=8, loc="upper right")
    return style.save(fig, path)
