"""pairs.png: for points of more than 2 coordinates, a pair plot of the data and the
model's samples over a few coordinates (data.plot_columns), the nearest a page comes to
density.png and samples.png in 2D: each pair's scatter, each coordinate's histogram."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from genlab.plots import style

PANEL = 2.4  # inches per pair


def plot_pairs(samples, data, path: Path, label: str, n: int = 2000) -> Path:
    """Lower triangle: the scatter of every pair of coordinates, the held-out data and the
    model's `samples` overlaid; diagonal: both histograms of each coordinate."""
    columns = data.plot_columns or list(range(min(data.dim, 4)))
    names = data.columns or [f"x{i + 1}" for i in range(data.dim)]
    real = data.test[:n, columns].numpy()
    fake = samples[: len(real)].detach().float().cpu()[:, columns].numpy()  # as many as the data shows, so density reads alike
    lo, hi = (bound[columns].numpy() for bound in data.bounds())
    k = len(columns)
    with plt.rc_context(style.RC):
        fig, axes = plt.subplots(k, k, figsize=(PANEL * k, PANEL * k + 0.6), squeeze=False)
    for row in range(k):
        for column in range(k):
            ax = axes[row][column]
            if column > row:
                ax.axis("off")
            elif column == row:
                for points, color in ((real, style.SAMPLE_COLOR), (fake, style.MODEL_COLOR)):
                    ax.hist(points[:, row], bins=40, range=(lo[row], hi[row]), density=True, color=color, alpha=0.5)
                ax.set_yticks([])
            else:
                for points, color in ((real, style.SAMPLE_COLOR), (fake, style.MODEL_COLOR)):
                    ax.scatter(points[:, column], points[:, row], s=2, color=color, alpha=0.4, linewidths=0)
                ax.set(xlim=(lo[column], hi[column]), ylim=(lo[row], hi[row]))
            if row == k - 1:
                ax.set_xlabel(names[columns[column]])
            if column == 0 and row > 0:
                ax.set_ylabel(names[columns[row]])
    fig.suptitle(f"held-out data (blue) and samples of {label} (orange), {k} of {data.dim} coordinates")
    return style.save(fig, path)
