"""The generator's samples at a few steps of training, each over the data, on the same
axes: how the sample spreads out, finds the modes, or collapses and hops between them."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt

from genlab.plots import style

DATA_COLOR = "#b0b0b0"  # the training data, faint behind the samples
MAX_PER_ROW = 6
PANEL = 2.6  # inches per panel


def plot_snapshots(snapshots: list[dict], data, label: str, path: Path) -> Path | None:
    """Write snapshots.png, one panel per {"step", "samples"} of the training history
    (None when there are none, or for data other than 1D or 2D)."""
    if not snapshots or data.dim not in (1, 2):
        return None
    n = len(snapshots)
    nrows = 1 if n <= MAX_PER_ROW else 2
    ncols = math.ceil(n / nrows)
    with plt.rc_context(style.RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(PANEL * ncols, PANEL * nrows + 0.4), squeeze=False, sharex=True, sharey=data.dim == 2)
    lo, hi = (b.tolist() for b in data.bounds())
    real = data.train.numpy()
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_visible(False)
            continue
        snapshot = snapshots[i]
        samples = snapshot["samples"].detach().float().cpu().numpy()
        if data.dim == 1:
            window = (lo[0], hi[0])
            ax.hist(real[:, 0], bins=50, range=window, density=True, color=DATA_COLOR, alpha=0.6)
            ax.hist(samples[:, 0], bins=50, range=window, density=True, color=style.MODEL_COLOR, alpha=0.6)
            ax.set_xlim(*window)
        else:
            ax.scatter(real[:, 0], real[:, 1], s=2, color=DATA_COLOR, alpha=0.4, linewidths=0)
            ax.scatter(samples[:, 0], samples[:, 1], s=2, color=style.MODEL_COLOR, alpha=0.6, linewidths=0)
            ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
        ax.set_title(f"step {snapshot['step']}")
        row, col = divmod(i, ncols)
        if row == nrows - 1 or i + ncols >= n:  # the lowest panel of its column
            ax.set_xlabel("x" if data.dim == 1 else "$x_1$")
            ax.xaxis.set_tick_params(labelbottom=True)
        if col == 0:
            ax.set_ylabel("density" if data.dim == 1 else "$x_2$")
    fig.suptitle(f"{label} samples during training")
    return style.save(fig, path)
