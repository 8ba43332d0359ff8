"""One look for every genlab figure, so plots of different runs compare at a glance."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a screen
import matplotlib.pyplot as plt  # noqa: E402

from genlab.checkpoint import atomic_write  # noqa: E402

RC = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
}
DENSITY_CMAP = "magma"  # heat maps of a density
SAMPLE_COLOR = "#4c72b0"  # histograms and scatters of data
TRUE_COLOR = "black"  # the true density, dashed
REFERENCE_COLOR = "#8c8c8c"  # the kde of the sample, as the lecture's figures show it
MODEL_COLOR = "#dd5522"  # the model's own curve or samples


def figure(ncols: int = 1, width: float = 5.2, height: float = 4.0):
    """A new figure with `ncols` axes side by side, in genlab's style."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def save(fig, path: Path) -> Path:
    """Write the figure as PNG atomically and close it."""
    with plt.rc_context(RC):
        fig.tight_layout()
        atomic_write(Path(path), lambda handle: fig.savefig(handle, format="png"))
    plt.close(fig)
    return Path(path)
